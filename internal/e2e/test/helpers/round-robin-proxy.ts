import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A request header the proxy takes as the caller's socket address (then drops): what it
 * appends to `X-Forwarded-For`, for tests of per-address limits behind it.
 */
export const PEER_HEADER = 'x-test-peer-address';

/** One request the proxy passed on: which upstream answered it, and how. */
export interface Hop {
  method: string;
  path: string;
  upstream: number;
  status: number;
}

export interface RoundRobinProxy {
  /** http://127.0.0.1:<port>: the public origin of the instances (their ISSUER_URL). */
  url: string;
  port: number;
  /** Every request passed on, in the order they arrived. */
  readonly hops: Hop[];
  /**
   * The upstreams of the next requests, in order (a deterministic interleaving), replacing what
   * an earlier plan left unused; once they are used up, requests alternate again.
   */
  plan(...upstreams: number[]): void;
  /**
   * The same for the next requests whose path starts with `path` only (others alternate as
   * usual): `planPath('/token', 0, 1, 0, 1)` puts racing token requests on both instances
   * whatever else the client fetches between them.
   */
  planPath(path: string, ...upstreams: number[]): void;
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of several instances of one app, as a load balancer without sticky
 * sessions: each request goes to the next upstream in turn (or to the one `plan()` names).
 * It keeps `Host` (the public origin), appends the caller's socket address to `X-Forwarded-For`
 * (so `TRUST_PROXY=1` finds the caller), and streams bodies both ways.
 */
export async function startRoundRobinProxy(
  upstreams: readonly string[],
  { port = 0 }: { port?: number } = {},
): Promise<RoundRobinProxy> {
  if (upstreams.length === 0) throw new Error('a proxy needs at least one upstream');
  const targets = upstreams.map((u) => new URL(u));
  const hops: Hop[] = [];
  const planned: number[] = [];
  let pathPlan: { path: string; upstreams: number[] } | undefined;
  let turn = 0;
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const byPath =
      pathPlan && (req.url ?? '').startsWith(pathPlan.path)
        ? pathPlan.upstreams.shift()
        : undefined;
    const upstream = byPath ?? planned.shift() ?? turn++ % targets.length;
    const target = targets[upstream];
    if (!target) {
      res.writeHead(502).end();
      return;
    }
    const hop: Hop = { method: req.method ?? 'GET', path: req.url ?? '/', upstream, status: 0 };
    hops.push(hop);
    const forwarded = req.headers['x-forwarded-for'];
    // Every test connects from 127.0.0.1: this header stands for a caller at another address.
    const peer = req.headers[PEER_HEADER];
    const chain = [
      ...(Array.isArray(forwarded) ? forwarded : forwarded ? [forwarded] : []),
      typeof peer === 'string' ? peer : (req.socket.remoteAddress ?? ''),
    ].join(', ');
    const headers: http.OutgoingHttpHeaders = { ...req.headers, 'x-forwarded-for': chain };
    delete headers.connection;
    delete headers[PEER_HEADER];
    const outgoing = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, 'x-forwarded-proto': 'http', 'x-forwarded-host': req.headers.host },
        agent,
      },
      (incoming) => {
        hop.status = incoming.statusCode ?? 0;
        // rawHeaders keeps repeated headers (several Set-Cookie) as the upstream sent them.
        const raw: string[] = [];
        for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
          const name = incoming.rawHeaders[i] ?? '';
          if (/^(connection|keep-alive|transfer-encoding)$/i.test(name)) continue;
          raw.push(name, incoming.rawHeaders[i + 1] ?? '');
        }
        res.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, raw);
        incoming.pipe(res);
      },
    );
    outgoing.on('error', () => {
      hop.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    });
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: listening } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${listening}`,
    port: listening,
    hops,
    plan(...next) {
      planned.splice(0, planned.length, ...next);
    },
    planPath(path, ...next) {
      pathPlan = { path, upstreams: next };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
