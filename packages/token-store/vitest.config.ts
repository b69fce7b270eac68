import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'token-store',
    include: ['test/**/*.test.ts'],
  },
});
