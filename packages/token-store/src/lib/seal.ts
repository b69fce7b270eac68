import { KeyDecryptionError } from '../errors.js';
import { base64url, fromBase64url } from './base64url.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Marks a private JWK that is AES-GCM sealed at rest. */
export const SEALED_MARK = 'portcullis:sealed';
const VERSION = 'A256GCM.v1';

// A fixed, package-specific salt: the secret is the deployment's, the salt only separates this
// use of it from any other. PBKDF2 (rather than HKDF) because operators do pick passphrases.
const SALT = encoder.encode('@portcullis/token-store signing-key sealing v1');
const ITERATIONS = 100_000;

export interface SealedJwk {
  [SEALED_MARK]: typeof VERSION;
  iv: string;
  ct: string;
}

export function isSealed(jwk: Record<string, unknown>): jwk is Record<string, unknown> & SealedJwk {
  return jwk[SEALED_MARK] !== undefined;
}

/** Derives the AES-256-GCM key-encryption key from the secret once; callers cache the promise. */
export async function deriveKeyEncryptionKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: SALT, iterations: ITERATIONS },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/**
 * Seals a private JWK. The `kid` is the additional authenticated data, so a sealed key cannot
 * be moved onto another key's record unnoticed.
 */
export async function sealJwk(
  key: CryptoKey,
  kid: string,
  jwk: Record<string, unknown>,
): Promise<SealedJwk> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(kid) },
    key,
    encoder.encode(JSON.stringify(jwk)),
  );
  return { [SEALED_MARK]: VERSION, iv: base64url(iv), ct: base64url(new Uint8Array(ct)) };
}

export async function openJwk(
  key: CryptoKey,
  kid: string,
  sealed: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (
    sealed[SEALED_MARK] !== VERSION ||
    typeof sealed.iv !== 'string' ||
    typeof sealed.ct !== 'string'
  ) {
    throw new KeyDecryptionError(`Signing key "${kid}" is sealed in an unknown format`);
  }
  try {
    const clear = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(sealed.iv), additionalData: encoder.encode(kid) },
      key,
      fromBase64url(sealed.ct),
    );
    return JSON.parse(decoder.decode(clear)) as Record<string, unknown>;
  } catch (cause) {
    throw new KeyDecryptionError(
      `Signing key "${kid}" could not be opened: keyEncryptionSecret differs from the one it was sealed with, or the stored key was altered`,
      { cause },
    );
  }
}
