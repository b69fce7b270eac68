import { flattenedVerify } from 'jose';
import { DEFAULT_DPOP_ALGORITHMS, DPOP_ALGORITHMS, type DpopAlgorithm } from './algorithms.js';
import { InvalidDpopProofError, UseDpopNonceError } from './errors.js';
import { constantTimeEqual } from './lib/constant-time.js';
import { invalidType, invalidValue } from './lib/errors.js';
import { MAX_URL_LENGTH, normalizeHttpUrl, requestHtu } from './lib/htu.js';
import { fitsAlgorithm, type PublicJwk, readPublicJwk, thumbprintInput } from './lib/jwk.js';
import { verificationKey } from './lib/key-cache.js';
import { sha256Base64url } from './lib/sha256.js';
import { proofWindow } from './proof-window.js';
import type { ReplayStore } from './replay-store.js';

/**
 * Bounds on what a hostile proof can make us read: an RSA-4096 proof with a nonce and `ath`
 * is under 2.5 KB; nothing longer is decoded or parsed.
 */
export const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const MAX_NONCE_LENGTH = 512;
/** RFC 9110 §9.1 method token, bounded. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;
const B64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;
/** An access token this long is refused by every resource server we know; bounds the hash. */
const MAX_ACCESS_TOKEN_LENGTH = 16384;

/** Checks a proof's `nonce` claim: a `NonceIssuer`, or anything with the same `check`. */
export interface NonceChecker {
  check(nonce: string): boolean | Promise<boolean>;
}

