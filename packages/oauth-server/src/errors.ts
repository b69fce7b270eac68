/**
 * OAuth wire errors: one class per error code of RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1,
 * RFC 7591 §3.2.2, RFC 7009 §2.2.1, RFC 8707 §2 and RFC 9449 §12.2, each with `toResponseObject()`.
 * `errorResponse()` (in `error-response.ts`) is the one place that maps them to HTTP.
 */

/** Every wire `error` value this package emits. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_target'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'unsupported_token_type'
  | 'too_many_requests'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** The JSON body of an error response (RFC 6749 §5.2). */
export interface OAuthErrorResponseObject {
  error: OAuthErrorCode;
  error_description?: string;
  error_uri?: string;
}

// RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
const DESCRIPTION_FORBIDDEN = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g;

/**
 * Base class of the OAuth protocol errors: `code` is the wire `error` value (static and
 * instance), `status` the HTTP status the error maps to.
 * See [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2).
 *
 * @example
 * throw new InvalidGrantError('the authorization code was already used');
 * // → 400 {"error":"invalid_grant","error_description":"the authorization code was already used"}
 */
export class OAuthError extends Error {
  static code: OAuthErrorCode = 'server_error';
  code: OAuthErrorCode = 'server_error';
  /** HTTP status of the response this error becomes. */
  status = 400;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }

  /** `{ error, error_description }` with the description reduced to the characters §5.2 allows. */
  toResponseObject(): OAuthErrorResponseObject {
    const description = this.message.replace(DESCRIPTION_FORBIDDEN, "'").slice(0, 500);
    return description
      ? { error: this.code, error_description: description }
      : { error: this.code };
  }
}

/** RFC 6749 §5.2: missing, repeated or malformed parameter. */
export class InvalidRequestError extends OAuthError {
  static override code = 'invalid_request' as const;
  override code = 'invalid_request' as const;
}
/** RFC 6749 §5.2: client authentication failed (401). */
export class InvalidClientError extends OAuthError {
  static override code = 'invalid_client' as const;
  override code = 'invalid_client' as const;
  override status = 401;
}
/** RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked, used or not this client's. */
export class InvalidGrantError extends OAuthError {
  static override code = 'invalid_grant' as const;
  override code = 'invalid_grant' as const;
}
/** RFC 6749 §5.2: the client may not use this grant type. */
export class UnauthorizedClientError extends OAuthError {
  static override code = 'unauthorized_client' as const;
  override code = 'unauthorized_client' as const;
}
/** RFC 6749 §5.2: the grant type is not supported. */
export class UnsupportedGrantTypeError extends OAuthError {
  static override code = 'unsupported_grant_type' as const;
  override code = 'unsupported_grant_type' as const;
}
/** RFC 6749 §5.2: a requested scope is unknown or exceeds what was granted. */
export class InvalidScopeError extends OAuthError {
  static override code = 'invalid_scope' as const;
  override code = 'invalid_scope' as const;
}
/** RFC 6749 §4.1.2.1: the user or the server denied the request. */
export class AccessDeniedError extends OAuthError {
  static override code = 'access_denied' as const;
  override code = 'access_denied' as const;
  override status = 403;
}
/** RFC 6749 §4.1.2.1: only `response_type=code` is supported. */
export class UnsupportedResponseTypeError extends OAuthError {
  static override code = 'unsupported_response_type' as const;
  override code = 'unsupported_response_type' as const;
}
/** RFC 6749 §4.1.2.1: an unexpected condition; the description never carries internals. */
export class ServerError extends OAuthError {
  static override code = 'server_error' as const;
  override code = 'server_error' as const;
  override status = 500;
}
/** RFC 6749 §4.1.2.1: the server (or its store) is temporarily unavailable (503). */
export class TemporarilyUnavailableError extends OAuthError {
  static override code = 'temporarily_unavailable' as const;
  override code = 'temporarily_unavailable' as const;
  override status = 503;
}
/** RFC 8707 §2: the `resource` is not one this server issues tokens for. */
export class InvalidTargetError extends OAuthError {
  static override code = 'invalid_target' as const;
  override code = 'invalid_target' as const;
}
/** RFC 6750 §3.1: the bearer token is invalid (401). */
export class InvalidTokenError extends OAuthError {
  static override code = 'invalid_token' as const;
  override code = 'invalid_token' as const;
  override status = 401;
}
/** RFC 6750 §3.1: the token lacks a needed scope (403). */
export class InsufficientScopeError extends OAuthError {
  static override code = 'insufficient_scope' as const;
  override code = 'insufficient_scope' as const;
  override status = 403;
}
/** RFC 7591 §3.2.2: a redirect URI is not acceptable. */
export class InvalidRedirectUriError extends OAuthError {
  static override code = 'invalid_redirect_uri' as const;
  override code = 'invalid_redirect_uri' as const;
}
/** RFC 7591 §3.2.2: a client metadata field is invalid. */
export class InvalidClientMetadataError extends OAuthError {
  static override code = 'invalid_client_metadata' as const;
  override code = 'invalid_client_metadata' as const;
}
/** RFC 7009 §2.2.1: the server does not revoke this type of token. */
export class UnsupportedTokenTypeError extends OAuthError {
  static override code = 'unsupported_token_type' as const;
  override code = 'unsupported_token_type' as const;
}
/**
 * A rate limit was exceeded (429 with `Retry-After`). Not an RFC 6749 code; the MCP
 * TypeScript SDK's authorization server uses the same name.
 */
export class TooManyRequestsError extends OAuthError {
  static override code = 'too_many_requests' as const;
  override code = 'too_many_requests' as const;
  override status = 429;
  /** Seconds until a retry may succeed. */
  readonly retryAfter: number;

  constructor(message: string, retryAfter: number, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfter = retryAfter;
  }
}
/**
 * RFC 9449 §5: the token request's DPoP proof is missing (where one is required), malformed,
 * replayed, for another URL or method, too old, or made with a key the grant is not bound to.
 */
export class InvalidDpopProofError extends OAuthError {
  static override code = 'invalid_dpop_proof' as const;
  override code = 'invalid_dpop_proof' as const;
}
/**
 * RFC 9449 §8: the server requires a nonce in the DPoP proof; the answer carries the one to use
 * in its `DPoP-Nonce` header and the client retries with it.
 */
export class UseDpopNonceError extends OAuthError {
  static override code = 'use_dpop_nonce' as const;
  override code = 'use_dpop_nonce' as const;
  /** The nonce the client is to put in its next proof (the `DPoP-Nonce` header). */
  readonly nonce: string;

  constructor(message: string, nonce: string, options?: { cause?: unknown }) {
    super(message, options);
    this.nonce = nonce;
  }
}
