import type { DpopAlgorithm } from '../algorithms.js';

/** The members RFC 7638 §3.2 hashes, in its lexicographic order, per key type. */
export type PublicJwk =
  | { crv: 'P-256' | 'P-384' | 'P-521'; kty: 'EC'; x: string; y: string }
  | { e: string; kty: 'RSA'; n: string }
  | { crv: 'Ed25519'; kty: 'OKP'; x: string };

/** Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** base64url of a coordinate, per curve: 32, 48 and 66 bytes (RFC 7518 §6.2.1.2). */
const EC_COORDINATE_LENGTH = { 'P-256': 43, 'P-384': 64, 'P-521': 88 } as const;
const EC_ALGORITHM = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as const;

/** RSA moduli from 2048 to 4096 bits: jose's floor, and a ceiling on verification cost. */
const RSA_MODULUS_CHARS = { min: 342, max: 683 };
const RSA_EXPONENT_MAX_CHARS = 8;

const B64URL = /^[A-Za-z0-9_-]+$/;

function b64(value: unknown, min: number, max = min): value is string {
  return (
    typeof value === 'string' && value.length >= min && value.length <= max && B64URL.test(value)
  );
}

export type JwkResult = { ok: true; jwk: PublicJwk } | { ok: false; reason: string };

/**
 * Reads a public JWK of a kind DPoP supports, keeping only the RFC 7638 members: those fix
 * the key, so the thumbprint and the imported key always describe the same key.
 */
export function readPublicJwk(value: unknown): JwkResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'The "jwk" header is not a JSON object' };
  }
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    return { ok: false, reason: 'The "jwk" header must be a public key, not a private one' };
  }
  switch (jwk.kty) {
    case 'EC': {
      const crv = jwk.crv;
      if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') break;
      const length = EC_COORDINATE_LENGTH[crv];
      if (!b64(jwk.x, length) || !b64(jwk.y, length)) break;
      return { ok: true, jwk: { crv, kty: 'EC', x: jwk.x, y: jwk.y } };
    }
    case 'RSA':
      if (!b64(jwk.e, 1, RSA_EXPONENT_MAX_CHARS)) break;
      if (!b64(jwk.n, RSA_MODULUS_CHARS.min, RSA_MODULUS_CHARS.max)) break;
      return { ok: true, jwk: { e: jwk.e, kty: 'RSA', n: jwk.n } };
    case 'OKP':
      if (jwk.crv !== 'Ed25519' || !b64(jwk.x, 43)) break;
      return { ok: true, jwk: { crv: 'Ed25519', kty: 'OKP', x: jwk.x } };
  }
  return {
    ok: false,
    reason:
      'The "jwk" header is not a supported public key (EC P-256/P-384/P-521, RSA 2048-4096 bits, OKP Ed25519)',
  };
}

/** Whether a key of this type can make signatures of this algorithm. */
export function fitsAlgorithm(jwk: PublicJwk, alg: DpopAlgorithm): boolean {
  switch (jwk.kty) {
    case 'EC':
      return EC_ALGORITHM[jwk.crv] === alg;
    case 'RSA':
      return alg.startsWith('PS') || alg.startsWith('RS');
    case 'OKP':
      return alg === 'EdDSA' || alg === 'Ed25519';
  }
}

/** The RFC 7638 §3 input: the required members, ordered, no whitespace. */
export function thumbprintInput(jwk: PublicJwk): string {
  // The members are base64url or fixed names: JSON.stringify adds no escapes to them, and
  // PublicJwk objects are built with their keys in lexicographic order.
  return JSON.stringify(jwk);
}
