import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { corsHeaders, type TokenVerifier } from '@portcullis/mcp-context';
import {
  bearerAuth,
  type NodeRequest,
  protectedResourceMetadataMiddleware,
} from '@portcullis/mcp-context/node';
import type { RateLimiter } from '@portcullis/rate-limit';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { createMcpServer } from './server.js';
import { createServerPool } from './server-pool.js';
import { SCOPES_SUPPORTED, TOOL_SCOPES } from './tools/index.js';

export interface AppDeps {
  config: Config;
  verifier: TokenVerifier | undefined;
  limiter: RateLimiter;
  logger: Logger;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const rpcError = (code: number, message: string) => ({
  jsonrpc: '2.0',
  error: { code, message },
  id: null,
});

/**
 * The HTTP app, a `node:http` request listener: protected resource metadata (RFC 9728) at the
 * path-inserted and root well-known URLs, `/healthz`, and the MCP endpoint behind bearer
 * authentication. Stateless: 2026-07-28 requests are served by a pool of reused servers,
 * 2025-era ones (2025-11-25, 2025-06-18) by a new server each through the SDK's stateless
 * fallback, so any instance behind a load balancer can answer any request.
 */
export function createApp({ config, verifier, limiter, logger }: AppDeps): Listener {
  const mcpPath = config.resource.pathname;
  const metadata = verifier
    ? protectedResourceMetadataMiddleware({
        resource: config.resource.href,
        authorizationServers: config.authMode === 'oauth' ? [config.issuer] : [],
        scopesSupported: SCOPES_SUPPORTED,
        resourceName: 'Portcullis example MCP server',
      })
    : undefined;
  const auth = verifier
    ? bearerAuth({
        verifier,
        resource: config.resource.href,
        toolScopes: TOOL_SCOPES,
        // What a client without a token should ask for first; tools needing more step up.
        challengeScopes: ['read'],
        // CORS is answered once, for every route, below.
        cors: false,
      })
    : undefined;
  const mcp = toNodeHandler(
    createMcpHandler(
      createServerPool(() => createMcpServer({ limiter })),
      {
        onerror: (error) => logger.debug('mcp request refused', { error: error.message }),
      },
    ),
    { onerror: (error) => logger.error('mcp request failed', { error: error.message }) },
  );

  const serveMcp = (req: NodeRequest, res: ServerResponse) => {
    if (req.method !== 'POST') {
      // Stateless: no server-initiated stream and no session to delete.
      sendJson(res, 405, rpcError(-32000, 'Method not allowed.'), { Allow: 'POST, OPTIONS' });
      return;
    }
    const run = () => void mcp(req, res, req.body);
    if (!auth) return run();
    auth(req, res, (error) => {
      if (error === undefined) return run();
      logger.error('authentication failed', { error: String(error) });
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, 'Internal server error'));
    });
  };

  return (req, res) => {
    const preflight = req.method === 'OPTIONS';
    // Browser-based MCP clients: preflights answered, WWW-Authenticate exposed.
    for (const [name, value] of Object.entries(
      corsHeaders({ origin: req.headers.origin, preflight }),
    ))
      res.setHeader(name, value);
    if (preflight) {
      res.writeHead(204).end();
      return;
    }
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === mcpPath) return serveMcp(req, res);
    if (path === '/healthz' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok', authMode: config.authMode });
      return;
    }
    const notFound = () => sendJson(res, 404, { error: 'not_found' });
    if (metadata) metadata(req, res, notFound);
    else notFound();
  };
}
