/** Every `code` a `TokenStoreError` can carry. */
export type TokenStoreErrorCode =
  | 'token_store_error'
  | 'invalid_token'
  | 'expired'
  | 'token_reused'
  | 'family_revoked'
  | 'client_changed'
  | 'store_unavailable'
  | 'key_decryption_failed'
  | 'invalid_cursor'
  | 'binding_mismatch';

/** Base class of the runtime failures this package throws; callers' mistakes are `TypeError`s. */
export class TokenStoreError extends Error {
  static code: TokenStoreErrorCode = 'token_store_error';
  code: TokenStoreErrorCode = 'token_store_error';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * The token is unknown, revoked, or not a token at all. Resource servers answer it with
 * `401` and `error="invalid_token"` ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)).
 */
export class InvalidTokenError extends TokenStoreError {
  static override code = 'invalid_token' as const;
  override code = 'invalid_token' as const;

  constructor(message = 'The token is not valid', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The token was issued by this store but its lifetime has passed. On the wire it is still an
 * `invalid_token` ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)); the
 * separate class lets a server say "expired" in `error_description`.
 */
export class TokenExpiredError extends TokenStoreError {
  static override code = 'expired' as const;
  override code = 'expired' as const;
  /** When the token stopped being valid (epoch ms). */
  readonly expiredAt: number;

  constructor(expiredAt: number, options?: { cause?: unknown }) {
    super('The token has expired', options);
    this.expiredAt = expiredAt;
  }
}

/**
 * A refresh token that had already been exchanged was presented again. Its whole family
 * (the grant's codes, access and refresh tokens) has been revoked before this was thrown
 * ([OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3.1),
 * [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)). Answer `invalid_grant`.
 */
export class RefreshTokenReuseError extends TokenStoreError {
  static override code = 'token_reused' as const;
  override code = 'token_reused' as const;
  /** The family that was revoked. */
  readonly familyId: string;

  constructor(familyId: string, options?: { cause?: unknown }) {
    super('The refresh token was already used; its whole grant has been revoked', options);
    this.familyId = familyId;
  }
}

/**
 * A write into a grant (family) that has been revoked was refused: the durable revocation
 * marker of the family is checked atomically with every write of a code, access token or
 * refresh token, so nothing of a revoked grant is stored afterwards, whatever the interleaving
 * ([RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)). An authorization
 * server answers `invalid_grant`.
 */
export class FamilyRevokedError extends TokenStoreError {
  static override code = 'family_revoked' as const;
  override code = 'family_revoked' as const;
  /** The revoked family. */
  readonly familyId: string;

  constructor(familyId: string, options?: { cause?: unknown }) {
    super('The grant has been revoked; nothing more can be issued from it', options);
    this.familyId = familyId;
  }
}

/**
 * A grant step was given a client record from `clients.lookup()` (this process's memory) and the
 * stored client no longer matches it: changed, deleted or expired since. The step changed
 * nothing; the caller reads the client again (`clients.find()`) and decides anew.
 */
export class ClientChangedError extends TokenStoreError {
  static override code = 'client_changed' as const;
  override code = 'client_changed' as const;
  /** The client whose stored record differs. */
  readonly clientId: string;

  constructor(clientId: string, options?: { cause?: unknown }) {
    super('The client changed since it was read; nothing was done', options);
    this.clientId = clientId;
  }
}

/**
 * A refresh token bound to a key (`extra.cnf.jkt`, RFC 9449 §5) was presented without that key:
 * `rotate`'s `cnfJkt` named no key or another one. Checked in the rotation's own atomic step, so
 * nothing was spent. Answer `invalid_grant`.
 */
export class BindingMismatchError extends TokenStoreError {
  static override code = 'binding_mismatch' as const;
  override code = 'binding_mismatch' as const;
  /** The key the request named (`null`: none). */
  readonly presented: string | null;

  constructor(presented: string | null, options?: { cause?: unknown }) {
    super(
      presented === null
        ? 'The refresh token is bound to a key; none was presented'
        : 'The refresh token is bound to another key',
      options,
    );
    this.presented = presented;
  }
}

/**
 * The `code` of every failure that means "this refresh token or code is no good" (the caller
 * answers `invalid_grant`): unknown, expired, reused, or its grant revoked. Match on these
 * constants rather than on string literals.
 */
export const GRANT_FAILURE_CODES: readonly TokenStoreErrorCode[] = [
  InvalidTokenError.code,
  TokenExpiredError.code,
  RefreshTokenReuseError.code,
  FamilyRevokedError.code,
  BindingMismatchError.code,
];

/**
 * The backend (Postgres, PGlite, Redis) failed or could not be reached. Callers answer `503`
 * (with `Retry-After`) rather than `500`; the backend's own error is the `cause`.
 */
export class StoreUnavailableError extends TokenStoreError {
  static override code = 'store_unavailable' as const;
  override code = 'store_unavailable' as const;

  constructor(message = 'The token store is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A sealed signing key could not be opened: the `keyEncryptionSecret` is missing or is not the
 * one it was sealed with, or the stored ciphertext was altered (AES-GCM authenticates it).
 */
export class KeyDecryptionError extends TokenStoreError {
  static override code = 'key_decryption_failed' as const;
  override code = 'key_decryption_failed' as const;
}

/**
 * A revocation feed cursor that `revocations.list()` did not hand out (malformed, or not
 * ordered as one of its cursors is). An authorization server answers `400 invalid_request`.
 */
export class InvalidCursorError extends TokenStoreError {
  static override code = 'invalid_cursor' as const;
  override code = 'invalid_cursor' as const;

  constructor(message = 'The revocation feed cursor is not valid', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Whether `error` is a `TokenStoreError` with one of `codes`. Matches on the stable `code`
 * (the class's static), so an error thrown by a second copy of this package still matches.
 *
 * @example
 * if (isTokenStoreError(error, StoreUnavailableError.code)) return new Response(null, { status: 503 });
 */
export function isTokenStoreError(
  error: unknown,
  ...codes: TokenStoreErrorCode[]
): error is TokenStoreError {
  if (error instanceof TokenStoreError) return codes.length === 0 || codes.includes(error.code);
  if (typeof error !== 'object' || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return (
    typeof code === 'string' &&
    typeof name === 'string' &&
    name.endsWith('Error') &&
    (codes as string[]).includes(code)
  );
}
