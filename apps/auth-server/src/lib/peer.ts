import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The socket peer of a request, carried from Node's HTTP server to the route handlers (Next.js
 * gives them a `Request`, not the socket). `node-guard` removes any header of this name a client
 * sent and writes `<process nonce> <address>`; only a value with this process's nonce counts.
 */
export const PEER_HEADER = 'x-portcullis-peer';

const NONCE = Symbol.for('portcullis.auth-server.peer-nonce');
type WithNonce = typeof globalThis & { [NONCE]?: string };

/** This process's nonce, made on first use (never sent to anyone). */
export function peerNonce(): string {
  const g = globalThis as WithNonce;
  g[NONCE] ??= randomBytes(24).toString('base64url');
  return g[NONCE];
}

/** This process's nonce as bytes, for comparing (made once). */
let expectedNonce: Buffer | undefined;

/** The stamped socket address, or `undefined` when the request was not stamped by this process. */
export function peerAddress(headers: Headers): string | undefined {
  const value = headers.get(PEER_HEADER);
  const space = value?.indexOf(' ') ?? -1;
  if (!value || space < 0) return undefined;
  const given = Buffer.from(value.slice(0, space));
  expectedNonce ??= Buffer.from(peerNonce());
  const expected = expectedNonce;
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return value.slice(space + 1);
}
