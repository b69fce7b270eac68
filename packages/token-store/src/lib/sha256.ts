import { base64url } from './base64url.js';

interface NodeDigest {
  text: (secret: string) => string;
  bytes: (secret: string) => Uint8Array;
}

interface NodeCrypto {
  hash?: {
    (algorithm: string, data: string, encoding: 'base64url'): string;
    (algorithm: string, data: string, encoding: 'buffer'): Uint8Array;
  };
  createHash?: (algorithm: string) => {
    update(
      data: string,
      encoding: 'utf8',
    ): {
      digest(encoding: 'base64url'): string;
      digest(): Uint8Array;
    };
  };
}

interface MaybeNodeProcess {
  process?: { getBuiltinModule?: (id: string) => unknown };
}

const encoder = new TextEncoder();
let nodeDigest: NodeDigest | null | undefined;

/**
 * node:crypto's synchronous SHA-256 when the runtime has it (Node, Bun, Deno), found at run time
 * through `process.getBuiltinModule` so the entry point imports no `node:` module and still runs
 * on edge runtimes and in browsers; `null` there. Web Crypto's `subtle.digest` is asynchronous and
 * goes through a job queue: for a 43-byte token it costs several times the hash itself.
 */
function loadNodeDigest(): NodeDigest | null {
  try {
    const getBuiltinModule = (globalThis as MaybeNodeProcess).process?.getBuiltinModule;
    const nodeCrypto =
      typeof getBuiltinModule === 'function'
        ? (getBuiltinModule('node:crypto') as NodeCrypto | undefined)
        : undefined;
    const { hash, createHash } = nodeCrypto ?? {};
    if (typeof hash === 'function') {
      return {
        text: (secret) => hash('sha256', secret, 'base64url'),
        bytes: (secret) => hash('sha256', secret, 'buffer'),
      };
    }
    if (typeof createHash === 'function') {
      return {
        text: (secret) => createHash('sha256').update(secret, 'utf8').digest('base64url'),
        bytes: (secret) => createHash('sha256').update(secret, 'utf8').digest(),
      };
    }
  } catch {
    // A runtime that refuses the module: Web Crypto below.
  }
  return null;
}

/** SHA-256 in base64url now, or `undefined` where only Web Crypto's asynchronous digest exists. */
export function sha256Now(text: string): string | undefined {
  if (nodeDigest === undefined) nodeDigest = loadNodeDigest();
  return nodeDigest === null ? undefined : nodeDigest.text(text);
}

/** The 32 bytes of SHA-256 (UTF-8 input) now, or `undefined` where only Web Crypto exists. */
export function sha256BytesNow(text: string): Uint8Array | undefined {
  if (nodeDigest === undefined) nodeDigest = loadNodeDigest();
  return nodeDigest === null ? undefined : nodeDigest.bytes(text);
}

/** The 32 bytes of SHA-256 (UTF-8 input): synchronous where node:crypto exists. */
export function sha256Bytes(text: string): Uint8Array | Promise<Uint8Array> {
  return (
    sha256BytesNow(text) ??
    crypto.subtle.digest('SHA-256', encoder.encode(text)).then((digest) => new Uint8Array(digest))
  );
}

/** SHA-256 in base64url through Web Crypto: the path of runtimes without node:crypto. */
export async function sha256WebCrypto(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

/** SHA-256 in base64url: synchronous where node:crypto exists, a promise elsewhere. */
export function sha256(text: string): string | Promise<string> {
  return sha256Now(text) ?? sha256WebCrypto(text);
}
