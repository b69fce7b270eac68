import { base64url } from './base64url.js';

const encoder = new TextEncoder();

interface NodeHash {
  /** One-shot hash (Node >= 20.12): no Hash object, no Buffer copy. */
  hash?(algorithm: 'sha256', data: string, encoding: 'base64url'): string;
}

/**
 * Node's synchronous one-shot hash when the runtime offers it, found without a static `node:`
 * import so the module still loads on edge runtimes and browsers. Web Crypto's `digest` is
 * async and, in Node, hops to libuv's thread pool: for a thumbprint input that hop costs more
 * than the hash, and a proof needs two or three hashes.
 */
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeHash | undefined;

/** SHA-256 of a string's UTF-8 bytes, as unpadded base64url. */
export async function sha256Base64url(input: string): Promise<string> {
  if (nodeCrypto?.hash) return nodeCrypto.hash('sha256', input, 'base64url');
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(input))));
}
