// The client's redirect URI: a real HTTP listener on 127.0.0.1 (native MCP clients use one, and
// page.route cannot see redirects). It captures each authorization response URL (code, state, iss).
import http from 'node:http';

/**
 * @typedef {object} Loopback
 * @property {string} redirectUri http://127.0.0.1:<port>/callback
 * @property {() => Promise<URL>} next the next authorization response that reaches the listener
 * @property {() => Promise<void>} close
 */

/**
 * Listens on a free 127.0.0.1 port for authorization responses at /callback.
 * @param {{ timeoutMs?: number }} [options] how long next() waits for a redirect (60 s by default)
 * @returns {Promise<Loopback>}
 */
export async function loopbackRedirect({ timeoutMs = 60_000 } = {}) {
  /** @type {((url: URL) => void)[]} */
  const waiting = [];
  /** @type {URL[]} */
  const arrived = [];
  const server = http.createServer((req, res) => {
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/callback') {
      // e.g. the browser's /favicon.ico: not an authorization response.
      res.writeHead(404).end();
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter(url);
    else arrived.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>client</title><p>Back at the client.</p>');
  });
  /** @type {Promise<void>} */
  const listening = new Promise((r) => server.listen(0, '127.0.0.1', r));
  await listening;
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    next() {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no redirect reached the client')),
          timeoutMs,
        );
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
