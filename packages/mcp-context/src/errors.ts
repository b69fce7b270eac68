/** Every `code` a `McpContextError` can carry. */
export type McpContextErrorCode =
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unauthenticated'
  | 'rate_limited'
  | 'temporarily_unavailable';

/**
 * Base class of the protocol failures this package throws; callers' mistakes are
 * `TypeError`s. Messages are safe to show a client: they never contain the token.
 */
export class McpContextError extends Error {
  static code: McpContextErrorCode | 'ERR_MCP_CONTEXT' = 'ERR_MCP_CONTEXT';
  code: McpContextErrorCode | 'ERR_MCP_CONTEXT' = 'ERR_MCP_CONTEXT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * The token is missing, malformed, expired, revoked, or not issued for this resource
 * ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `invalid_token`, 401).
 */
export class InvalidTokenError extends McpContextError {
  static override code = 'invalid_token' as const;
  override code = 'invalid_token' as const;
}

/**
 * The token is valid but lacks scopes the request needs
 * ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `insufficient_scope`,
 * 403). Thrown from a tool, the MCP SDK turns it into an `isError` result with this message.
 */
export class InsufficientScopeError extends McpContextError {
  static override code = 'insufficient_scope' as const;
  override code = 'insufficient_scope' as const;
  /** Every scope the operation needs, not only the missing ones. */
  readonly scopes: string[];

  constructor(scopes: string[], message?: string, options?: { cause?: unknown }) {
    super(
      message ??
        `Insufficient permissions: ${scopes.join(', ')} scope${scopes.length === 1 ? '' : 's'} required`,
      options,
    );
    this.scopes = scopes;
  }
}

/** A tool that needs a caller was called without one (no `authInfo` on the request). */
export class AuthenticationRequiredError extends McpContextError {
  static override code = 'unauthenticated' as const;
  override code = 'unauthenticated' as const;

  constructor(message = 'Authentication required', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The caller has used up its allowance; `retryAfter` says when to come back. */
export class RateLimitedError extends McpContextError {
  static override code = 'rate_limited' as const;
  override code = 'rate_limited' as const;
  /** Seconds until a retry can succeed. */
  readonly retryAfter: number;

  constructor(retryAfter: number, options?: { cause?: unknown }) {
    super(`Rate limit exceeded. Please try again later. Retry in ${retryAfter}s.`, options);
    this.retryAfter = retryAfter;
  }
}

/**
 * The verifier could not reach what it checks tokens against (JWKS, introspection endpoint,
 * token store). Answered with 503 and `Retry-After`, not 401: the token may be fine.
 */
export class VerifierUnavailableError extends McpContextError {
  static override code = 'temporarily_unavailable' as const;
  override code = 'temporarily_unavailable' as const;
}
