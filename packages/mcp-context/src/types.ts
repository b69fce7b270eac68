import type { AuthInfo as SdkAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/**
 * A verified access token, in the shape the MCP SDK passes to request handlers as
 * `extra.authInfo` (`token`, `clientId`, `scopes`, `expiresAt` in seconds, `resource`,
 * `extra`), plus the user the token was issued to. Every `AuthInfo` is an SDK `AuthInfo`, so
 * it can be put on `req.auth` for the SDK's Streamable HTTP transport as it is.
 *
 * The verifiers put the token's claims (JWT payload or introspection response) under
 * `extra.claims`.
 */
export interface AuthInfo extends SdkAuthInfo {
  /** The resource owner: the JWT `sub`, the introspection `sub`, the stored token's user. */
  userId?: string;
}

/**
 * Checks a bearer token and describes it. Resolves only for a token this resource server
 * accepts; rejects with `InvalidTokenError` (401) for any other token and with
 * `VerifierUnavailableError` (503) when the authority cannot be reached.
 */
export type TokenVerifier = (token: string) => Promise<AuthInfo>;

/**
 * What a tool knows about its caller: the guide's `ctx.client_id`, `ctx.scopes` and
 * `ctx.token`, with the OAuth client and the user kept apart.
 */
export interface ToolAuthContext {
  /** The OAuth client the token was issued to (`client_id`, else `azp`). */
  clientId: string;
  /** The user the token was issued to (`sub`), when there is one. */
  userId: string | undefined;
  scopes: string[];
  /** The bearer token as presented, to call downstream APIs on the user's behalf. */
  token: string;
  /** Expiry, in seconds since the epoch, when known. */
  expiresAt: number | undefined;
  /** The RFC 8707 resource the token was issued for, when known. */
  resource: URL | undefined;
  /** The token's claims (JWT payload or introspection response); `{}` when there are none. */
  claims: Record<string, unknown>;
}

/** Scopes per tool name: `{ secure_operation: ['admin'] }`. */
export type ToolScopes = Readonly<Record<string, readonly string[]>>;
