import type {
  Client,
  InMemoryTransport,
  JSONRPCMessage,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/client';
import type { McpServer, Server } from '@modelcontextprotocol/server';
import { type TestAuth, testAuthInfo } from './connect-test-client.js';

/**
 * `connectTestClient` for MCP SDK 2.x: connects a `@modelcontextprotocol/client` `Client` to
 * an `@modelcontextprotocol/server` `McpServer` (or `Server`) in memory. With `auth`, every
 * request reaches the server with that `AuthInfo` through the SDK's own `InMemoryTransport`,
 * so tools see it as `ctx.http.authInfo` (and `authContext(ctx)`) exactly as over HTTP;
 * without it, requests are unauthenticated. Close the client when done.
 *
 * @example
 * const client = await connectTestClientV2(createServer(), { userId: 'alice', scopes: ['read_data'] });
 * const result = await client.callTool({ name: 'read_data', arguments: {} });
 * await client.close();
 */
export async function connectTestClientV2(
  server: McpServer | Server,
  auth?: TestAuth,
): Promise<Client> {
  // Loaded on use, so `./testing` loads without SDK 2.x installed.
  const { Client, InMemoryTransport } = await import('@modelcontextprotocol/client');
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  let transport: Transport = clientSide;
  if (auth !== undefined) {
    const authInfo = testAuthInfo(auth);
    const inner: InMemoryTransport = clientSide;
    const authenticated: Transport = {
      start: async () => {
        inner.onmessage = (message, extra) => authenticated.onmessage?.(message, extra);
        inner.onclose = () => authenticated.onclose?.();
        inner.onerror = (error) => authenticated.onerror?.(error);
        await inner.start();
      },
      send: (message: JSONRPCMessage, options?: TransportSendOptions) =>
        inner.send(message, { ...options, authInfo }),
      close: () => inner.close(),
    };
    transport = authenticated;
  }
  await server.connect(serverSide as Parameters<typeof server.connect>[0]);
  const client = new Client({ name: '@portcullis/mcp-context test client', version: '0.0.0' });
  await client.connect(transport);
  return client;
}
