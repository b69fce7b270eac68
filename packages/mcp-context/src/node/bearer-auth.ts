/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BearerAuthOptions, createGuard, type GuardResult } from '../guard/create-guard.js';
import type { AuthInfo } from '../types.js';
import { header } from './header.js';

export type { BearerAuthOptions } from '../guard/create-guard.js';

/** A Node request as Express, Connect and plain `node:http` hand it over. */
export type NodeRequest = IncomingMessage & {
  body?: unknown;
  auth?: AuthInfo;
  originalUrl?: string;
};

/** Express/Connect middleware shape, without depending on Express's types. */
export type NodeMiddleware = (
  req: NodeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>;

/** The MCP SDK's limit on one message (4 MB); a larger body is refused, not buffered. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** What the middleware returns when it decided synchronously (next() already called). */
const settled: Promise<void> = Promise.resolve();

type BodyRead = { ok: true; value: unknown } | { ok: false };

async function readBody(req: NodeRequest): Promise<BodyRead> {
  if (req.body !== undefined) return { ok: true, value: req.body };
  if (req.readableEnded) return { ok: true, value: undefined };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return { ok: false };
    chunks.push(buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    req.body = value;
    return { ok: true, value };
  } catch {
    return { ok: false };
  }
}

/** The query of a request target (`/mcp?a=b` → `?a=b`), without parsing the whole URL. */
function querySearch(target: string): string {
  const query = target.indexOf('?');
  if (query === -1) return '';
  const hash = target.indexOf('#', query);
  return hash === -1 ? target.slice(query) : target.slice(query, hash);
}

/**
 * Express (or Connect, or `node:http`) middleware that lets through only requests with a
 * valid bearer token for this resource and puts the `AuthInfo` on `req.auth`, where the MCP
 * SDK's `StreamableHTTPServerTransport` picks it up and hands it to tools as
 * `extra.authInfo`. Everyone else gets the RFC 6750 §3 answer: 401 without `error` when no
 * token was sent, 400 `invalid_request` for a malformed header, 401 `invalid_token`, 403
 * `insufficient_scope` listing every scope the request needs (including per-tool scopes of a
 * `tools/call`, checked before the tool runs), each challenge with `resource_metadata`
 * ([RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)). Answers CORS
 * preflights. Reads the JSON body itself when no body parser ran and tool scopes need it.
 *
 * @example
 * app.post('/mcp', express.json(), bearerAuth({ verifier, resource: 'http://localhost:8000/mcp',
 *   toolScopes: { secure_operation: ['admin'] } }), (req, res) => transport.handleRequest(req, res, req.body));
 */
export function bearerAuth(options: BearerAuthOptions): NodeMiddleware {
  const guard = createGuard(options);
  return (req, res, next) => {
    try {
      const parsed = req.body;
      // node:http builds `req.headers` on first read (a getter): read once, not per header.
      const { headers } = req;
      const target = req.originalUrl ?? req.url;
      const request = {
        method: req.method ?? 'GET',
        search: querySearch(target ?? '/'),
        authorization: header(headers.authorization),
        host: header(headers.host) ?? header(headers[':authority']),
        origin: header(headers.origin),
        target,
        dpop: header(headers.dpop),
        // Parsed already (by a body parser, or the app itself): the same value, no second parse.
        body: parsed,
        readBody: parsed === undefined ? () => readJsonBody(req) : undefined,
      };
      const result = guard(request);
      // Decided at once (a parsed body, a token verified before): next() runs before this
      // returns, so a caller that sees it called need not wait for the promise. No closure
      // is made for it: this is every authenticated request of a busy server.
      if (!(result instanceof Promise)) {
        settle(req, res, next, result);
        return settled;
      }
      return result
        .then((value) => settle(req, res, next, value))
        .catch((error: unknown) => next(error));
    } catch (error) {
      next(error);
      return settled;
    }
  };
}

/** A body this middleware read and could not parse (the stream is consumed by then). */
const unreadable = new WeakSet<NodeRequest>();

async function readJsonBody(req: NodeRequest): Promise<unknown> {
  const read = await readBody(req);
  if (!read.ok) unreadable.add(req);
  return read.ok ? read.value : undefined;
}

/** Sends the guard's refusal, or passes the request on with its `AuthInfo` on `req.auth`. */
function settle(
  req: NodeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
  result: GuardResult,
): void {
  for (const name in result.headers) res.setHeader(name, result.headers[name] as string);
  if (!result.ok) {
    res.statusCode = result.status;
    res.end(result.body ?? undefined);
    return;
  }
  if (unreadable.has(req)) {
    // The stream is consumed; answer as the MCP transport would have (JSON-RPC §5.1).
    res.statusCode = 400;
    res.setHeader('Content-Type', 'application/json');
    res.end(
      JSON.stringify({
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error' },
        id: null,
      }),
    );
    return;
  }
  req.auth = result.authInfo;
  next();
}
