import { McpServer } from '@modelcontextprotocol/server';
import { registerTools, type ToolDeps } from './tools/index.js';

export const SERVER_INFO = { name: 'portcullis-mcp-server', version: '0.1.0' };

/** A new MCP server with every tool registered. */
export function createMcpServer(deps: ToolDeps): McpServer {
  const server = new McpServer(SERVER_INFO, {
    instructions: 'Example tools showing each authentication pattern of the Portcullis guide.',
  });
  registerTools(server, deps);
  return server;
}
