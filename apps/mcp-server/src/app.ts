import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  bearerAuth,
  corsHeaders,
  protectedResourceMetadataMiddleware,
  type TokenVerifier,
} from '@portcullis/mcp-context';
import type { RateLimiter } from '@portcullis/rate-limit';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { createMcpServer } from './server.js';
import { SCOPES_SUPPORTED, TOOL_SCOPES } from './tools/index.js';

export interface AppDeps {
  config: Config;
  verifier: TokenVerifier | undefined;
  limiter: RateLimiter;
  logger: Logger;
}

// Browser-based MCP clients: preflights answered, WWW-Authenticate exposed (bearerAuth does the same on /mcp).
function cors(req: Request, res: Response, next: NextFunction) {
  const preflight = req.method === 'OPTIONS';
  res.set(corsHeaders({ origin: req.headers.origin, preflight }));
  if (preflight) {
    res.sendStatus(204);
    return;
  }
  next();
}

/**
 * The HTTP app: protected resource metadata (RFC 9728) at the path-inserted and root well-known
 * URLs, `/healthz`, and the MCP endpoint behind bearer authentication. Stateless Streamable HTTP:
 * every POST gets a fresh server and transport, so any instance behind a load balancer can answer.
 */
export function createApp({ config, verifier, limiter, logger }: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(cors);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', authMode: config.authMode });
  });

  if (verifier) {
    app.use(
      protectedResourceMetadataMiddleware({
        resource: config.resource.href,
        authorizationServers: config.authMode === 'oauth' ? [config.issuer] : [],
        scopesSupported: SCOPES_SUPPORTED,
        resourceName: 'Portcullis example MCP server',
      }),
    );
  }

  const mcpPath = config.resource.pathname;
  const auth = verifier
    ? bearerAuth({
        verifier,
        resource: config.resource.href,
        toolScopes: TOOL_SCOPES,
        // What a client without a token should ask for first; tools needing more step up.
        challengeScopes: ['read'],
        // CORS is answered once, for every route, by the app-level middleware above.
        cors: false,
      })
    : (_req: Request, _res: Response, next: NextFunction) => next();

  app.post(mcpPath, express.json({ limit: '1mb' }), auth, async (req, res) => {
    const server = createMcpServer({ limiter });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      logger.error('mcp request failed', { error: String(error) });
      if (!res.headersSent) {
        res.status(500).json({
          jsonrpc: '2.0',
          error: { code: -32603, message: 'Internal server error' },
          id: null,
        });
      }
    }
  });

  // Stateless: no server-initiated stream and no session to delete.
  app.all(mcpPath, (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST, OPTIONS')
      .json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed.' },
        id: null,
      });
  });

  // A body that is not JSON is the client's mistake: 400 with a JSON-RPC parse error, never a 500.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = (error as { status?: number }).status;
    if (status && status >= 400 && status < 500) {
      res
        .status(status)
        .json({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
      return;
    }
    logger.error('unhandled error', { error: String(error) });
    res.status(500).json({
      jsonrpc: '2.0',
      error: { code: -32603, message: 'Internal server error' },
      id: null,
    });
  });

  return app;
}
