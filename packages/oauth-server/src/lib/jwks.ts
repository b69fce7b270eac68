import { DPOP_ALGORITHMS } from '@portcullis/dpop';
import type { JWK } from 'jose';

/**
 * The signature algorithms a client assertion may use (RFC 7523 §3, OpenID Connect Core §9):
 * asymmetric only. `none` and the HMAC algorithms (`HS*`: a shared secret, `client_secret_jwt`)
 * are never accepted: the same asymmetric set as DPoP proofs (RFC 9449 §4.2).
 */
export const ASSERTION_SIGNING_ALGS = DPOP_ALGORITHMS;

/** Most keys a registered `jwks` (inline) may hold. */
const MAX_REGISTERED_KEYS = 10;
/** Most usable keys taken from a fetched `jwks_uri` set. */
const MAX_FETCHED_KEYS = 20;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const B64URL = /^[A-Za-z0-9_-]+$/;
const CURVES: Record<string, { crv: string[]; length: number[] }> = {
  EC: { crv: ['P-256', 'P-384', 'P-521'], length: [43, 64, 88] },
  OKP: { crv: ['Ed25519'], length: [43] },
};

function b64url(value: unknown, min: number, max: number): boolean {
  return (
    typeof value === 'string' && value.length >= min && value.length <= max && B64URL.test(value)
  );
}

/**
 * Why a JWK cannot be a client's signature verification key, or `undefined` when it can: an
 * object with a public EC (P-256/384/521), RSA (2048 to 8192 bits) or OKP (Ed25519) key, no
 * private or symmetric member, `use` absent or `sig`, `key_ops` (if any) with `verify`, an
 * `alg` (if any) from `ASSERTION_SIGNING_ALGS`, a `kid` (if any) of 1 to 256 characters.
 */
function keyProblem(jwk: unknown): string | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'is not an object';
  const key = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in key)) return 'holds private key material';
  if (key.kty === 'RSA') {
    // 2048 to 8192 bits of modulus, a short exponent.
    if (!b64url(key.n, 342, 1366) || !b64url(key.e, 1, 8)) return 'is not an RSA public key';
  } else if (key.kty === 'EC' || key.kty === 'OKP') {
    const curve = CURVES[key.kty]!;
    const i = curve.crv.indexOf(String(key.crv));
    if (i === -1) return `has an unsupported ${key.kty} curve`;
    const length = curve.length[i]!;
    if (!b64url(key.x, length, length)) return 'is not a public key of its curve';
    if (key.kty === 'EC' && !b64url(key.y, length, length))
      return 'is not a public key of its curve';
  } else {
    return 'has an unsupported kty (EC, RSA or OKP)';
  }
  if (key.use !== undefined && key.use !== 'sig') return 'is not a signature key (use)';
  if (
    key.key_ops !== undefined &&
    !(Array.isArray(key.key_ops) && key.key_ops.length <= 8 && key.key_ops.includes('verify'))
  ) {
    return 'is not a verification key (key_ops)';
  }
  if (key.alg !== undefined && !(ASSERTION_SIGNING_ALGS as readonly unknown[]).includes(key.alg)) {
    return 'has an unsupported alg';
  }
  if (
    key.kid !== undefined &&
    !(typeof key.kid === 'string' && key.kid.length >= 1 && key.kid.length <= 256)
  ) {
    return 'has an invalid kid';
  }
  return undefined;
}

/** Copies the members of a checked key that verification uses (nothing else is kept). */
function publicPart(jwk: Record<string, unknown>): JWK {
  const out: Record<string, unknown> = {};
  for (const member of ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use', 'key_ops']) {
    if (jwk[member] !== undefined) out[member] = jwk[member];
  }
  return out as JWK;
}

/**
 * A registered or documented `jwks` (`{ keys: [...] }`), every key checked by `keyProblem`:
 * the public keys, or a problem in words (a registration answers it as
 * `invalid_client_metadata`). At most `MAX_REGISTERED_KEYS`.
 */
export function registeredKeys(value: unknown): { keys: JWK[] } | { problem: string } {
  if (
    typeof value !== 'object' ||
    value === null ||
    !Array.isArray((value as { keys?: unknown }).keys)
  ) {
    return { problem: 'jwks must be a JWK Set: an object with a keys array' };
  }
  const keys = (value as { keys: unknown[] }).keys;
  if (keys.length === 0 || keys.length > MAX_REGISTERED_KEYS) {
    return { problem: `jwks must hold 1 to ${MAX_REGISTERED_KEYS} keys` };
  }
  const out: JWK[] = [];
  for (const [i, key] of keys.entries()) {
    const problem = keyProblem(key);
    if (problem) return { problem: `jwks key ${i} ${problem}` };
    out.push(publicPart(key as Record<string, unknown>));
  }
  return { keys: out };
}

/**
 * The usable signature keys of a key set fetched from a client's `jwks_uri`: keys of other
 * kinds or uses (encryption keys) are skipped; a set with private or symmetric key material is
 * refused whole (the client published what it must not). At most `MAX_FETCHED_KEYS`.
 */
export function fetchedKeys(value: unknown): { keys: JWK[] } | { problem: string } {
  if (
    typeof value !== 'object' ||
    value === null ||
    !Array.isArray((value as { keys?: unknown }).keys)
  ) {
    return { problem: 'the jwks_uri document is not a JWK Set' };
  }
  const out: JWK[] = [];
  for (const key of (value as { keys: unknown[] }).keys) {
    const problem = keyProblem(key);
    if (problem === 'holds private key material') {
      return { problem: 'the jwks_uri document holds private key material' };
    }
    if (problem === undefined && out.length < MAX_FETCHED_KEYS) {
      out.push(publicPart(key as Record<string, unknown>));
    }
  }
  if (out.length === 0) return { problem: 'the jwks_uri document holds no usable signature key' };
  return { keys: out };
}

/**
 * Why a `jwks_uri` cannot be fetched, or `undefined`: an absolute https URL (http with the
 * development allowance) without credentials or fragment, at most 2048 characters. Its
 * addresses are checked when it is fetched.
 */
export function jwksUriProblem(uri: unknown, allowInsecure: boolean): string | undefined {
  if (typeof uri !== 'string' || uri.length > 2048 || !URL.canParse(uri)) {
    return 'jwks_uri must be an absolute URL';
  }
  const url = new URL(uri);
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    return 'jwks_uri must use https';
  }
  if (url.username || url.password || uri.includes('#')) {
    return 'jwks_uri must not contain credentials or a fragment';
  }
  return undefined;
}
