import type http from 'node:http';
import { toNodeHandler } from '@portcullis/oauth-server/node';
import { getServer, type Server } from './authorization-server';
import { getConfig } from './config';
import { describeError, log } from './log';
import { isStoreUnavailable } from './route-guard';
import { EVERY_RESPONSE } from './security-headers';

/** The issuer's path without its trailing slash ('' for an issuer at the root), read once. */
let issuerPrefix: string | undefined;
const prefixOf = () => {
  issuerPrefix ??= new URL(getConfig().issuer).pathname.replace(/\/$/, '');
  return issuerPrefix;
};

/**
 * `POST /token` (or `<issuer path>/token`), the one endpoint clients call all the time,
 * answered straight from Node's HTTP server: Next.js's routing, its Request/Response plumbing
 * and its per-request tracing cost the grant more CPU than the grant's own work (profile of
 * `next start` under the e2e token bench). The catch-all route (`app/[...oauth]/route.ts`)
 * would answer it the same: the library's token endpoint on the issuer's origin, the caller's
 * address from the same stamp and X-Forwarded-For, the headers of next.config.ts.
 */
export function isTokenRequest(req: http.IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const target = req.url ?? '';
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  if (path === '/token') return true;
  const prefix = prefixOf();
  return prefix !== '' && path === `${prefix}/token`;
}

type NodeHandler = ReturnType<typeof toNodeHandler>;
/** One Node handler per server (a server that failed to start is made again on a later request). */
const handlers = new WeakMap<Server, NodeHandler>();

/**
 * Answers a request `isTokenRequest` chose; never throws. The library's handler goes to
 * `toNodeHandler` as it is (not wrapped), which reads the body into one buffer and writes the
 * JSON answer itself, without undici's Request, web streams and Response: those were a fifth of
 * this process's CPU per grant (profile under the e2e token bench). The library answers every
 * failure of a grant itself (RFC 6749 §5.2 JSON, 503 when the store is out); what is left is
 * answered as `guardRoute` does for the catch-all route.
 */
export async function serveToken(req: http.IncomingMessage, res: http.ServerResponse) {
  try {
    let server: Server;
    try {
      server = await getServer();
    } catch (error) {
      log('error', 'store unavailable', { error: describeError(error) });
      return answer(res, 503, TEMPORARILY_UNAVAILABLE, { 'retry-after': '5' });
    }
    let handle = handlers.get(server);
    if (!handle) {
      handle = toNodeHandler(server.as.handle, { origin: new URL(server.config.issuer).origin });
      handlers.set(server, handle);
    }
    // As Next.js does before a route handler sees the request.
    if (req.headers['x-forwarded-for'] === undefined && req.socket.remoteAddress) {
      req.headers['x-forwarded-for'] = req.socket.remoteAddress;
    }
    // Re-based on the issuer as handleOAuthRequest does: `/token` is `<issuer path>/token`.
    const prefix = prefixOf();
    if (prefix !== '' && !req.url?.startsWith(`${prefix}/`)) req.url = `${prefix}${req.url}`;
    // The headers of next.config.ts; the library's own are added when it writes its answer.
    for (const { key, value } of EVERY_RESPONSE) res.setHeader(key, value);
    await handle(req, res, (error?: unknown) => {
      if (error === undefined) return void answer(res, 404, NOT_FOUND);
      const unavailable = isStoreUnavailable(error);
      log('error', unavailable ? 'store unavailable' : 'request failed', {
        method: 'POST',
        path: '/token',
        error: describeError(error),
      });
      if (unavailable) answer(res, 503, TEMPORARILY_UNAVAILABLE, { 'retry-after': '5' });
      else answer(res, 500, SERVER_ERROR);
    });
  } catch (error) {
    log('error', 'request failed', { method: 'POST', path: '/token', error: describeError(error) });
    answer(res, 500, SERVER_ERROR);
  }
}

const TEMPORARILY_UNAVAILABLE = JSON.stringify({
  error: 'temporarily_unavailable',
  error_description: 'The server cannot reach its store.',
});
const SERVER_ERROR = '{"error":"server_error"}';
const NOT_FOUND = '{"error":"not_found"}';

/** A JSON answer with the app's headers, unless one was already sent. */
function answer(
  res: http.ServerResponse,
  status: number,
  body: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  for (const { key, value } of EVERY_RESPONSE) res.setHeader(key, value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...extra,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
