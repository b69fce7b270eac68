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
