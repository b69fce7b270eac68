/**
 * The scopes each tool needs, declared once, here, as mcp-context's `toolScopes`: `bearerAuth`
 * answers a `tools/call` the token's scopes do not cover with a 403 step-up challenge before
 * the tool runs, and `protectTools` (in ../server.ts) refuses such a call inside the server
 * too, whatever way it arrived.
 *
 * To add a tool: create a file beside this one, register it in ./index.ts, and list its scopes here.
 */
export const TOOL_SCOPES = {
  public_tool: [],
  authenticated_tool: ['read'],
  protected_tool: [],
  user_profile: ['read'],
  secure_operation: ['admin'],
  rate_limited_tool: [],
} as const satisfies Record<string, readonly string[]>;

/** The scopes this server knows, for protected resource metadata (`scopes_supported`). */
export const SCOPES_SUPPORTED = ['read', 'write', 'admin'];

/**
 * OpenID Connect scopes `user_profile` reads the caller's email and name with (the authorization
 * server's userinfo endpoint answers for them). With AUTH_MODE=oauth they are in
 * `scopes_supported` and in the first challenge beside `read`, so a standard client asks for them
 * at sign-in; no tool requires them, so a step-up challenge keeps them only if the token has them.
 */
export const IDENTITY_SCOPES = ['openid', 'profile', 'email'];

/** What a client without a token is told to ask for first; tools needing more step up. */
export const INITIAL_SCOPES = ['read'];
