import { McpServer } from '@modelcontextprotocol/server';
import { protectTools } from '@portcullis/mcp-context/sdk-v2';
import { registerTools, TOOL_SCOPES, type ToolDeps } from './tools/index.js';

const SERVER_INFO = { name: 'portcullis-mcp-server', version: '0.1.0' };

/** A new MCP server with every tool registered. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer(SERVER_INFO, {
    instructions: 'Example tools showing each authentication pattern of the Portcullis guide.',
  });
  // The scopes of ./tools/scopes.ts, enforced inside the server too (bearerAuth refuses such
  // calls over HTTP first). Every tool stays listed, so a client knows what it may step up to.
  protectTools(server, { toolScopes: TOOL_SCOPES, hideUnauthorizedTools: false });
  registerTools(server, deps);
  return server;
}
