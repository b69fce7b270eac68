import type { McpServer, Server } from '@modelcontextprotocol/server';
import { type ProtectToolsOptions, protectToolsOf } from '../lib/protect-tools.js';

export type { ProtectToolsOptions } from '../lib/protect-tools.js';

/**
 * Enforces per-tool scopes inside an MCP SDK 2.x server (`@modelcontextprotocol/server`),
 * whatever the transport: a `tools/call` for a tool the caller's scopes (`ctx.http.authInfo`)
 * do not cover is answered with an `isError` result ("Insufficient permissions: admin scope
 * required") without running the tool, and `tools/list` leaves such tools out (unless
 * `hideUnauthorizedTools: false`). Over HTTP, `authenticate`/`bearerAuth` with the same
 * `toolScopes` answer such a call earlier with the 403 step-up challenge
 * ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)). Call it in your
 * server factory, before registering tools.
 *
 * @example
 * const handler = createMcpHandler(() => {
 *   const server = new McpServer({ name: 'demo', version: '1.0.0' });
 *   protectTools(server, { toolScopes: { secure_operation: ['admin'] } });
 *   server.registerTool('secure_operation', {}, async () => ({ content: [] }));
 *   return server;
 * });
 */
export function protectTools(server: McpServer | Server, options: ProtectToolsOptions): void {
  protectToolsOf(server, options);
}
