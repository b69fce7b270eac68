import http from 'node:http';
import type { Socket } from 'node:net';
import { isLoopbackAddress as isLoopback } from './client-address';
import { PEER_HEADER, peerNonce } from './peer';

/** The methods Next.js route handlers and pages accept; any other makes Next.js answer 500. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

const ALLOW = 'GET, HEAD, POST, OPTIONS';

/** The app's pages: read-only. Next.js takes a form POST to a page for a Server Action. */
const PAGES = new Set(['/', '/login', '/consent', '/account']);

/**
 * What Next.js would answer 500 to, answered here: a method it cannot route (405), the
 * server-wide `OPTIONS *` (RFC 9110 §9.3.7: 204 with Allow), a target that is not a path, or a
 * path whose percent-encoding is not UTF-8 (400). Mutates `req.url` only to turn an absolute-form
 * target into its path.
 */
function refuse(
  req: http.IncomingMessage,
): { status: number; error?: string; allow?: string } | undefined {
  const method = req.method ?? '';
  let target = req.url ?? '';
  if (method === 'OPTIONS' && target === '*') return { status: 204 };
  if (!METHODS.has(method)) return { status: 405, error: 'method_not_allowed' };
  if (/^https?:\/\//i.test(target) && URL.canParse(target)) {
    // RFC 9112 §3.2.2: the absolute form is accepted; Next.js routes by path.
    const url = new URL(target);
    target = `${url.pathname}${url.search}`;
    req.url = target;
  }
  if (!target.startsWith('/')) return { status: 400, error: 'invalid_request_target' };
  // This app has no Server Actions; Next.js logs a stack trace for an action it cannot find.
  if (req.headers['next-action'] !== undefined) return { status: 400, error: 'invalid_request' };
  const path = target.split('?', 1)[0]!;
  try {
    decodeURIComponent(path);
  } catch {
    return { status: 400, error: 'invalid_request_target' };
  }
  const page = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (PAGES.has(page) && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
    return { status: 405, error: 'method_not_allowed', allow: 'GET, HEAD' };
  }
  return undefined;
}

export interface NodeGuardOptions {
  /** Development mode without DEV_ALLOW_REMOTE: only this machine may connect. */
  loopbackOnly: boolean;
  /**
   * Requests answered here rather than by Next.js (after the checks above): the token
   * endpoint, see `token-endpoint.ts`. `serve` must answer and never reject.
   */
  direct?: {
    matches: (req: http.IncomingMessage) => boolean;
    serve: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  };
}

const INSTALLED = Symbol.for('portcullis.auth-server.node-guard');
type WithGuard = typeof globalThis & { [INSTALLED]?: NodeGuardOptions };

/**
 * Runs in front of Next.js inside Node's HTTP server, whatever started it (`next start`, the
 * root `pnpm start`, a test): stamps each request with its socket peer (see `peer.ts`), answers
 * methods Next.js cannot handle with 405 instead of its 500, and in development mode closes
 * connections from other machines, since the dev login lets anyone who reaches it sign in as
 * anyone; and hands the token endpoint's requests to `options.direct`. Installed once per
 * process, from `instrumentation.ts`.
 */
export function installNodeGuard(options: NodeGuardOptions): void {
  const g = globalThis as WithGuard;
  if (g[INSTALLED]) {
    Object.assign(g[INSTALLED], options);
    return;
  }
  const state = { ...options };
  g[INSTALLED] = state;
  const nonce = peerNonce();
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function guardedEmit(
    this: http.Server,
    event: string | symbol,
    ...args: unknown[]
  ): boolean {
    if (event === 'connection' && state.loopbackOnly) {
      const socket = args[0] as Socket;
      if (!isLoopback(socket.remoteAddress)) {
        socket.destroy();
        return true;
      }
    }
    if (event === 'request') {
      const [req, res] = args as [http.IncomingMessage, http.ServerResponse];
      if (state.loopbackOnly && !isLoopback(req.socket.remoteAddress)) {
        req.socket.destroy();
        return true;
      }
      delete req.headers[PEER_HEADER];
      const peer = req.socket.remoteAddress;
      if (peer) req.headers[PEER_HEADER] = `${nonce} ${peer}`;
      const refusal = refuse(req);
      if (refusal) {
        res.writeHead(refusal.status, {
          ...(refusal.status === 405 || refusal.status === 204
            ? { allow: refusal.allow ?? ALLOW }
            : {}),
          'content-type': 'application/json',
          'cache-control': 'no-store',
        });
        res.end(refusal.status === 204 ? undefined : JSON.stringify({ error: refusal.error }));
        return true;
      }
      if (state.direct?.matches(req)) {
        void state.direct.serve(req, res);
        return true;
      }
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof emit;
}
