import {
  OAuthError,
  ServerError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from './errors.js';
import { isStoreUnavailable } from './lib/store.js';

/** How the request that failed was made, where it changes the error response. */
export interface ErrorResponseOptions {
  /** The client tried HTTP Basic authentication: `invalid_client` then carries `WWW-Authenticate: Basic`. */
  basicAuth?: boolean;
  /** Extra headers (CORS, rate limit). */
  headers?: HeadersInit;
}

/**
 * Turns any thrown value into the JSON error response of
 * [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2): the one mapping from
 * error to status and headers. `invalid_client` → 401 (with `WWW-Authenticate: Basic` when the
 * client used Basic, §5.2), `invalid_token` → 401 + `WWW-Authenticate: Bearer` (RFC 6750 §3),
 * `insufficient_scope` → 403, `too_many_requests` → 429 + `Retry-After`, `use_dpop_nonce` → 400 +
 * `DPoP-Nonce` (RFC 9449 §8), a store outage → 503,
 * other OAuth errors → 400; anything unexpected → 500 `server_error` without its message.
 * Every error response carries `Cache-Control: no-store`.
 *
 * @example
 * try { ... } catch (error) { return errorResponse(error, { basicAuth: true }); }
 */
export function errorResponse(error: unknown, options: ErrorResponseOptions = {}): Response {
  const oauth = toOAuthError(error);
  const headers = new Headers(options.headers);
  headers.set('Content-Type', 'application/json');
  headers.set('Cache-Control', 'no-store');
  headers.set('Pragma', 'no-cache');
  const body = oauth.toResponseObject();
  if (oauth.code === 'invalid_client' && options.basicAuth) {
    headers.set('WWW-Authenticate', 'Basic realm="oauth", charset="UTF-8"');
  } else if (oauth.code === 'invalid_token' || oauth.code === 'insufficient_scope') {
    headers.set('WWW-Authenticate', bearerChallenge(body));
  } else if (oauth.code === 'too_many_requests' && 'retryAfter' in oauth) {
    headers.set('Retry-After', String(oauth.retryAfter));
  } else if (oauth instanceof UseDpopNonceError) {
    headers.set('DPoP-Nonce', oauth.nonce);
  }
  return new Response(JSON.stringify(body), { status: oauth.status, headers });
}

/** The OAuth error a thrown value stands for; unexpected values become a bare `server_error`. */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  if (isStoreUnavailable(error)) {
    return new TemporarilyUnavailableError('the token store is unavailable, retry later', {
      cause: error,
    });
  }
  return new ServerError('internal error', { cause: error });
}

function bearerChallenge(body: { error: string; error_description?: string }): string {
  const description = body.error_description
    ? `, error_description="${body.error_description}"`
    : '';
  return `Bearer error="${body.error}"${description}`;
}
