import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Loopback {
  /** http://127.0.0.1:<port>/callback */
  redirectUri: string;
  /** The next authorization response that reaches the listener. */
  next(): Promise<URL>;
  close(): Promise<void>;
}

/**
 * The client's redirect URI: a real HTTP listener on 127.0.0.1 (native MCP clients use one,
 * and page.route cannot see redirects). It captures each authorization response URL.
 */
export async function loopbackRedirect(): Promise<Loopback> {
  const waiting: ((url: URL) => void)[] = [];
  const arrived: URL[] = [];
  const server = http.createServer((req, res) => {
    const { port } = server.address() as AddressInfo;
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter(url);
    else arrived.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>client</title><p>Back at the client.</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    next() {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no redirect reached the client')), 60_000);
        waiting.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
      });
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
