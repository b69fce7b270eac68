import { InsufficientScopeError } from '../errors.js';
import { carriedAuthInfo, type WithAuthInfo } from '../tools/auth-context.js';
import type { ToolScopes } from '../types.js';
import { assertObject, assertStringArray, invalidType, invalidValue } from './errors.js';
import { coversScopes } from './scopes.js';

export interface ProtectToolsOptions {
  /** Scopes per tool, the same object you give `bearerAuth`: `{ secure_operation: ['admin'] }`. */
  toolScopes: ToolScopes;
  /** Leave tools the caller's scopes do not cover out of `tools/list`; default true. */
  hideUnauthorizedTools?: boolean;
}

type AnyHandler = (request: { method?: string; params?: unknown }, extra: WithAuthInfo) => unknown;

/** What both SDK eras' low-level `Server` offer: v1 registers by schema, v2 by method name. */
interface LowLevelServer {
  setRequestHandler(...args: unknown[]): void;
  assertCanSetRequestHandler(method: string): void;
}

/**
 * Wraps the `tools/list` and `tools/call` handlers an `McpServer` (or `Server`) of either SDK
 * era registers, through its public `setRequestHandler`: the handler is always the last
 * argument, and the request and the auth info are read by shape, so no SDK is imported.
 */
export function protectToolsOf(server: unknown, options: ProtectToolsOptions): void {
  const candidate = server as { server?: unknown } | null;
  const inner = (
    typeof candidate?.server === 'object' && candidate.server !== null ? candidate.server : server
  ) as LowLevelServer;
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

  const covers = (granted: readonly string[] | undefined, tool: string): boolean => {
    const needed = Object.hasOwn(toolScopes, tool) ? toolScopes[tool] : undefined;
    return needed === undefined || coversScopes(granted ?? [], needed);
  };

  const wrap =
    (handler: AnyHandler): AnyHandler =>
    async (request, extra) => {
      const granted = carriedAuthInfo(extra)?.scopes;
      if (request?.method === 'tools/call') {
        const name = (request.params as { name?: unknown } | undefined)?.name;
        if (typeof name === 'string' && !covers(granted, name)) {
          const error = new InsufficientScopeError(toolScopes[name] ?? []);
          return { content: [{ type: 'text', text: error.message }], isError: true };
        }
      }
      const result = await handler(request, extra);
      if (request?.method === 'tools/list' && hide) {
        const list = result as { tools?: { name: string }[] };
        if (Array.isArray(list.tools)) {
          return { ...list, tools: list.tools.filter((tool) => covers(granted, tool.name)) };
        }
      }
      return result;
    };
  const original = inner.setRequestHandler.bind(inner);
  inner.setRequestHandler = (...args: unknown[]) => {
    const last = args.length - 1;
    if (typeof args[last] === 'function') args[last] = wrap(args[last] as AnyHandler);
    original(...args);
  };
}
