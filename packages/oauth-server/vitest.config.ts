import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'oauth-server',
    include: ['test/**/*.test.ts'],
  },
});
