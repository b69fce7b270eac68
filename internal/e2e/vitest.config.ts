import { defineProject } from 'vitest/config';

// Each file starts the built apps as child processes and drives them with real clients and
// Chromium: slow on a 2-core machine, hence the generous timeouts.
export default defineProject({
  test: {
    name: 'e2e',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    // In the root run: last, alone, once the package and app projects are done.
    sequence: { groupOrder: 2 },
  },
});
