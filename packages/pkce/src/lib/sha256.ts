const encoder = new TextEncoder();

interface NodeHash {
  createHash(algorithm: 'sha256'): {
    update(data: string, encoding: 'utf8'): { digest(): Uint8Array };
  };
}

/**
 * Node's synchronous hash when the runtime offers it, found without a static `node:` import so
 * the module still loads on edge runtimes and browsers. Web Crypto's `digest` is async and runs
 * on libuv's thread pool in Node: for a 43-character verifier that hop costs ~20× the hash.
 */
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.('node:crypto') as NodeHash | undefined;

/** SHA-256 of the UTF-8 form of `value`: node:crypto where present, Web Crypto elsewhere. */
export async function sha256(value: string): Promise<Uint8Array> {
  if (nodeCrypto)
    return new Uint8Array(nodeCrypto.createHash('sha256').update(value, 'utf8').digest());
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)));
}
