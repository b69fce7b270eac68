import { AuthenticationRequiredError } from './errors.js';
import type { AuthInfo, ToolAuthContext } from './types.js';

/** Anything carrying the SDK's `authInfo`: the `extra` a tool callback receives. */
export interface WithAuthInfo {
  authInfo?: (AuthInfo & { userId?: unknown }) | undefined;
}

/**
 * The caller of a tool, from the `extra` argument the MCP SDK passes to tool callbacks (its
 * `authInfo`, set by `bearerAuth`/`authenticate` through the transport): the guide's
 * `ctx.client_id`, `ctx.scopes` and `ctx.token`, with the OAuth client (`clientId`) and the
 * user (`userId`, the token's `sub`) kept apart. Throws `AuthenticationRequiredError`
 * ("Authentication required") when the request carries no auth, which the SDK returns to the
 * client as an `isError` result ([RFC 9068 §2.2](https://www.rfc-editor.org/rfc/rfc9068#section-2.2)
 * for the claims).
 *
 * @example
 * server.registerTool('whoami', {}, async (extra) => {
 *   const { userId, clientId, scopes } = authContext(extra);
 *   return { content: [{ type: 'text', text: `${userId} via ${clientId}: ${scopes.join(' ')}` }] };
 * });
 */
export function authContext(extra: WithAuthInfo | undefined): ToolAuthContext {
  const info = extra?.authInfo;
  if (!info || typeof info.token !== 'string') throw new AuthenticationRequiredError();
  const claims = info.extra?.claims;
  return {
    clientId: info.clientId,
    userId: typeof info.userId === 'string' ? info.userId : undefined,
    scopes: [...(info.scopes ?? [])],
    token: info.token,
    expiresAt: info.expiresAt,
    resource: info.resource,
    claims:
      typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {},
  };
}
