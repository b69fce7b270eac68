/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** A fetch-style handler, or `handle()` which may decline a request. */
export type FetchHandler = (request: Request) => Promise<Response | undefined>;

/**
 * Adapts a fetch-style handler to Node's `(req, res)` (node:http, Express, Connect). A request
 * the handler declines (`undefined`) goes to `next` when given (Express), else gets a 404.
 * `origin` is the public origin the server is reached at (default: from the Host header).
 *
 * @example
 * import express from 'express';
 * const app = express();
 * app.use(toNodeHandler(as.handle, { origin: 'https://auth.example.com' }));
 */
export function toNodeHandler(handler: FetchHandler, options: { origin?: string } = {}) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> => {
    try {
      const origin = options.origin ?? `http://${req.headers.host ?? 'localhost'}`;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || name.startsWith(':')) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const method = req.method ?? 'GET';
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const request = new Request(new URL(req.url ?? '/', origin), {
        method,
        headers,
        ...(hasBody
          ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' }
          : {}),
      } as RequestInit);
      const response = await handler(request);
      if (!response) {
        if (next) return next();
        res.writeHead(404).end();
        return;
      }
      res.statusCode = response.status;
      for (const [name, value] of response.headers) res.appendHeader(name, value);
      if (!response.body || method === 'HEAD') {
        res.end();
        return;
      }
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        res.write(chunk);
      res.end();
    } catch (error) {
      if (next) return next(error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"error":"server_error"}');
    }
  };
}
