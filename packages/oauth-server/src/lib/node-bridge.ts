import type { JsonReply } from './http.js';

/**
 * How `toNodeHandler` (the `./node` entry) and this server's own handlers skip the web body
 * streams between them. Node 20's undici builds a `ReadableStream` for every `Request` or
 * `Response` that has a body (~15 µs each, most of a token request's HTTP cost). A handler of
 * this server carries `nodeBridge` under `NODE_BRIDGE`; seeing it, `toNodeHandler` builds a
 * bodiless `Request` and attaches the body it already read, and takes a JSON answer back as a
 * string to write itself. Any other handler gets standard `Request`s and answers as before.
 * The bridge travels on the handler, so a second copy of this package keeps its own.
 */
export const NODE_BRIDGE = Symbol.for('@portcullis/oauth-server/node-bridge');

export interface NodeBridge {
  /** Gives a bodiless request the body read from the socket (empty for GET and HEAD). */
  attachBody(request: Request, body: Uint8Array): void;
  /** The JSON answer behind a response made for such a request, taken once; else `undefined`. */
  takeReply(response: Response): JsonReply | undefined;
}

const EMPTY = new Uint8Array(0);
const bodies = new WeakMap<Request, Uint8Array>();
const replies = new WeakMap<Response, JsonReply>();

export const nodeBridge: NodeBridge = {
  attachBody(request, body) {
    bodies.set(request, body.byteLength === 0 ? EMPTY : body);
  },
  takeReply(response) {
    const reply = replies.get(response);
    if (reply !== undefined) replies.delete(response);
    return reply;
  },
};

/** The body `toNodeHandler` attached to `request`, or `undefined` for a standard request. */
export function attachedBody(request: Request): Uint8Array | undefined {
  return bodies.get(request);
}

/**
 * The `Response` for a JSON answer: for a request that came over the bridge, a bodiless
 * response that `toNodeHandler` completes from the reply; for any other, the standard one.
 */
export function replyResponse(request: Request, reply: JsonReply): Response {
  if (!bodies.has(request)) {
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  }
  const response = new Response(null, { status: reply.status });
  replies.set(response, reply);
  return response;
}

/** Marks a handler of this server, so `toNodeHandler` may use the bridge with it. */
export function bridged<F extends (request: Request) => Promise<Response | undefined>>(
  handler: F,
): F {
  Object.defineProperty(handler, NODE_BRIDGE, { value: nodeBridge });
  return handler;
}
