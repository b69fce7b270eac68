import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'rate-limit',
    include: ['test/**/*.test.ts'],
  },
});
