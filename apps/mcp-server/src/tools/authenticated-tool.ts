import type { McpServer } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';
import { z } from 'zod';
import { callerOf } from './caller.js';
import { json } from './context.js';

/** The guide's `authenticated_tool`: uses the caller's client id, user (or machine client) and scopes. */
export function registerAuthenticatedTool(server: McpServer) {
  server.registerTool(
    'authenticated_tool',
    {
      description: 'Fetches data for the authenticated user. Requires the read scope.',
      inputSchema: z.object({ param: z.string().max(1000) }),
      annotations: { readOnlyHint: true },
    },
    async ({ param }, ctx) => {
      const auth = authContext(ctx);
      const caller = callerOf(auth);
      // A machine client (client credentials) has no user: no user_id, and it says so.
      return json({
        result: `Data for ${caller.label}: ${param}`,
        user_id: caller.kind === 'user' ? caller.id : null,
        client_id: auth.clientId,
        ...(caller.kind === 'machine' ? { machine_client: true } : {}),
        scopes: auth.scopes,
      });
    },
  );
}
