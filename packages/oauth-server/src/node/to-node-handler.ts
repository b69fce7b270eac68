/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  NODE_BRIDGE,
  type NodeBridge,
  type NodeTarget,
  plainPathname,
} from '../lib/node-bridge.js';

/**
 * A body whose declared length is at most this is read into one buffer before the `Request` is
 * built: Node has already bounded it (the parser never delivers more than Content-Length), and a
 * buffer costs far less than a web stream over the socket. Larger or undeclared bodies stream,
 * so the handler's own size limit still decides.
 */
const BUFFERED_BODY_BYTES = 65_536;

const NO_BODY = new Uint8Array(0);

const IN_MEMORY_TYPES = /^\s*(application\/([\w.-]+\+)?json|text\/html|text\/plain)\s*(;|$)/i;

function readDeclared(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A fetch-style handler, or `handle()` which may decline a request. */
export type FetchHandler = (request: Request) => Promise<Response | undefined>;

/**
 * Adapts a fetch-style handler to Node's `(req, res)` (node:http, Express, Connect). A request
 * the handler declines (`undefined`) goes to `next` when given (Express), else gets a 404.
 * `origin` is the public origin the server is reached at (default: from the Host header).
 * Given a handler of this server (`as.handle`, `as.handlers.token`…) rather than a function
 * wrapping one, requests and JSON answers pass without undici's Request, Response and web
 * streams (the `getClientIp` option and `interaction` still get a standard Request).
 *
 * @example
 * import express from 'express';
 * const app = express();
 * app.use(toNodeHandler(as.handle, { origin: 'https://auth.example.com' }));
 */
export function toNodeHandler(handler: FetchHandler, options: { origin?: string } = {}) {
  // A handler of this server: bodies and JSON answers cross without web streams (node-bridge.ts).
  const bridge = (handler as { [NODE_BRIDGE]?: NodeBridge })[NODE_BRIDGE];
  // The last origin seen to parse: a bridged request's URL is then parsed only when read.
  let parsedOrigin: string | undefined;
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> => {
    try {
      const origin = options.origin ?? `http://${req.headers.host ?? 'localhost'}`;
      const method = req.method ?? 'GET';
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      const buffered =
        hasBody && declared >= 0 && declared <= BUFFERED_BODY_BYTES
          ? await readDeclared(req)
          : undefined;
      const target = req.url ?? '/';
      let request: Request;
      if (bridge && (!hasBody || buffered)) {
        if (origin !== parsedOrigin && URL.canParse(origin)) parsedOrigin = origin;
        // A plain path resolves against an origin that parses, always: it can wait.
        const url: URL | NodeTarget =
          origin === parsedOrigin && plainPathname(target) !== undefined
            ? { origin, target }
            : new URL(target, origin);
        request = bridge.request(method, url, req.headers, buffered ?? NO_BODY);
      } else {
        const url = new URL(target, origin);
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || name.startsWith(':')) continue;
          for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
        }
        const body = !hasBody
          ? undefined
          : (buffered ?? (Readable.toWeb(req) as ReadableStream<Uint8Array>));
        request = new Request(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body, duplex: 'half' }),
        } as RequestInit);
      }
      const response = await handler(request);
      if (!response) {
        if (next) return next();
        res.writeHead(404).end();
        return;
      }
      const reply = bridge?.takeReply(response);
      if (reply) {
        // The status and headers in one writeHead, then one end() with the body. Content-Length
        // is what end() would set; a HEAD answer has none, as for a streamed response.
        const head: string[] = [];
        for (const name in reply.headers) head.push(name, reply.headers[name]!);
        if (method === 'HEAD') {
          res.writeHead(reply.status, head).end();
          return;
        }
        head.push('Content-Length', String(Buffer.byteLength(reply.body)));
        res.writeHead(reply.status, head).end(reply.body);
        return;
      }
      res.statusCode = response.status;
      for (const [name, value] of response.headers) res.appendHeader(name, value);
      if (!response.body || method === 'HEAD') {
        res.end();
        return;
      }
      // The documents this package's handlers answer with (JSON, an HTML page) are built in
      // memory: written in one go. Anything else (an event stream…) streams as it comes.
      if (IN_MEMORY_TYPES.test(response.headers.get('content-type') ?? '')) {
        res.end(new Uint8Array(await response.arrayBuffer()));
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
