import { defineProject } from 'vitest/config';

// The packages are packed once per run (test/global-setup.ts) and every file here reads the
// same tarballs.
export default defineProject({
  test: {
    name: 'release',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // In the root run: after the package projects, beside the apps (a group shares one maxWorkers).
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
  },
});
