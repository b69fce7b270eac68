import type { JsonReply } from './http.js';

/**
 * How `toNodeHandler` (the `./node` entry) and this server's own handlers skip work between
 * them that a Node server does not need. Node 20's undici builds an AbortSignal for every
 * `Request` and a `ReadableStream` for every `Request` or `Response` with a body: ~25 µs of
 * ~60 µs of HTTP glue per token request, as measured. A handler of this server carries
 * `nodeBridge` under `NODE_BRIDGE`; seeing it, `toNodeHandler` hands it a `NodeRequest` (the
 * method, URL, headers and the body already read: all this server's handlers read) and takes
 * a JSON answer back as a string to write itself. Whatever reaches the caller's own code (the
 * `getClientIp` option, `interaction`) is a standard `Request` made from it (`standardRequest`).
 * Any other handler gets standard `Request`s and answers as before. The bridge travels on the
 * handler, so a second copy of this package keeps its own.
 */
export const NODE_BRIDGE = Symbol.for('@portcullis/oauth-server/node-bridge');

export interface NodeBridge {
  /**
   * The request a bridged handler is called with: `url` parsed, or the origin and the
   * request-target as Node has them (parsed only when something reads the URL); `headers` as
   * Node's `req.headers`, `body` as read from the socket (empty for GET and HEAD).
   */
  request(
    method: string,
    url: URL | NodeTarget,
    headers: NodeHeaderValues,
    body: Uint8Array,
  ): Request;
  /** The JSON answer behind a response made for a bridged request; else `undefined`. */
  takeReply(response: Response): JsonReply | undefined;
}

/**
 * A request-target (`req.url`) and the origin it is relative to. `toNodeHandler` passes one
 * only when the origin parses and the target's path is plain (`plainPathname`), so resolving
 * it later cannot fail.
 */
export interface NodeTarget {
  origin: string;
  target: string;
}

const PLAIN_PATH = /^\/(?!\/)[\w.~/-]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * The pathname `new URL(target, origin)` has, found without parsing, for a target whose path
 * the URL parser keeps as it is (an absolute path of unreserved characters and slashes, with no
 * `.` or `..` segment, not starting `//`); else `undefined`.
 */
export function plainPathname(target: string): string | undefined {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  return PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) ? path : undefined;
}

/** Header values as Node's `req.headers` has them (names in lower case). */
export type NodeHeaderValues = Record<string, string | string[] | undefined>;

/**
 * The headers of a `NodeRequest`: Node's `req.headers` read as `Headers` reads them (names
 * case-insensitive, a list's values joined with ", "), exactly what the `Headers` that
 * `toNodeHandler` builds for a standard request hold.
 */
class NodeHeaders {
  #values: NodeHeaderValues;

  constructor(values: NodeHeaderValues) {
    this.#values = values;
  }

  get(name: string): string | null {
    const key = name.toLowerCase();
    if (key.startsWith(':')) return null;
    const value = this.#values[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#values)) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }
}

/** What a bridged handler is called with: the parts of a `Request` this server reads. */
class NodeRequest {
  readonly headers: NodeHeaders;
  #href: string | undefined;
  #pathname: string | undefined;
  #target: NodeTarget | undefined;
  #standard: Request | undefined;

  constructor(
    readonly method: string,
    url: URL | NodeTarget,
    headers: NodeHeaderValues,
    /** Not `body`: a `Request`'s body is a stream, and nothing may mistake this for one. */
    readonly bytes: Uint8Array,
  ) {
    this.headers = new NodeHeaders(headers);
    if (url instanceof URL) {
      this.#href = url.href;
      this.#pathname = url.pathname;
    } else {
      // The router needs only the path: the URL is parsed if something reads it.
      this.#target = url;
      this.#pathname = plainPathname(url.target);
    }
  }

  get url(): string {
    if (this.#href === undefined) this.#parse();
    return this.#href!;
  }

  /** The path of `url`, which the router reads. */
  get pathname(): string {
    if (this.#pathname === undefined) this.#parse();
    return this.#pathname!;
  }

  #parse(): void {
    const url = new URL(this.#target!.target, this.#target!.origin);
    this.#href = url.href;
    this.#pathname = url.pathname;
  }

  /** The same request as a standard `Request` (its body was read by this server). */
  standard(): Request {
    this.#standard ??= new Request(this.url, {
      method: this.method,
      headers: [...this.headers.entries()],
    });
    return this.#standard;
  }
}

/**
 * A JSON answer to a bridged request. Only `toNodeHandler` receives it (it made the request)
 * and writes it to the socket itself: no undici `Response` is built for it.
 */
class NodeReply implements JsonReply {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: string,
  ) {}
}

export const nodeBridge: NodeBridge = {
  request: (method, url, headers, body) =>
    new NodeRequest(method, url, headers, body) as unknown as Request,
  takeReply: (response) =>
    (response as unknown) instanceof NodeReply ? (response as unknown as NodeReply) : undefined,
};

/** Whether `request` came over the bridge (a `NodeRequest`), else a standard `Request`. */
export function isNodeRequest(request: Request): boolean {
  return (request as unknown) instanceof NodeRequest;
}

/** The path of a request's URL (throws on a URL that does not parse). */
export function pathnameOf(request: Request): string {
  return (request as unknown) instanceof NodeRequest
    ? (request as unknown as NodeRequest).pathname
    : new URL(request.url).pathname;
}

/** The body `toNodeHandler` read for a bridged request, or `undefined` for a standard one. */
export function attachedBody(request: Request): Uint8Array | undefined {
  return (request as unknown) instanceof NodeRequest
    ? (request as unknown as NodeRequest).bytes
    : undefined;
}

/** A standard `Request` for the caller's own code: a bridged request made into one, once. */
export function standardRequest(request: Request): Request {
  return (request as unknown) instanceof NodeRequest
    ? (request as unknown as NodeRequest).standard()
    : request;
}

/**
 * The `Response` for a JSON answer: for a bridged request, the reply itself, which only
 * `toNodeHandler` receives (`takeReply`); for any other, the standard one.
 */
export function replyResponse(request: Request, reply: JsonReply): Response {
  if (!((request as unknown) instanceof NodeRequest)) {
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  }
  return new NodeReply(reply.status, reply.headers, reply.body) as unknown as Response;
}

/** Marks a handler of this server, so `toNodeHandler` may use the bridge with it. */
export function bridged<F extends (request: Request) => Promise<Response | undefined>>(
  handler: F,
): F {
  Object.defineProperty(handler, NODE_BRIDGE, { value: nodeBridge });
  return handler;
}
