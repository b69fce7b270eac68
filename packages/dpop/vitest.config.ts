import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'dpop',
    include: ['test/**/*.test.ts'],
  },
});
