import type { McpServer } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';
import { z } from 'zod';
import { json } from './context.js';

/** The guide's `authenticated_tool`: uses the caller's client id, user and scopes. */
export function registerAuthenticatedTool(server: McpServer) {
  server.registerTool(
    'authenticated_tool',
    {
      description: 'Fetches data for the authenticated user. Requires the read scope.',
      inputSchema: z.object({ param: z.string().max(1000) }),
      annotations: { readOnlyHint: true },
    },
    async ({ param }, ctx) => {
      const { userId, clientId, scopes } = authContext(ctx);
      const user = userId ?? clientId;
      return json({
        result: `Data for user ${user}: ${param}`,
        user_id: user,
        client_id: clientId,
        scopes,
      });
    },
  );
}
