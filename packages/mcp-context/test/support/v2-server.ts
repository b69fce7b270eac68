import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import {
  authContext,
  authenticate,
  type BearerAuthOptions,
  protectedResourceMetadataHandler,
  requireScopes,
  type TokenVerifier,
  type ToolScopes,
} from '../../src/index.js';
import { bearerAuth, type NodeRequest } from '../../src/node/index.js';
import { protectTools, scopeChallenge } from '../../src/sdk-v2/index.js';

/** The tools of `./server.ts`, written for SDK 2.x: each reads its caller from `ctx`. */
export function createV2Server(toolScopes: ToolScopes | undefined): McpServer {
  const server = new McpServer({ name: 'portcullis-v2-test', version: '1.0.0' });
  if (toolScopes) protectTools(server, { toolScopes });
  server.registerTool('whoami', { description: 'The caller' }, async (ctx) => {
    const caller = authContext(ctx);
    return {
      content: [
        {
          type: 'text',
          text: JSON.stringify({
            clientId: caller.clientId,
            userId: caller.userId,
            scopes: caller.scopes,
            tokenLength: caller.token.length,
            resource: caller.resource?.href,
            sub: caller.claims.sub,
            dpopJkt: caller.dpopJkt,
          }),
        },
      ],
    };
  });
  server.registerTool('read_data', { description: 'Needs read_data' }, async (ctx) => {
    requireScopes(ctx, 'read_data');
    return { content: [{ type: 'text', text: `data for ${authContext(ctx).userId}` }] };
  });
  server.registerTool('secure_operation', { description: 'Needs admin' }, async (ctx) => ({
    content: [
      { type: 'text', text: `Secure operation completed for user ${authContext(ctx).userId}` },
    ],
  }));
  server.registerTool(
    'challenged_operation',
    {
      description: 'Needs admin, by the SDK 2.x scope challenge',
      scopeChallenge: scopeChallenge('admin'),
    },
    async () => ({ content: [{ type: 'text', text: 'challenged operation completed' }] }),
  );
  return server;
}

export interface V2TestServer {
  url: string;
  origin: string;
  close(): Promise<void>;
}

export interface V2StartOptions extends Partial<Omit<BearerAuthOptions, 'verifier' | 'resource'>> {
  verifier: (resource: string) => TokenVerifier;
  authorizationServers: string[];
  /** `fetch`: authenticate() in front of handler.fetch; `node`: bearerAuth middleware + req.auth. */
  style: 'fetch' | 'node';
  /** Scopes protectTools enforces inside the server; default the guard's toolScopes. */
  serverToolScopes?: ToolScopes;
}

/** SDK 2.x's createMcpHandler on node:http (through @modelcontextprotocol/node), on 127.0.0.1:0. */
export async function startV2Server(options: V2StartOptions): Promise<V2TestServer> {
  const http: Server = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const url = `${origin}/mcp`;
  const { verifier, authorizationServers, style, serverToolScopes, ...rest } = options;
  const auth: BearerAuthOptions = { ...rest, verifier: verifier(url), resource: url };
  const mcp = createMcpHandler(() => createV2Server(serverToolScopes ?? auth.toolScopes));
  const metadata = protectedResourceMetadataHandler({
    resource: url,
    authorizationServers,
    scopesSupported: ['read', 'read_data', 'admin'],
  });

  if (style === 'fetch') {
    const handle = async (request: Request): Promise<Response> => {
      const served = metadata(request);
      if (served) return served;
      const result = await authenticate(request, auth);
      if ('response' in result) return result.response;
      const response = await mcp.fetch(request, {
        authInfo: result.authInfo,
        parsedBody: result.parsedBody,
      });
      for (const [name, value] of Object.entries(result.headers)) response.headers.set(name, value);
      return response;
    };
    http.on('request', toNodeHandler({ fetch: handle }));
  } else {
    const guard = bearerAuth(auth);
    const serve = toNodeHandler(mcp);
    const serveMetadata = toNodeHandler({
      fetch: async (request) => metadata(request) ?? new Response(null, { status: 404 }),
    });
    http.on('request', (req: NodeRequest, res) => {
      if (req.url?.startsWith('/.well-known/')) {
        void serveMetadata(req, res);
        return;
      }
      void guard(req, res, (error) => {
        if (error) {
          res.statusCode = 500;
          res.end();
          return;
        }
        // bearerAuth put the AuthInfo on req.auth (and the JSON body it read on req.body).
        void serve(req, res, req.body);
      });
    });
  }

  return {
    url,
    origin,
    close: async () => {
      await mcp.close();
      await new Promise<void>((resolve, reject) => {
        http.closeAllConnections();
        http.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
