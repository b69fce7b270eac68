import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InsufficientScopeError } from './errors.js';
import { assertObject, assertStringArray, invalidType, invalidValue } from './lib/errors.js';
import { missingScopes } from './lib/scopes.js';
import type { ToolScopes } from './types.js';

export interface ProtectToolsOptions {
  /** Scopes per tool, the same object you give `bearerAuth`: `{ secure_operation: ['admin'] }`. */
  toolScopes: ToolScopes;
  /** Leave tools the caller's scopes do not cover out of `tools/list`; default true. */
  hideUnauthorizedTools?: boolean;
}

type AnyHandler = (
  request: { method: string; params?: unknown },
  extra: { authInfo?: { scopes?: string[] } },
) => unknown;

/**
 * Enforces per-tool scopes inside the MCP server, whatever the transport: a `tools/call` for
 * a tool the caller's scopes do not cover is answered with an `isError` result ("Insufficient
 * permissions: admin scope required") without running the tool, and `tools/list` leaves such
 * tools out (unless `hideUnauthorizedTools: false`). Over HTTP, `bearerAuth` with the same
 * `toolScopes` answers such a call earlier with the 403 step-up challenge
 * ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)); this covers in-memory
 * and stdio transports and hides tools. Works through the server's public
 * `setRequestHandler`, so call it before registering tools.
 *
 * @example
 * const server = new McpServer({ name: 'demo', version: '1.0.0' });
 * protectTools(server, { toolScopes: { secure_operation: ['admin'] } });
 * server.registerTool('secure_operation', {}, async () => ({ content: [] }));
 */
export function protectTools(server: McpServer | Server, options: ProtectToolsOptions): void {
  const inner = (
    typeof (server as McpServer).server === 'object' ? (server as McpServer).server : server
  ) as Server;
  if (typeof inner?.setRequestHandler !== 'function')
    throw invalidType('server', 'an McpServer or Server', server);
  assertObject(options, 'options');
  assertObject(options.toolScopes, 'toolScopes');
  const toolScopes = Object.fromEntries(
    Object.entries(options.toolScopes).map(([name, scopes]) => {
      assertStringArray(scopes, `toolScopes.${name}`);
      return [name, [...scopes]];
    }),
  );
  const hide = options.hideUnauthorizedTools ?? true;
  try {
    inner.assertCanSetRequestHandler('tools/list');
    inner.assertCanSetRequestHandler('tools/call');
  } catch {
    throw invalidValue(
      'server',
      'already has tool handlers: call protectTools before registering tools',
    );
  }

  const covers = (granted: string[] | undefined, tool: string): boolean => {
    const needed = Object.hasOwn(toolScopes, tool) ? toolScopes[tool] : undefined;
    return needed === undefined || missingScopes(granted ?? [], needed).length === 0;
  };

  const original = inner.setRequestHandler.bind(inner) as (
    schema: unknown,
    handler: AnyHandler,
  ) => void;
  const wrap =
    (handler: AnyHandler): AnyHandler =>
    async (request, extra) => {
      const granted = extra?.authInfo?.scopes;
      if (request.method === 'tools/call') {
        const name = (request.params as { name?: unknown } | undefined)?.name;
        if (typeof name === 'string' && !covers(granted, name)) {
          const error = new InsufficientScopeError(toolScopes[name] ?? []);
          return { content: [{ type: 'text', text: error.message }], isError: true };
        }
      }
      const result = await handler(request, extra);
      if (request.method === 'tools/list' && hide) {
        const list = result as { tools?: { name: string }[] };
        if (Array.isArray(list.tools)) {
          return { ...list, tools: list.tools.filter((tool) => covers(granted, tool.name)) };
        }
      }
      return result;
    };
  (inner as { setRequestHandler: unknown }).setRequestHandler = (
    schema: unknown,
    handler: AnyHandler,
  ) => original(schema, wrap(handler));
}
