import type { McpServer } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';
import { callerOf } from './caller.js';
import { json } from './context.js';

/** The guide's `protected_tool`: any valid bearer token, no particular scope. */
export function registerProtectedTool(server: McpServer) {
  server.registerTool(
    'protected_tool',
    { description: 'A tool protected by a bearer token.', annotations: { readOnlyHint: true } },
    async (ctx) => {
      return json({ message: `Hello ${callerOf(authContext(ctx)).label}` });
    },
  );
}
