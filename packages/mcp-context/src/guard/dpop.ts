import {
  checkBinding,
  createMemoryReplayStore,
  DEFAULT_DPOP_ALGORITHMS,
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  DpopProofError,
  type NonceIssuer,
  proofWindow,
  type ReplayStore,
  ReplayStoreFullError,
  UseDpopNonceError,
  type VerifiedProof,
  verifyProof,
} from '@portcullis/dpop';
import { assertObject, invalidType, invalidValue } from '../lib/errors.js';
import type { AuthInfo } from '../types.js';

/** DPoP ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)) at the resource server. */
export interface DpopOptions {
  /**
   * Refuse plain Bearer tokens: every request needs `Authorization: DPoP` and a proof. Published
   * as `dpop_bound_access_tokens_required: true` in the protected resource metadata. Default
   * `false`: both schemes, and a DPoP-bound token (`cnf.jkt`) is refused as Bearer either way.
   */
  required?: boolean;
  /** JWS algorithms accepted for proofs (`algs`), default `DEFAULT_DPOP_ALGORITHMS` of `@portcullis/dpop`. */
  algorithms?: readonly DpopAlgorithm[];
  /**
   * Where accepted proofs are remembered so each is accepted once (§11.1). Default: a bounded
   * in-memory store, for one instance only; behind a load balancer, share one (Redis
   * `SET NX PXAT`, see `ReplayStore` of `@portcullis/dpop`).
   */
  replay?: ReplayStore;
  /**
   * Server nonces (§9): a `NonceIssuer` (`createNonceIssuer` of `@portcullis/dpop`). A proof
   * without a current nonce gets `use_dpop_nonce` with a fresh one in `DPoP-Nonce`; every DPoP
   * answer carries the current nonce.
   */
  nonce?: Pick<NonceIssuer, 'issue' | 'check'>;
  /** How old a proof may be, from its `iat` (default 60). */
  maxAgeSeconds?: number;
  /** How far a client's clock may be off, either way (default 15). */
  clockSkewSeconds?: number;
}

/** The checked DPoP settings of one guard. */
export interface DpopSettings {
  required: boolean;
  algorithms: readonly DpopAlgorithm[];
  replay: ReplayStore;
  nonce: Pick<NonceIssuer, 'issue' | 'check'> | undefined;
  maxAgeSeconds: number;
  clockSkewSeconds: number;
}

/** `dpop: true` is `dpop: {}`; `undefined` and `false` turn DPoP off. */
export function readDpopOptions(
  value: boolean | DpopOptions | undefined,
): DpopSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const options: DpopOptions = value === true ? {} : value;
  assertObject(options, 'dpop');
  const algorithms = dpopAlgorithms(options);
  if (options.required !== undefined && typeof options.required !== 'boolean') {
    throw invalidType('dpop.required', 'a boolean', options.required);
  }
  if (options.replay !== undefined && typeof options.replay?.remember !== 'function') {
    throw invalidType('dpop.replay', 'a replay store (an object with remember())', options.replay);
  }
  const { nonce } = options;
  if (
    nonce !== undefined &&
    (typeof nonce?.issue !== 'function' || typeof nonce.check !== 'function')
  ) {
    throw invalidType('dpop.nonce', 'a nonce issuer (issue() and check())', nonce);
  }
  // Checked here, not by verifyProof on each request: a bad value would refuse every proof.
  const { maxAgeSeconds, clockSkewSeconds } = proofWindow(options, 'dpop.');
  return {
    required: options.required ?? false,
    algorithms,
    replay: options.replay ?? createMemoryReplayStore(),
    nonce,
    maxAgeSeconds,
    clockSkewSeconds,
  };
}

/** The algorithms of `dpop` options (metadata and guard alike), checked. */
export function dpopAlgorithms(options: Pick<DpopOptions, 'algorithms'>): readonly DpopAlgorithm[] {
  const algorithms = options.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw invalidType('dpop.algorithms', 'a non-empty array of algorithms', algorithms);
  }
  for (const alg of algorithms) {
    if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw invalidValue(
        'dpop.algorithms',
        `may hold only ${DPOP_ALGORITHMS.join(', ')}, received ${String(alg)}`,
      );
    }
  }
  return algorithms;
}

/** The `cnf.jkt` a verifier surfaced under `extra.claims` (JWT payload or introspection answer). */
export function boundJkt(authInfo: AuthInfo): unknown {
  const claims = authInfo.extra?.claims as { cnf?: unknown } | undefined;
  const cnf = claims?.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  return (cnf as { jkt?: unknown }).jkt;
}

/** Whether a verified token is sender-constrained with DPoP (a `cnf.jkt` of any value). */
export function isDpopBound(authInfo: AuthInfo): boolean {
  return boundJkt(authInfo) !== undefined;
}

/** An absolute URL, as `htu` is compared with, is at most this long (`@portcullis/dpop`). */
const MAX_URL_LENGTH = 4096;

/** What checking a request's proof came to. */
export type ProofOutcome =
  | { ok: true; proof: VerifiedProof }
  | { ok: false; kind: 'invalid_dpop_proof' | 'use_dpop_nonce'; description: string }
  | { ok: false; kind: 'unavailable'; retryAfter: number | undefined };

/**
 * Verifies the request's proof (RFC 9449 §4.3, §7.1) against the public URL: the origin of
 * the resource (the scheme and host the clients address, as for the Host check) and the
 * request's own path. Never throws: a proof's fault is `invalid_dpop_proof` or
 * `use_dpop_nonce`; a replay store that is full or fails is `unavailable` (503).
 */
export async function checkProof(
  settings: DpopSettings,
  proof: string | null | undefined,
  method: string,
  url: string,
  token: string,
): Promise<ProofOutcome> {
  if (url.length > MAX_URL_LENGTH) {
    return {
      ok: false,
      kind: 'invalid_dpop_proof',
      description: 'The DPoP proof\'s "htu" is not the URL of this request',
    };
  }
  try {
    const verified = await verifyProof(proof, {
      method,
      url,
      accessToken: token,
      replay: settings.replay,
      nonce: settings.nonce,
      algorithms: settings.algorithms,
      maxAgeSeconds: settings.maxAgeSeconds,
      clockSkewSeconds: settings.clockSkewSeconds,
    });
    return { ok: true, proof: verified };
  } catch (error) {
    if (error instanceof DpopProofError) {
      return {
        ok: false,
        kind: error instanceof UseDpopNonceError ? 'use_dpop_nonce' : 'invalid_dpop_proof',
        description: error.message,
      };
    }
    if (error instanceof TypeError) {
      // The method or URL of the request is not one a proof can name (a malformed target).
      return {
        ok: false,
        kind: 'invalid_dpop_proof',
        description: 'The DPoP proof does not name this request',
      };
    }
    return {
      ok: false,
      kind: 'unavailable',
      retryAfter: error instanceof ReplayStoreFullError ? error.retryAfterSeconds : undefined,
    };
  }
}

/** Whether the proof's key is the one the token is bound to (constant time). */
export function bindingHolds(authInfo: AuthInfo, proof: VerifiedProof): boolean {
  return checkBinding(boundJkt(authInfo), proof.jkt);
}