export interface VerifyProofOptions {
  /** The request's method, e.g. `'POST'`; `htm` must equal it exactly. */
  method: string;
  /**
   * The request's absolute URL as the client addressed it (its query and fragment are ignored),
   * e.g. `request.url`. Behind a proxy that rewrites scheme, host or path, pass the public URL:
   * the client signed that one.
   */
  url: string | URL;
  /** At a resource server: the access token of the request; the proof's `ath` must be its hash. */
  accessToken?: string | undefined;
  /**
   * Require a server nonce: a `NonceIssuer` (or any `{ check }`), or the exact nonce expected.
   * A proof without one, or with one not accepted, fails with `UseDpopNonceError`.
   */
  nonce?: NonceChecker | string | undefined;
  /** How old a proof may be, from its `iat` (default 60). */
  maxAgeSeconds?: number;
  /** How far a client's clock may be off, either way (default 15). */
  clockSkewSeconds?: number;
  /** The JWS algorithms accepted (default `DEFAULT_DPOP_ALGORITHMS`); asymmetric only. */
  algorithms?: readonly DpopAlgorithm[];
  /** Where accepted proofs are remembered so that each is accepted once. Required. */
  replay: ReplayStore;
  /** The clock, in epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

/** What a valid proof establishes. */
export interface VerifiedProof {
  /** The SHA-256 JWK thumbprint of the proof's key: compare with `cnf.jkt`, or bind a token to it. */
  jkt: string;
  /** The proof's public key (the RFC 7638 members). */
  jwk: PublicJwk;
  jti: string;
  /** The proof's creation time, seconds since the epoch. */
  iat: number;
  /** The `nonce` of the proof, when it carried one. */
  nonce?: string;
}

interface Settings {
  method: string;
  htu: string;
  accessToken: string | undefined;
  nonce: NonceChecker | string | undefined;
  maxAge: number;
  skew: number;
  algorithms: ReadonlySet<string>;
  replay: ReplayStore;
  now: () => number;
}

const refuse = (check: ConstructorParameters<typeof InvalidDpopProofError>[0], message: string) =>
  new InvalidDpopProofError(check, message);

/**
 * Verifies a DPoP proof, the `DPoP` request header, with every check of
 * [RFC 9449 §4.3](https://www.rfc-editor.org/rfc/rfc9449#section-4.3): one compact JWS,
 * `typ: dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` that fits it, the signature,
 * `jti`, `htm`, `htu` (normalised, query and fragment ignored), `iat` within
 * `maxAgeSeconds` and `clockSkewSeconds`, `ath` when an access token is given (§7.1), the
 * server nonce when required (§8, §9), and — last, so only valid proofs take room — the
 * replay store (§11.1). Resolves to the key's thumbprint `jkt`; binding it to a token is
 * {@link checkBinding}'s job. For any proof, rejects with `InvalidDpopProofError` or
 * `UseDpopNonceError` only; options that are not valid throw a `TypeError`; a replay store or
 * nonce checker that throws is passed on (answer 503, not 401).
 *
 * @example
 * const proof = await verifyProof(request.headers.get('dpop'), {
 *   method: request.method,
 *   url: request.url,
 *   accessToken,
 *   replay,
 * });
 * if (!checkBinding(claims.cnf?.jkt, proof.jkt)) return invalidToken();
 */
export async function verifyProof(
  proof: unknown,
  options: VerifyProofOptions,
): Promise<VerifiedProof> {
  const settings = readOptions(options);
  const read = await readProof(proof, settings);
  await checkNonce(read.nonce, settings.nonce);
  const jkt = await sha256Base64url(read.thumbprintInput);
  // One proof, once, per key: a hash of both keeps store keys short and uniform.
  const key = await sha256Base64url(`${jkt}.${read.jti}`);
  // Whole milliseconds: Redis PXAT and SQL timestamps want integers; `iat` may have a fraction.
  const expiresAtMs = Math.ceil((read.iat + settings.maxAge + settings.skew) * 1000);
  if (!(await settings.replay.remember(key, expiresAtMs))) {
    throw refuse('replay', 'The DPoP proof has been used before');
  }
  const result: VerifiedProof = { jkt, jwk: read.jwk, jti: read.jti, iat: read.iat };
  if (read.nonce !== undefined) result.nonce = read.nonce;
  return result;
}

function readOptions(options: VerifyProofOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw invalidType('options', 'an object', options);
  }
  const { method, url, accessToken, nonce, replay, now = Date.now } = options;
  if (typeof method !== 'string') throw invalidType('method', 'a string', method);
  if (!METHOD.test(method)) throw invalidValue('method', 'must be an HTTP method token');
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw invalidType('url', 'a string or a URL', url);
  }
  const htu = requestHtu(String(url));
  if (htu === undefined) {
    throw invalidValue(
      'url',
      `must be an absolute http(s) URL of at most ${MAX_URL_LENGTH} characters`,
    );
  }
  if (accessToken !== undefined && typeof accessToken !== 'string') {
    throw invalidType('accessToken', 'a string', accessToken);
  }
  if (
    nonce !== undefined &&
    typeof nonce !== 'string' &&
    typeof (nonce as NonceChecker | null)?.check !== 'function'
  ) {
    throw invalidType('nonce', 'a string or an object with check()', nonce);
  }
  if (typeof replay?.remember !== 'function') {
    throw invalidType('replay', 'a replay store (an object with remember())', replay);
  }
  if (typeof now !== 'function') throw invalidType('now', 'a function', now);
  const { maxAgeSeconds: maxAge, clockSkewSeconds: skew } = proofWindow(options);
  const algorithms = options.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw invalidType('algorithms', 'a non-empty array', algorithms);
  }
  for (const alg of algorithms) {
    if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw invalidValue(
        'algorithms',
        `may hold only ${DPOP_ALGORITHMS.join(', ')} (asymmetric), received ${String(alg)}`,
      );
    }
  }
  return {
    method,
    htu,
    accessToken,
    nonce,
    maxAge,
    skew,
    algorithms: new Set(algorithms),
    replay,
    now,
  };
}

interface ReadProof {
  jwk: PublicJwk;
  thumbprintInput: string;
  jti: string;
  iat: number;
  nonce: string | undefined;
}

