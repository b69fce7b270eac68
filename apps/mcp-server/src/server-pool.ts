import type { McpRequestContext, McpServer } from '@modelcontextprotocol/server';

/** The per-connection client identity a server keeps (the SDK's own fields, reset on reuse). */
interface ClientIdentity {
  _clientCapabilities?: unknown;
  _clientVersion?: unknown;
}

interface ServerPoolOptions {
  /** Idle servers kept for reuse; more are built under load and dropped once idle. Default 64. */
  maxIdle?: number;
}

/**
 * The server factory for `createMcpHandler`, reusing instances for 2026-07-28 requests.
 *
 * Building an `McpServer` and registering its tools is most of the CPU a small request costs.
 * A 2026-07-28 request carries everything about its client in the request itself, so an idle
 * server can serve the next one, provided (1) its tool list is static, (2) the client identity
 * the SDK seeds from the request's `_meta` is cleared before reuse (the SDK only overwrites the
 * fields a request carries, so a request without `clientInfo` would otherwise see the previous
 * client's), and (3) it goes back only once its exchange is over (its transport closed).
 * Authentication never lives on the instance: the SDK hands each request's `authInfo` to the
 * tool through that request's context. A 2025-era request gets a new server every time: an
 * instance that served one is bound to that era.
 */
export function createServerPool(
  create: () => McpServer,
  { maxIdle = 64 }: ServerPoolOptions = {},
): (context: McpRequestContext) => McpServer {
  const idle: McpServer[] = [];

  const release = (server: McpServer) => {
    if (server.server.transport !== undefined || idle.length >= maxIdle) return;
    if (idle.includes(server)) return;
    idle.push(server);
  };

  const fresh = () => {
    const server = create();
    // The handler wraps this per exchange and calls it once the exchange's transport closed.
    server.server.onclose = () => release(server);
    return server;
  };

  return ({ era }) => {
    if (era !== 'modern') return create();
    const server = idle.pop();
    if (!server) return fresh();
    const identity = server.server as unknown as ClientIdentity;
    identity._clientCapabilities = undefined;
    identity._clientVersion = undefined;
    return server;
  };
}
