import { defineConfig } from 'vitest/config';

// One Vitest project per workspace package; each package's own vitest.config.ts names it.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'internal/*'],
  },
});
