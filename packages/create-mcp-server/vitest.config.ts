import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'create-mcp-server',
    include: ['test/**/*.test.ts'],
  },
});
