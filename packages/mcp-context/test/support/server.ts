import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import {
  authContext,
  type BearerAuthOptions,
  type RateLimiterLike,
  rateLimit,
  requireScopes,
  type TokenVerifier,
  type ToolScopes,
} from '../../src/index.js';
import { bearerAuth, protectedResourceMetadataMiddleware } from '../../src/node/index.js';
import { protectTools } from '../../src/sdk-v1/index.js';

export const TOOL_SCOPES: ToolScopes = { secure_operation: ['admin'] };

export function text(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** The MCP server under test: the guide's tools, written with this package. */
export function createMcpServer(
  options: { toolScopes?: ToolScopes; limiter?: RateLimiterLike; hide?: boolean } = {},
): McpServer {
  const server = new McpServer({ name: 'portcullis-test', version: '1.0.0' });
  if (options.toolScopes) {
    protectTools(server, {
      toolScopes: options.toolScopes,
      hideUnauthorizedTools: options.hide ?? true,
    });
  }
  server.registerTool('whoami', { description: 'The caller' }, async (extra) => {
    const ctx = authContext(extra);
    return {
      content: [
        {
          type: 'text',
          text: JSON.stringify({
            clientId: ctx.clientId,
            userId: ctx.userId,
            scopes: ctx.scopes,
            tokenLength: ctx.token.length,
            expiresAt: ctx.expiresAt,
            resource: ctx.resource?.href,
            claims: ctx.claims,
            dpopJkt: ctx.dpopJkt,
          }),
        },
      ],
    };
  });
  server.registerTool('read_data', { description: 'Needs read_data' }, async (extra) => {
    requireScopes(extra, 'read_data');
    return { content: [{ type: 'text', text: `data for ${authContext(extra).userId}` }] };
  });
  server.registerTool('secure_operation', { description: 'Needs admin' }, async (extra) => {
    return {
      content: [
        { type: 'text', text: `Secure operation completed for user ${authContext(extra).userId}` },
      ],
    };
  });
  server.registerTool('public_tool', { description: 'Anyone' }, async () => ({
    content: [{ type: 'text', text: 'This is accessible to everyone' }],
  }));
  const { limiter } = options;
  if (limiter) {
    server.registerTool('limited', { description: 'Rate limited' }, async (extra) => {
      await rateLimit(extra, limiter);
      return { content: [{ type: 'text', text: 'Operation completed' }] };
    });
  }
  return server;
}

export interface TestServer {
  url: string;
  resource: string;
  origin: string;
  close(): Promise<void>;
}

export interface StartOptions extends Partial<Omit<BearerAuthOptions, 'verifier' | 'resource'>> {
  /** Builds the verifier once the resource URL (with its port) is known. */
  verifier: (resource: string) => TokenVerifier;
  authorizationServers?: string[];
  /** Leave out express.json(), so bearerAuth reads the body itself. */
  rawBody?: boolean;
  /** Serve without auth at all (the bench's and tests' baseline). */
  noAuth?: boolean;
  limiter?: RateLimiterLike;
  /** The public URL of the MCP endpoint, when not this server's own (behind a proxy or balancer). */
  publicResource?: string;
}

/** Express + the SDK's stateless Streamable HTTP transport, on 127.0.0.1:0. */
export async function startServer(options: StartOptions): Promise<TestServer> {
  const app = express();
  const http: Server = createServer(app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const resource = options.publicResource ?? `${origin}/mcp`;
  const verifier = options.verifier(resource);
  const {
    rawBody,
    noAuth,
    authorizationServers,
    limiter,
    verifier: _v,
    publicResource: _p,
    ...auth
  } = options;

  app.use(
    protectedResourceMetadataMiddleware({
      resource,
      authorizationServers: authorizationServers ?? ['http://127.0.0.1:1'],
      scopesSupported: ['read', 'read_data', 'write', 'admin'],
      resourceName: 'Portcullis test server',
      ...(auth.dpop !== undefined ? { dpop: auth.dpop } : {}),
    }),
  );
  const handlers: express.RequestHandler[] = [];
  if (!rawBody) handlers.push(express.json());
  if (!noAuth) handlers.push(bearerAuth({ ...auth, verifier, resource }) as express.RequestHandler);
  app.all('/mcp', ...handlers, async (req, res) => {
    const server = createMcpServer({ toolScopes: auth.toolScopes, limiter });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  return {
    url: `${origin}/mcp`,
    resource,
    origin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections();
        http.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The real SDK client over HTTP, with a bearer token in every request. */
export async function connectHttpClient(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** A raw JSON-RPC POST, for status and header checks. */
export function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'Mcp-Protocol-Version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

export const callTool = (name: string, id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});

/**
 * Parses an RFC 6750 §3 challenge into its auth-params, strictly: every param must be a
 * quoted-string, separated by commas, so a badly escaped header fails the test.
 */
export function parseChallenge(header: string | null): {
  scheme: string;
  params: Record<string, string>;
} {
  if (!header) throw new Error('no WWW-Authenticate header');
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  const rest = space === -1 ? '' : header.slice(space + 1);
  const params: Record<string, string> = {};
  const param = /[ ]*([A-Za-z_][\w-]*)="((?:[^"\\]|\\.)*)"[ ]*(,|$)/y;
  let position = 0;
  while (position < rest.length) {
    param.lastIndex = position;
    const m = param.exec(rest);
    if (m === null) throw new Error(`unparsable challenge: ${header}`);
    if (Object.hasOwn(params, m[1]!)) throw new Error(`repeated param ${m[1]}: ${header}`);
    params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
    position = param.lastIndex;
  }
  return { scheme, params };
}
