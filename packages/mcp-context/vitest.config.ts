import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'mcp-context',
    include: ['test/**/*.test.ts'],
  },
});
