import type { McpServer } from '@modelcontextprotocol/server';
import { authContext } from '@portcullis/mcp-context';
import type { Userinfo } from '../userinfo.js';
import { callerOf } from './caller.js';
import { json } from './context.js';

/**
 * The guide's `user_profile`: the caller's identity and permissions (`user: null` and
 * `machine_client` for a machine client's own token). Email and name come from
 * the token's claims when it carries them, else (for a grant with `openid`) from the
 * authorization server's userinfo endpoint; null when neither says.
 */
export function registerUserProfile(server: McpServer, userinfo?: Userinfo) {
  server.registerTool(
    'user_profile',
    { description: "Gets the current user's profile.", annotations: { readOnlyHint: true } },
    async (ctx) => {
      const auth = authContext(ctx);
      const { userId, clientId, scopes, expiresAt, claims, token } = auth;
      // A machine client (client credentials) has no profile: no user, no userinfo to ask.
      if (callerOf(auth).kind === 'machine') {
        return json({
          user: null,
          machine_client: { id: clientId },
          client_id: clientId,
          permissions: scopes,
          expires_at: expiresAt ?? null,
        });
      }
      let email = typeof claims.email === 'string' ? claims.email : undefined;
      let name = typeof claims.name === 'string' ? claims.name : undefined;
      if (email === undefined && name === undefined && userinfo) {
        ({ email, name } = (await userinfo({ token, userId, scopes })) ?? {});
      }
      return json({
        user: { id: userId ?? null, email: email ?? null, name: name ?? null },
        client_id: clientId,
        permissions: scopes,
        expires_at: expiresAt ?? null,
      });
    },
  );
}
