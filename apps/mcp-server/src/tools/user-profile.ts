import type { McpServer } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';
import { json } from './context.js';

/** The guide's `user_profile`: the caller's identity and permissions. */
export function registerUserProfile(server: McpServer) {
  server.registerTool(
    'user_profile',
    { description: "Gets the current user's profile.", annotations: { readOnlyHint: true } },
    async (ctx) => {
      const { userId, clientId, scopes, expiresAt, claims } = authContext(ctx);
      return json({
        user: {
          id: userId ?? null,
          email: typeof claims.email === 'string' ? claims.email : null,
          name: typeof claims.name === 'string' ? claims.name : null,
        },
        client_id: clientId,
        permissions: scopes,
        expires_at: expiresAt ?? null,
      });
    },
  );
}
