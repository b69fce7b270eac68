import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerTools, type ToolDeps } from './tools/index.js';

export const SERVER_INFO = { name: 'portcullis-mcp-server', version: '0.1.0' };

/** A fresh MCP server with every tool registered; one per request in stateless mode. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer(SERVER_INFO, {
    instructions: 'Example tools showing each authentication pattern of the Portcullis guide.',
  });
  registerTools(server, deps);
  return server;
}
