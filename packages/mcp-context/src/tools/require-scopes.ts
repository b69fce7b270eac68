import { InsufficientScopeError } from '../errors.js';
import { assertString } from '../lib/errors.js';
import type { ToolAuthContext } from '../types.js';
import { authContext, type WithAuthInfo } from './auth-context.js';

/**
 * Inside a tool: throws `InsufficientScopeError` ("Insufficient permissions: read_data scope
 * required") unless the caller holds every scope given, which the MCP SDK returns as an
 * `isError` tool result. Takes the tool's `extra` or an `authContext(extra)`. The HTTP layer
 * (`toolScopes` in `bearerAuth`) checks before the tool runs; this is the check in the tool
 * itself, as RFC 6750 §3.1 `insufficient_scope` describes.
 *
 * @example
 * server.registerTool('read_data', {}, async (extra) => {
 *   requireScopes(extra, 'read_data');
 *   return { content: [{ type: 'text', text: await load(authContext(extra).userId) }] };
 * });
 */
export function requireScopes(ctx: ToolAuthContext | WithAuthInfo, ...scopes: string[]): void {
  for (const scope of scopes) assertString(scope, 'scope');
  const granted = new Set(isToolAuthContext(ctx) ? ctx.scopes : authContext(ctx).scopes);
  if (scopes.some((scope) => !granted.has(scope))) throw new InsufficientScopeError(scopes);
}

export function isToolAuthContext(value: unknown): value is ToolAuthContext {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as ToolAuthContext).scopes) &&
    typeof (value as ToolAuthContext).token === 'string' &&
    !('authInfo' in value)
  );
}
