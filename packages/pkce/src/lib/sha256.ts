import { base64url } from './base64url.js';

const encoder = new TextEncoder();

interface NodeHash {
  createHash(algorithm: 'sha256'): {
    update(data: string, encoding: 'utf8'): { digest(encoding: 'base64url'): string };
  };
  /** One-shot hash (Node >= 20.12): no Hash object, no Buffer copy. */
  hash?(algorithm: 'sha256', data: string, encoding: 'base64url'): string;
}

/**
 * Node's synchronous hash when the runtime offers it, found without a static `node:` import so
 * the module still loads on edge runtimes and browsers. Web Crypto's `digest` is async and runs
 * on libuv's thread pool in Node: for a 43-character verifier that hop costs ~20× the hash.
 */
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeHash | undefined;

/**
 * SHA-256 of the UTF-8 form of `value` as unpadded base64url (RFC 7636 §4.2's `BASE64URL`):
 * at once where node:crypto exists (its one-shot `hash` where present), through Web Crypto
 * elsewhere. The authorization server computes this on every code exchange.
 */
export function sha256Base64url(value: string): string | Promise<string> {
  if (nodeCrypto?.hash) return nodeCrypto.hash('sha256', value, 'base64url');
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(value, 'utf8').digest('base64url');
  return crypto.subtle
    .digest('SHA-256', encoder.encode(value))
    .then((digest) => base64url(new Uint8Array(digest)));
}
