import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { type ProtectToolsOptions, protectToolsOf } from '../lib/protect-tools.js';

export type { ProtectToolsOptions } from '../lib/protect-tools.js';

/**
 * Enforces per-tool scopes inside an MCP SDK 1.x server, whatever the transport: a
 * `tools/call` for a tool the caller's scopes do not cover is answered with an `isError`
 * result ("Insufficient permissions: admin scope required") without running the tool, and
 * `tools/list` leaves such tools out (unless `hideUnauthorizedTools: false`). Over HTTP,
 * `bearerAuth`/`authenticate` with the same `toolScopes` answer such a call earlier with the
 * 403 step-up challenge ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1));
 * this covers in-memory and stdio transports and hides tools. Works through the server's
 * public `setRequestHandler`, so call it before registering tools.
 *
 * @example
 * const server = new McpServer({ name: 'demo', version: '1.0.0' });
 * protectTools(server, { toolScopes: { secure_operation: ['admin'] } });
 * server.registerTool('secure_operation', {}, async () => ({ content: [] }));
 */
export function protectTools(server: McpServer | Server, options: ProtectToolsOptions): void {
  protectToolsOf(server, options);
}
