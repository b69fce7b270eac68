import { base64url, fromBase64url } from './base64url.js';
import { sha256Bytes } from './sha256.js';

const DOMAIN = 'portcullis refresh-token successor v1\0';

/**
 * A one-time pad derived from a refresh token: SHA-256 of a domain string and the token. It is
 * not the token's record id (that is SHA-256 of the token alone), and only a holder of the
 * token can compute it; each token seals exactly one successor, so the pad is used once.
 */
function padFor(token: string): Uint8Array | Promise<Uint8Array> {
  return sha256Bytes(DOMAIN + token);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * Seals a rotated refresh token's 256-bit successor under a pad only the holder of the rotated
 * token can derive: a replay within the grace window gets the same successor back, and a dump
 * of the store (which holds only the rotated token's hash) cannot open it.
 */
export async function sealSuccessor(token: string, successor: string): Promise<string> {
  const clear = fromBase64url(successor);
  if (clear.length !== 32) throw new TypeError('a successor is a 256-bit secret');
  return base64url(xor(clear, await padFor(token)));
}

/** The successor sealed by `sealSuccessor(token, …)`, or `undefined` if it is not one. */
export async function openSuccessor(token: string, sealed: string): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(sealed);
  } catch {
    return undefined;
  }
  if (bytes.length !== 32) return undefined;
  return base64url(xor(bytes, await padFor(token)));
}
