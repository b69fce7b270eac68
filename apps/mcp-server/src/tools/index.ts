import type { McpServer } from '@modelcontextprotocol/server';
import type { RateLimiter } from '@portcullis/rate-limit';
import type { Userinfo } from '../userinfo.js';
import { registerAuthenticatedTool } from './authenticated-tool.js';
import { registerProtectedTool } from './protected-tool.js';
import { registerPublicTool } from './public-tool.js';
import { registerRateLimitedTool } from './rate-limited-tool.js';
import { registerSecureOperation } from './secure-operation.js';
import { registerUserProfile } from './user-profile.js';

export interface ToolDeps {
  limiter: RateLimiter;
  /** The caller's email and name from the authorization server (AUTH_MODE=oauth). */
  userinfo?: Userinfo | undefined;
}

/** Registers every tool of this server. Add yours here (and its scopes in ./scopes.ts). */
export function registerTools(server: McpServer, deps: ToolDeps) {
  registerPublicTool(server);
  registerAuthenticatedTool(server);
  registerProtectedTool(server);
  registerUserProfile(server, deps.userinfo);
  registerSecureOperation(server);
  registerRateLimitedTool(server, deps.limiter);
}

export { IDENTITY_SCOPES, INITIAL_SCOPES, SCOPES_SUPPORTED, TOOL_SCOPES } from './scopes.js';