/** Every check that needs only the proof and the request, the signature included. */
async function readProof(proof: unknown, settings: Settings): Promise<ReadProof> {
  if (typeof proof !== 'string' || proof === '') {
    throw refuse('header', 'The request has no DPoP proof');
  }
  // Headers.get() joins repeated fields with ", "; a JWS has neither character.
  if (proof.includes(',')) throw refuse('header', 'The request has more than one DPoP header');
  if (proof.length > MAX_PROOF_LENGTH) {
    throw refuse('syntax', `The DPoP proof is longer than ${MAX_PROOF_LENGTH} characters`);
  }
  const parts = proof.split('.');
  if (parts.length !== 3 || !parts.every((part) => B64URL_SEGMENT.test(part))) {
    throw refuse('syntax', 'The DPoP proof is not a compact JWS (three base64url parts)');
  }
  const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader, 'header');
  const payload = decodeJson(encodedPayload, 'payload');

  if ('crit' in header) {
    throw refuse('syntax', 'The DPoP proof has a "crit" header: no extension is supported');
  }
  if (typeof header.typ !== 'string' || !isDpopType(header.typ)) {
    throw refuse('typ', 'The DPoP proof\'s "typ" header must be "dpop+jwt"');
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !settings.algorithms.has(alg)) {
    throw refuse(
      'alg',
      `The DPoP proof's "alg" must be one of ${[...settings.algorithms].join(', ')}`,
    );
  }
  const read = readPublicJwk(header.jwk);
  if (!read.ok) throw refuse('jwk', read.reason);
  const jwk = read.jwk;
  if (!fitsAlgorithm(jwk, alg as DpopAlgorithm)) {
    throw refuse('jwk', `The DPoP proof's "jwk" is not a key for "${alg}"`);
  }

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw refuse('jti', `The DPoP proof needs a "jti" of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  if (htm !== settings.method) {
    throw refuse('htm', 'The DPoP proof\'s "htm" is not the method of this request');
  }
  if (typeof htu !== 'string' || /[?#]/.test(htu) || normalizeHttpUrl(htu) !== settings.htu) {
    throw refuse('htu', 'The DPoP proof\'s "htu" is not the URL of this request');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw refuse('iat', 'The DPoP proof needs a numeric "iat"');
  }
  const now = settings.now() / 1000;
  if (iat > now + settings.skew || iat < now - settings.maxAge - settings.skew) {
    throw refuse('iat', 'The DPoP proof was not created within the accepted time window');
  }
  if (settings.accessToken !== undefined) {
    if (typeof ath !== 'string') {
      throw refuse('ath', 'The DPoP proof needs an "ath" claim for the access token');
    }
    const expected =
      settings.accessToken.length <= MAX_ACCESS_TOKEN_LENGTH
        ? await sha256Base64url(settings.accessToken)
        : '';
    if (!constantTimeEqual(ath, expected)) {
      throw refuse('ath', 'The DPoP proof\'s "ath" does not match the access token');
    }
  }
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length > MAX_NONCE_LENGTH)) {
    throw refuse(
      'nonce',
      `The DPoP proof's "nonce" must be a string of at most ${MAX_NONCE_LENGTH} characters`,
    );
  }

  const members = thumbprintInput(jwk);
  let key: CryptoKey | Uint8Array;
  try {
    key = await verificationKey(jwk, members, alg as DpopAlgorithm);
  } catch (cause) {
    throw new InvalidDpopProofError('jwk', 'The DPoP proof\'s "jwk" is not a valid key', { cause });
  }
  try {
    await flattenedVerify({ protected: encodedHeader, payload: encodedPayload, signature }, key, {
      algorithms: [alg],
    });
  } catch (cause) {
    throw new InvalidDpopProofError('signature', "The DPoP proof's signature does not verify", {
      cause,
    });
  }
  return { jwk, thumbprintInput: members, jti, iat, nonce };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decodeJson(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    const padded = segment.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(padded + '='.repeat((4 - (padded.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refuse('syntax', `The DPoP proof's ${part} is not a base64url JSON object`);
  }
  return value as Record<string, unknown>;
}

/** RFC 7515 §4.1.9: a media type, case-insensitive, "application/" implied. */
function isDpopType(typ: string): boolean {
  const lower = typ.toLowerCase();
  return lower === 'dpop+jwt' || lower === 'application/dpop+jwt';
}

async function checkNonce(
  nonce: string | undefined,
  required: NonceChecker | string | undefined,
): Promise<void> {
  if (required === undefined) return;
  if (nonce === undefined) throw new UseDpopNonceError('The server requires a DPoP nonce');
  const accepted =
    typeof required === 'string' ? constantTimeEqual(nonce, required) : await required.check(nonce);
  if (accepted !== true) {
    throw new UseDpopNonceError('The DPoP nonce is not (or no longer) accepted');
  }
}
