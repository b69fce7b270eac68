import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'auth-server',
    include: ['test/**/*.test.ts'],
    // End-to-end files start `next start`, Chromium, oidc-provider and the Firebase emulator.
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Each e2e file boots its own servers; two at a time is what two cores can carry.
    fileParallelism: true,
    maxWorkers: 2,
    // In the root run: after the package projects, before the cross-app e2e project.
    sequence: { groupOrder: 1 },
  },
});
