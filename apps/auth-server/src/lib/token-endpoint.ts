import type http from 'node:http';
import { Readable } from 'node:stream';
import { getConfig } from './config';
import { describeError, log } from './log';
import { handleOAuthRequest } from './oauth-route';
import { guardRoute } from './route-guard';
import { EVERY_RESPONSE } from './security-headers';

const handle = guardRoute(handleOAuthRequest);

/**
 * `POST /token` (or `<issuer path>/token`), the one endpoint clients call all the time: the
 * same handler as the catch-all route (`app/[...oauth]/route.ts`: `guardRoute` +
 * `handleOAuthRequest`, so the same 503/500 answers, the same rebasing on the issuer and the
 * same caller address), called straight from Node's HTTP server. Next.js's routing, its
 * Request/Response plumbing and its per-request tracing cost the grant more CPU than the
 * grant's own work (profile of `next start` under the e2e token bench); a route handler has
 * nothing Next.js adds besides the headers of next.config.ts, written here too.
 */
export function isTokenRequest(req: http.IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const target = req.url ?? '';
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  if (path === '/token') return true;
  const prefix = new URL(getConfig().issuer).pathname.replace(/\/$/, '');
  return prefix !== '' && path === `${prefix}/token`;
}

/** Answers a request `isTokenRequest` chose; never throws. */
export async function serveToken(req: http.IncomingMessage, res: http.ServerResponse) {
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    // As Next.js does before a route handler sees the request.
    if (!headers.has('x-forwarded-for') && req.socket.remoteAddress) {
      headers.set('x-forwarded-for', req.socket.remoteAddress);
    }
    // Where handleOAuthRequest would re-base it: on the issuer's origin (one Request, not two).
    const request = new Request(new URL(req.url ?? '/', getConfig().issuer), {
      method: 'POST',
      headers,
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const response = await handle(request);
    const body = Buffer.from(await response.arrayBuffer());
    const out: Record<string, string | string[]> = {};
    for (const { key, value } of EVERY_RESPONSE) out[key] = value;
    for (const [name, value] of response.headers) {
      const seen = out[name];
      out[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    out['content-length'] = String(body.length);
    res.writeHead(response.status, out);
    res.end(body);
  } catch (error) {
    log('error', 'request failed', { method: 'POST', path: '/token', error: describeError(error) });
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    }
    res.end('{"error":"server_error"}');
  }
}
