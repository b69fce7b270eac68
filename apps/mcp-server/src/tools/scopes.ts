/**
 * The scopes each tool needs, declared once. The HTTP layer answers a `tools/call` the token's
 * scopes do not cover with a 403 step-up challenge before the tool runs, and the tools check
 * again themselves (defence in depth, as the guide advises).
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

export type ToolName = keyof typeof TOOL_SCOPES;

/** The scopes this server knows, for protected resource metadata (`scopes_supported`). */
export const SCOPES_SUPPORTED = ['read', 'write', 'admin'];

export function scopesFor(tool: ToolName): string[] {
  return [...TOOL_SCOPES[tool]];
}
