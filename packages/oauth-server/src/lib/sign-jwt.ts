import { base64url, SignJWT } from 'jose';

export interface NodeSign {
  KeyObject: { from(key: CryptoKey): unknown };
  sign(
    algorithm: 'sha256',
    data: Uint8Array,
    key: { key: unknown; dsaEncoding: 'ieee-p1363' },
  ): Uint8Array;
}

/**
 * node:crypto when the runtime offers it, found without a static `node:` import so the root
 * entry still loads on edge runtimes. Its ECDSA signature is synchronous; Web Crypto's
 * `subtle.sign` (what jose uses) hops to libuv's thread pool and back for each token.
 */
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeSign | undefined;

/** KeyObjects made once per signing key, not per token. */
const keyObjects = new WeakMap<CryptoKey, unknown>();

interface NodeBuffer {
  from(data: string | Uint8Array): { toString(encoding: 'base64url'): string };
}

/** node:buffer's base64url (native) where node:crypto is used: ~10× faster than jose's in JS. */
const nodeBuffer = (
  (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:buffer') as { Buffer?: NodeBuffer } | undefined
)?.Buffer;

const b64 = (data: string | Uint8Array): string =>
  nodeBuffer ? nodeBuffer.from(data).toString('base64url') : base64url.encode(data);

/** The encoded protected header per `kid` and `typ`: the same for every token a key signs. */
const encodedHeaders = new Map<string, string>();

function encodedHeader(header: { alg: 'ES256'; typ: string; kid: string }): string {
  const key = `${header.typ} ${header.kid}`;
  let encoded = encodedHeaders.get(key);
  if (encoded === undefined) {
    // Bounded: a few keys are live at a time; rotation only ever adds one.
    if (encodedHeaders.size >= 32) encodedHeaders.clear();
    encoded = b64(JSON.stringify({ alg: header.alg, typ: header.typ, kid: header.kid }));
    encodedHeaders.set(key, encoded);
  }
  return encoded;
}

const encoder = new TextEncoder();

/**
 * An ES256 JWS in compact form (RFC 7515 §7.1) over `payload`: node:crypto's signature in
 * IEEE P1363 form (r‖s, what JWS wants, RFC 7518 §3.4) where it exists, jose on Web Crypto
 * everywhere else. Both produce the same kind of token; either verifies with any JOSE library.
 */
export function signEs256Jwt(
  header: { alg: 'ES256'; typ: string; kid: string },
  payload: Record<string, unknown>,
  key: CryptoKey,
): Promise<string> {
  return signWith(nodeCrypto, header, payload, key);
}

/** signEs256Jwt without a promise where node:crypto signs (synchronously); else `undefined`. */
export function signEs256JwtNow(
  header: { alg: 'ES256'; typ: string; kid: string },
  payload: Record<string, unknown>,
  key: CryptoKey,
): string | undefined {
  return nodeCrypto ? signNode(nodeCrypto, header, payload, key) : undefined;
}

/** signEs256Jwt with the runtime's node:crypto given (or not): both paths are tested on Node. */
export async function signWith(
  node: NodeSign | undefined,
  header: { alg: 'ES256'; typ: string; kid: string },
  payload: Record<string, unknown>,
  key: CryptoKey,
): Promise<string> {
  if (!node) return new SignJWT(payload).setProtectedHeader(header).sign(key);
  return signNode(node, header, payload, key);
}

function signNode(
  node: NodeSign,
  header: { alg: 'ES256'; typ: string; kid: string },
  payload: Record<string, unknown>,
  key: CryptoKey,
): string {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = node.KeyObject.from(key);
    keyObjects.set(key, keyObject);
  }
  const input = `${encodedHeader(header)}.${b64(JSON.stringify(payload))}`;
  const signature = node.sign('sha256', encoder.encode(input), {
    key: keyObject,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${b64(signature)}`;
}
