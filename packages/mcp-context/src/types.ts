/**
 * A verified access token, in the shape both MCP SDK eras hand to request handlers (v1:
 * `extra.authInfo`; v2: `ctx.http.authInfo`): `token`, `clientId`, `scopes`, `expiresAt` in
 * seconds, `resource`, `extra`, plus the user the token was issued to. Declared here rather
 * than imported, so this entry needs neither SDK; every `AuthInfo` is assignable to the
 * `AuthInfo` of `@modelcontextprotocol/sdk` 1.x and of `@modelcontextprotocol/server` 2.x, so
 * it can be put on `req.auth` (v1) or passed as `{ authInfo }` (v2) as it is.
 *
 * The verifiers put the token's claims (JWT payload or introspection response) under
 * `extra.claims`.
 */
export interface AuthInfo {
  /** The bearer token as presented. */
  token: string;
  /** The OAuth client the token was issued to (`client_id`, else `azp`). */
  clientId: string;
  scopes: string[];
  /** Expiry, in seconds since the epoch. */
  expiresAt?: number | undefined;
  /** The RFC 8707 resource the token was issued for. */
  resource?: URL | undefined;
  /** The RFC 9728 metadata URL of the resource server that accepted the token (SDK v2). */
  resourceMetadataUrl?: string | undefined;
  /** Anything else the verifier knows; the verifiers put the token's claims under `claims`. */
  extra?: Record<string, unknown> | undefined;
  /** The resource owner: the JWT `sub`, the introspection `sub`, the stored token's user. */
  userId?: string | undefined;
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
  /**
   * With `Authorization: DPoP`: the thumbprint (RFC 7638) of the key the request proved it
   * holds, which is the token's `cnf.jkt` (RFC 9449). Absent for a Bearer token.
   */
  dpopJkt?: string;
}

/** Scopes per tool name: `{ secure_operation: ['admin'] }`. */
export type ToolScopes = Readonly<Record<string, readonly string[]>>;
