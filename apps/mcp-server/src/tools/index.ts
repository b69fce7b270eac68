import { type McpServer, type RegisteredTool, requireScopes } from '@modelcontextprotocol/server';
import type { RateLimiter } from '@portcullis/rate-limit';
import { registerAuthenticatedTool } from './authenticated-tool.js';
import { registerProtectedTool } from './protected-tool.js';
import { registerPublicTool } from './public-tool.js';
import { registerRateLimitedTool } from './rate-limited-tool.js';
import { TOOL_SCOPES } from './scopes.js';
import { registerSecureOperation } from './secure-operation.js';
import { registerUserProfile } from './user-profile.js';

export interface ToolDeps {
  limiter: RateLimiter;
}

type ToolName = keyof typeof TOOL_SCOPES;

/** Registers every tool of this server. Add yours here (and its scopes in ./scopes.ts). */
export function registerTools(server: McpServer, deps: ToolDeps) {
  const tools: Record<ToolName, RegisteredTool> = {
    public_tool: registerPublicTool(server),
    authenticated_tool: registerAuthenticatedTool(server),
    protected_tool: registerProtectedTool(server),
    user_profile: registerUserProfile(server),
    secure_operation: registerSecureOperation(server),
    rate_limited_tool: registerRateLimitedTool(server, deps.limiter),
  };
  for (const [name, tool] of Object.entries(tools)) {
    const [first, ...rest]: readonly string[] = TOOL_SCOPES[name as ToolName];
    if (first !== undefined) tool.update({ scopeChallenge: requireScopes(first, ...rest) });
  }
}

export { SCOPES_SUPPORTED, TOOL_SCOPES } from './scopes.js';
