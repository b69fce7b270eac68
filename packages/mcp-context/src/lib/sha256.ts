import { base64url } from './base64url.js';

const encoder = new TextEncoder();

interface NodeHash {
  createHash(algorithm: 'sha256'): {
    update(data: string, encoding: 'utf8'): { digest(): Uint8Array };
  };
  /** One-shot hash (Node >= 20.12): no Hash object, no Buffer copy. */
  hash?(algorithm: 'sha256', data: string, encoding: 'base64url'): string;
}

/**
 * Node's synchronous hash when the runtime offers it, found without a static `node:` import
 * so the module still loads on edge runtimes and browsers. Web Crypto's `digest` is async and
 * runs on libuv's thread pool in Node: for a ~1 KB token that hop costs more than the hash,
 * and the token cache hashes on every request.
 */
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeHash | undefined;

/** SHA-256 of a string's UTF-8 bytes. */
export async function sha256(input: string): Promise<Uint8Array> {
  if (nodeCrypto)
    return new Uint8Array(nodeCrypto.createHash('sha256').update(input, 'utf8').digest());
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(input)));
}

/**
 * SHA-256 of a string's UTF-8 bytes as unpadded base64url, synchronously when the runtime
 * has Node's one-shot `crypto.hash`: the token cache computes this on every request.
 */
export function sha256Base64url(input: string): string | Promise<string> {
  if (nodeCrypto?.hash) return nodeCrypto.hash('sha256', input, 'base64url');
  return sha256(input).then(base64url);
}
