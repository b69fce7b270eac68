import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { authContext, requireScopes } from '@portcullis/mcp-context';
import { json } from './context.js';

/** The guide's `user_profile`: the caller's identity and permissions. Needs `read`. */
export function registerUserProfile(server: McpServer) {
  server.registerTool(
    'user_profile',
    { description: "Gets the current user's profile.", annotations: { readOnlyHint: true } },
    async (extra) => {
      const ctx = authContext(extra);
      requireScopes(ctx, 'read');
      const claims = ctx.claims ?? {};
      return json({
        user: {
          id: ctx.userId ?? null,
          email: typeof claims.email === 'string' ? claims.email : null,
          name: typeof claims.name === 'string' ? claims.name : null,
        },
        client_id: ctx.clientId,
        permissions: ctx.scopes,
        expires_at: ctx.expiresAt ?? null,
      });
    },
  );
}
