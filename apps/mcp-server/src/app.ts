import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { corsHeaders, type TokenVerifier } from '@portcullis/mcp-context';
import {
  bearerAuth,
  type NodeRequest,
  originGuardMiddleware,
  protectedResourceMetadataMiddleware,
} from '@portcullis/mcp-context/node';
import type { RateLimiter, ReplayStore } from '@portcullis/rate-limit';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { mcpNodeHandler } from './node-handler.js';
import { createMcpServer } from './server.js';
import { createServerPool } from './server-pool.js';
import { IDENTITY_SCOPES, INITIAL_SCOPES, SCOPES_SUPPORTED, TOOL_SCOPES } from './tools/index.js';
import { createUserinfo } from './userinfo.js';

interface AppDeps {
  config: Config;
  verifier: TokenVerifier | undefined;
  limiter: RateLimiter;
  logger: Logger;
  /** Where DPoP proofs are remembered (shared on Redis); default mcp-context's memory store. */
  replay?: ReplayStore | undefined;
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

/** The MCP SDK's limit on one message (4 MiB); a larger body is refused, not buffered. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The JSON body, read once here for everyone after (bearerAuth, the SDK), or why not. */
async function readJson(req: NodeRequest): Promise<{ value: unknown } | { status: 400 | 413 }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { status: 413 };
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) };
  } catch {
    return { status: 400 };
  }
}

/**
 * The HTTP app, a `node:http` request listener: protected resource metadata (RFC 9728) at the
 * path-inserted and root well-known URLs, `/healthz`, and the MCP endpoint behind bearer
 * authentication. Stateless: 2026-07-28 requests are served by a pool of reused servers,
 * 2025-era ones (2025-11-25, 2025-06-18) by a new server each through the SDK's stateless
 * fallback, so any instance behind a load balancer can answer any request.
 */
export function createApp({ config, verifier, limiter, logger, replay }: AppDeps): Listener {
  const mcpPath = config.resource.pathname;
  // One per app (its cache shared by the pooled servers): user_profile's email and name.
  const userinfo =
    config.authMode === 'oauth' ? createUserinfo({ issuer: config.issuer }) : undefined;
  // With an authorization server, the first sign-in also asks for the user's email and name
  // (OpenID Connect), which user_profile reads from its userinfo endpoint.
  const identity = config.authMode === 'oauth' ? IDENTITY_SCOPES : [];
  // MCP_DPOP: tokens bound to a client's key (RFC 9449), checked with a proof on every request.
  const dpop =
    config.dpop === 'off'
      ? undefined
      : { required: config.dpop === 'required', ...(replay ? { replay } : {}) };
  const metadata = verifier
    ? protectedResourceMetadataMiddleware({
        resource: config.resource.href,
        authorizationServers: config.authMode === 'oauth' ? [config.issuer] : [],
        scopesSupported: [...SCOPES_SUPPORTED, ...identity],
        resourceName: 'Portcullis example MCP server',
        ...(dpop ? { dpop } : {}),
      })
    : undefined;
  const auth = verifier
    ? bearerAuth({
        verifier,
        resource: config.resource.href,
        toolScopes: TOOL_SCOPES,
        // What a client without a token should ask for first; tools needing more step up.
        challengeScopes: [...INITIAL_SCOPES, ...identity],
        // CORS is answered once, for every route, below.
        cors: false,
        ...(dpop ? { dpop } : {}),
        // Its DNS-rebinding check (Origin, Host) runs first, with mcp-context's defaults.
      })
    : undefined;
  // Without auth, the same Origin/Host check on its own.
  const originGuard = verifier
    ? undefined
    : originGuardMiddleware({ resource: config.resource.href });
  const mcp = mcpNodeHandler(
    createMcpHandler(
      createServerPool(() => createMcpServer({ limiter, userinfo })),
      {
        onerror: (error) => logger.debug('mcp request refused', { error: error.message }),
      },
    ),
    (error) => logger.error('mcp request failed', { error: error.message }),
  );

  const serveMcp = async (req: NodeRequest, res: ServerResponse) => {
    if (req.method !== 'POST') {
      // Stateless: no server-initiated stream and no session to delete.
      sendJson(res, 405, rpcError(-32000, 'Method not allowed.'), { Allow: 'POST, OPTIONS' });
      return;
    }
    if (originGuard) {
      let allowed = false;
      originGuard(req, res, () => {
        allowed = true;
      });
      if (!allowed) return;
    }
    const body = await readJson(req);
    if ('status' in body) {
      // A body that is not JSON is the client's mistake: a JSON-RPC error, never a 500.
      const tooLarge = body.status === 413;
      sendJson(
        res,
        body.status,
        rpcError(tooLarge ? -32000 : -32700, tooLarge ? 'Payload too large' : 'Parse error'),
      );
      return;
    }
    req.body = body.value;
    if (auth) {
      // bearerAuth answers everyone it refuses itself, and calls next() for the rest.
      let outcome: { error: unknown } | undefined;
      const pending = auth(req, res, (error) => {
        outcome = { error };
      });
      // A token verified before is let through at once: no turn of the event loop to wait.
      if (!outcome) await pending;
      if (!outcome) return;
      if (outcome.error !== undefined) throw outcome.error;
    }
    await mcp(req, res, req.body, req.auth);
  };

  // Browser-based MCP clients: preflights answered, WWW-Authenticate exposed. Any origin may
  // call (bearer tokens, no cookies), so the headers are the same for every request.
  const cors = Object.entries(corsHeaders());
  const corsPreflight = Object.entries(corsHeaders({ preflight: true }));

  return (req, res) => {
    const preflight = req.method === 'OPTIONS';
    for (const [name, value] of preflight ? corsPreflight : cors) res.setHeader(name, value);
    if (preflight) {
      res.writeHead(204).end();
      return;
    }
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === mcpPath) {
      serveMcp(req, res).catch((error) => {
        logger.error('mcp request failed', { error: String(error) });
        if (!res.headersSent) sendJson(res, 500, rpcError(-32603, 'Internal server error'));
      });
      return;
    }
    if (path === '/healthz' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok', authMode: config.authMode });
      return;
    }
    const notFound = () => sendJson(res, 404, { error: 'not_found' });
    if (metadata) metadata(req, res, notFound);
    else notFound();
  };
}
