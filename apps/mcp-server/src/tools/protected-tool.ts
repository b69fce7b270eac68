import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { authContext } from '@portcullis/mcp-context';
import { json } from './context.js';

/** The guide's `protected_tool`: any valid bearer token, no particular scope. */
export function registerProtectedTool(server: McpServer) {
  server.registerTool(
    'protected_tool',
    { description: 'A tool protected by a bearer token.', annotations: { readOnlyHint: true } },
    async (extra) => {
      const ctx = authContext(extra);
      return json({ message: `Hello user ${ctx.userId ?? ctx.clientId}` });
    },
  );
}
