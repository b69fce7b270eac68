import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { authContext, requireScopes } from '@portcullis/mcp-context';
import { z } from 'zod';
import { json } from './context.js';

/** The guide's `authenticated_tool`: uses the caller's client id, user and scopes. Needs `read`. */
export function registerAuthenticatedTool(server: McpServer) {
  server.registerTool(
    'authenticated_tool',
    {
      description: 'Fetches data for the authenticated user. Requires the read scope.',
      inputSchema: { param: z.string().max(1000) },
      annotations: { readOnlyHint: true },
    },
    async ({ param }, extra) => {
      const ctx = authContext(extra);
      requireScopes(ctx, 'read');
      const userId = ctx.userId ?? ctx.clientId;
      return json({
        result: `Data for user ${userId}: ${param}`,
        user_id: userId,
        client_id: ctx.clientId,
        scopes: ctx.scopes,
      });
    },
  );
}
