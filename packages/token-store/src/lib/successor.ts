import { base64url, fromBase64url } from './base64url.js';

const encoder = new TextEncoder();
const INFO = encoder.encode('portcullis refresh-token successor v1');

/** AES-256-GCM key derived (HKDF-SHA256) from a refresh token, which the store never holds. */
async function keyFrom(token: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(token), 'HKDF', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * Seals a rotated refresh token's successor under a key only the holder of the rotated token
 * can derive: a replay within the grace window gets the same successor back, and a dump of the
 * store (which holds only the rotated token's hash) cannot open it.
 */
export async function sealSuccessor(token: string, successor: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv },
      await keyFrom(token),
      encoder.encode(successor),
    ),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return base64url(out);
}

/** The successor sealed by `sealSuccessor(token, …)`, or `undefined` if it does not open. */
export async function openSuccessor(token: string, sealed: string): Promise<string | undefined> {
  try {
    const bytes = fromBase64url(sealed);
    const clear = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, 12) },
      await keyFrom(token),
      bytes.subarray(12),
    );
    return new TextDecoder().decode(clear);
  } catch {
    return undefined;
  }
}
