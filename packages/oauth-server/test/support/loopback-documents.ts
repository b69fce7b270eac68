import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** How a path answers: `self` is the document's own URL (origin + path). */
export type DocumentRoute = (res: ServerResponse, self: string) => void;

/**
 * A real HTTP server on 127.0.0.1 publishing what a test file routes (client metadata documents,
 * key sets), counting requests per path; it listens before the file's tests and closes after.
 */
export function loopbackDocuments(): {
  hits: Map<string, number>;
  routes: Map<string, DocumentRoute>;
  readonly origin: string;
} {
  const hits = new Map<string, number>();
  const routes = new Map<string, DocumentRoute>();
  let origin = '';
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (!route) return void res.writeHead(404).end();
    route(res, origin + path);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    hits,
    routes,
    get origin() {
      return origin;
    },
  };
}
