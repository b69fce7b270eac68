/** Every `code` a `DpopError` can carry. */
export type DpopErrorCode =
  | 'ERR_DPOP_INVALID_PROOF'
  | 'ERR_DPOP_USE_NONCE'
  | 'ERR_DPOP_REPLAY_STORE_FULL';

/**
 * Which RFC 9449 §4.3 check refused a proof: `header` (no proof, or more than one DPoP
 * header), `syntax` (not one compact JWS of JSON objects, too large, `crit`), `typ`, `alg`,
 * `jwk` (not a supported public key, private members, or a key that does not fit `alg`),
 * `signature`, `jti`, `htm`, `htu`, `iat`, `ath`, `nonce` (malformed) and `replay`.
 */
export type ProofCheck =
  | 'header'
  | 'syntax'
  | 'typ'
  | 'alg'
  | 'jwk'
  | 'signature'
  | 'jti'
  | 'htm'
  | 'htu'
  | 'iat'
  | 'ath'
  | 'nonce'
  | 'replay';

/** Base class of the protocol failures this package throws; callers' mistakes are `TypeError`s. */
export class DpopError extends Error {
  static code: DpopErrorCode | 'ERR_DPOP' = 'ERR_DPOP';
  code: DpopErrorCode | 'ERR_DPOP' = 'ERR_DPOP';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * A refused proof: what the client sent is at fault, and the RFC says how to answer — the
 * two subclasses carry the OAuth `error` and build the JSON body. Catch this class, not
 * `DpopError`, to answer a client: a `ReplayStoreFullError` is the server's trouble (503).
 */
export abstract class DpopProofError extends DpopError {
  /** The OAuth error code (RFC 9449 §12.2). */
  abstract readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce';

  /** `{ error, error_description }` for a JSON error body (RFC 6749 §5.2, RFC 9449 §5). */
  toResponseObject(): {
    error: 'invalid_dpop_proof' | 'use_dpop_nonce';
    error_description: string;
  } {
    return { error: this.error, error_description: this.message };
  }
}

/**
 * A proof that fails a check of [RFC 9449 §4.3](https://www.rfc-editor.org/rfc/rfc9449#section-4.3).
 * On the wire: `invalid_dpop_proof` — a 400 JSON error at the token endpoint (§5), a 401 with
 * `WWW-Authenticate: DPoP error="invalid_dpop_proof"` at a resource server (§7.1). The message
 * is safe to send as `error_description`: it never quotes the proof.
 */
export class InvalidDpopProofError extends DpopProofError {
  static override code = 'ERR_DPOP_INVALID_PROOF' as const;
  override code = 'ERR_DPOP_INVALID_PROOF' as const;
  readonly error = 'invalid_dpop_proof' as const;
  /** The check that failed. */
  readonly check: ProofCheck;

  constructor(check: ProofCheck, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.check = check;
  }
}

/**
 * The server requires a nonce and the proof has none, or one that is no longer accepted
 * ([RFC 9449 §8](https://www.rfc-editor.org/rfc/rfc9449#section-8), §9). Answer
 * `use_dpop_nonce` with a fresh nonce in the `DPoP-Nonce` header; the client retries.
 */
export class UseDpopNonceError extends DpopProofError {
  static override code = 'ERR_DPOP_USE_NONCE' as const;
  override code = 'ERR_DPOP_USE_NONCE' as const;
  readonly error = 'use_dpop_nonce' as const;
}

/**
 * The in-memory replay store holds as many unexpired proofs as it may: a proof it cannot
 * remember is not accepted (its replay could not be refused). Not the client's fault: answer
 * 503 with `Retry-After`, and give a busy server a shared store (Redis) or a shorter window.
 */
export class ReplayStoreFullError extends DpopError {
  static override code = 'ERR_DPOP_REPLAY_STORE_FULL' as const;
  override code = 'ERR_DPOP_REPLAY_STORE_FULL' as const;
  /** Seconds until the oldest remembered proof expires and room is made. */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(`The DPoP replay store is full; room in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
