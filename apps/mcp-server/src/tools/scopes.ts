/**
 * The scopes each tool needs, declared once, here. The HTTP layer (`bearerAuth`'s
 * `toolScopes`) answers a `tools/call` the token's scopes do not cover with a 403 step-up
 * challenge before the tool runs, and each tool is registered with the SDK's scope challenge
 * from the same entry, so a call that reached the server some other way is refused too.
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
