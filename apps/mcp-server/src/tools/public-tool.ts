import type { McpServer } from '@modelcontextprotocol/server';

/** The guide's `public_tool`: no authentication needed. */
export function registerPublicTool(server: McpServer) {
  server.registerTool(
    'public_tool',
    {
      description: 'A tool available without authentication.',
      annotations: { readOnlyHint: true },
    },
    async () => ({ content: [{ type: 'text', text: 'This is accessible to everyone' }] }),
  );
}
