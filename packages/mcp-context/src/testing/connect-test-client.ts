import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type {
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { AuthInfo } from '../types.js';

/** Who the test client is; every field has a default. */
export interface TestAuth {
  clientId?: string;
  userId?: string;
  scopes?: string[];
  /** Default: a random `test-…` token. */
  token?: string;
  /** Seconds since the epoch; default an hour from now. */
  expiresAt?: number;
  resource?: URL;
  /** Claims a tool reads through `authContext(extra).claims`. */
  claims?: Record<string, unknown>;
}

/** The `AuthInfo` a verifier would have produced for this test caller. */
export function testAuthInfo(auth: TestAuth): AuthInfo {
  const authInfo: AuthInfo = {
    token: auth.token ?? `test-${crypto.randomUUID()}`,
    clientId: auth.clientId ?? auth.userId ?? 'test-client',
    scopes: [...(auth.scopes ?? [])],
    expiresAt: auth.expiresAt ?? Math.floor(Date.now() / 1000) + 3600,
    extra: { claims: { ...(auth.claims ?? {}) } },
  };
  if (auth.userId !== undefined) authInfo.userId = auth.userId;
  if (auth.resource !== undefined) authInfo.resource = auth.resource;
  return authInfo;
}

/**
 * A client transport that sends every message with the given `authInfo`: the SDK's
 * `InMemoryTransport` delivers it to the server as `extra.authInfo`, as the HTTP transport
 * does for `req.auth`.
 */
class AuthenticatedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  constructor(
    private readonly inner: InMemoryTransport,
    private readonly authInfo: AuthInfo,
  ) {}

  async start(): Promise<void> {
    this.inner.onmessage = (message, extra) => this.onmessage?.(message, extra);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    await this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, { ...options, authInfo: this.authInfo });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Connects an SDK `Client` to an MCP server in memory. With `auth`, every request reaches
 * the server with that `AuthInfo` through the SDK's own transport, so tools see it as
 * `extra.authInfo` (and `authContext(extra)`) exactly as over HTTP; without it, requests
 * are unauthenticated. The guide's test client, without poking private fields.
 * Close the client when done; it closes the server's side too.
 *
 * @example
 * const client = await connectTestClient(createServer(), { userId: 'alice', scopes: ['read_data'] });
 * const result = await client.callTool({ name: 'read_data', arguments: {} });
 * await client.close();
 */
export async function connectTestClient(
  server: McpServer | Server,
  auth?: TestAuth,
): Promise<Client> {
  // Loaded on use, so `./testing` (and `createTestIssuer`) load without SDK 1.x installed.
  const [{ Client }, { InMemoryTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/inMemory.js'),
  ]);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  let transport: Transport = clientSide;
  if (auth !== undefined) transport = new AuthenticatedTransport(clientSide, testAuthInfo(auth));
  await server.connect(serverSide);
  const client = new Client({ name: '@portcullis/mcp-context test client', version: '0.0.0' });
  await client.connect(transport);
  return client;
}
