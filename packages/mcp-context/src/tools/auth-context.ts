import { AuthenticationRequiredError } from '../errors.js';
import type { AuthInfo, ToolAuthContext } from '../types.js';

type CarriedAuthInfo = (AuthInfo & { userId?: unknown }) | undefined;

/**
 * What a tool callback receives as its last argument, in either MCP SDK era: v1's `extra`
 * (`extra.authInfo`) or v2's `ctx` (`ctx.http.authInfo`).
 */
export interface WithAuthInfo {
  /** SDK 1.x (`@modelcontextprotocol/sdk`): the `extra` argument. */
  authInfo?: CarriedAuthInfo;
  /** SDK 2.x (`@modelcontextprotocol/server`): the `ctx` argument. */
  http?: { authInfo?: CarriedAuthInfo } | undefined;
}

/** The `AuthInfo` a tool's `extra` (v1) or `ctx` (v2) carries, if any. */
export function carriedAuthInfo(extra: WithAuthInfo | undefined): CarriedAuthInfo {
  return extra?.authInfo ?? extra?.http?.authInfo;
}

/**
 * The caller of a tool, from the last argument the MCP SDK passes to tool callbacks — v1's
 * `extra` (`extra.authInfo`) or v2's `ctx` (`ctx.http.authInfo`), set by `authenticate` or
 * `bearerAuth` through the transport: the guide's `ctx.client_id`, `ctx.scopes` and
 * `ctx.token`, with the OAuth client (`clientId`) and the user (`userId`, the token's `sub`)
 * kept apart. Throws `AuthenticationRequiredError` ("Authentication required") when the
 * request carries no auth, which the SDK returns to the client as an `isError` result
 * ([RFC 9068 §2.2](https://www.rfc-editor.org/rfc/rfc9068#section-2.2) for the claims).
 *
 * @example
 * server.registerTool('whoami', {}, async (ctx) => {
 *   const { userId, clientId, scopes } = authContext(ctx);
 *   return { content: [{ type: 'text', text: `${userId} via ${clientId}: ${scopes.join(' ')}` }] };
 * });
 */
export function authContext(extra: WithAuthInfo | undefined): ToolAuthContext {
  const info = carriedAuthInfo(extra);
  if (!info || typeof info.token !== 'string') throw new AuthenticationRequiredError();
  const claims = info.extra?.claims;
  const dpopJkt = info.extra?.dpopJkt;
  const context: ToolAuthContext = {
    clientId: info.clientId,
    userId: typeof info.userId === 'string' ? info.userId : undefined,
    scopes: [...(info.scopes ?? [])],
    token: info.token,
    expiresAt: info.expiresAt,
    resource: info.resource,
    claims:
      typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {},
  };
  if (typeof dpopJkt === 'string') context.dpopJkt = dpopJkt;
  return context;
}
