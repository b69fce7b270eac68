import { InvalidTokenError, VerifierUnavailableError } from '../errors.js';
import { basicCredentials } from '../lib/basic-credentials.js';
import {
  assertNonEmptyString,
  assertObject,
  assertPositiveInteger,
  assertResourceUrl,
  assertString,
  invalidType,
} from '../lib/errors.js';
import { scopesFromClaims } from '../lib/scopes.js';
import type { AuthInfo, TokenVerifier } from '../types.js';

export interface IntrospectionVerifierOptions {
  /** The authorization server's RFC 7662 introspection endpoint. */
  endpoint: string;
  /** This resource server's client credentials at the authorization server. */
  clientId: string;
  clientSecret: string;
  /** When set, the response's `aud` must contain it (RFC 8707): pass this server's resource URL. */
  audience?: string;
  /** When set, the response's `iss`, if present, must equal it. */
  issuer?: string;
  /** Milliseconds before the call is abandoned (→ 503); default 5 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Verifies opaque (or any) access tokens by asking the authorization server
 * ([RFC 7662 §2](https://www.rfc-editor.org/rfc/rfc7662#section-2)): a POST with the token in
 * the form body (never in a URL), authenticated with HTTP Basic. Accepts only
 * `active: true` responses that are not expired, not refresh tokens and, when `audience` is
 * set, issued for this resource. An unreachable or failing endpoint is a
 * `VerifierUnavailableError` (503), not a 401. Every call is a round trip, which is what
 * makes revocation immediate; wrap it in `cachedVerifier` with a short TTL to trade that off.
 *
 * @example
 * const verifier = introspectionVerifier({
 *   endpoint: 'http://localhost:3000/introspect',
 *   clientId: process.env.OAUTH_CLIENT_ID!, clientSecret: process.env.OAUTH_CLIENT_SECRET!,
 *   audience: 'http://localhost:8000/mcp',
 * });
 */
export function introspectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  assertObject(options, 'options');
  const endpoint = assertResourceUrl(options.endpoint, 'endpoint');
  assertNonEmptyString(options.clientId, 'clientId');
  assertString(options.clientSecret, 'clientSecret');
  if (options.audience !== undefined) assertResourceUrl(options.audience, 'audience');
  if (options.issuer !== undefined) assertNonEmptyString(options.issuer, 'issuer');
  const timeoutMs = options.timeoutMs ?? 5_000;
  assertPositiveInteger(timeoutMs, 'timeoutMs');
  const doFetch = options.fetch ?? fetch;
  if (typeof doFetch !== 'function') throw invalidType('fetch', 'a function', doFetch);
  const authorization = basicCredentials(options.clientId, options.clientSecret);
  const { audience, issuer } = options;

  return async (token) => {
    if (typeof token !== 'string') throw invalidType('token', 'a string', token);
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers: {
          Authorization: authorization,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (error) {
      throw new VerifierUnavailableError('The introspection endpoint could not be reached', {
        cause: error,
      });
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new VerifierUnavailableError(`The introspection endpoint answered ${response.status}`);
    }
    let claims: Record<string, unknown>;
    try {
      const body: unknown = await response.json();
      assertObject(body, 'introspection response');
      claims = body;
    } catch (error) {
      throw new VerifierUnavailableError('The introspection response is not a JSON object', {
        cause: error,
      });
    }
    // RFC 7662 §2.2: only the exact boolean true means active.
    if (claims.active !== true) throw new InvalidTokenError('The access token is not active');
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    if (exp !== undefined && exp * 1000 <= Date.now()) {
      throw new InvalidTokenError('The access token has expired');
    }
    if (claims.token_type === 'refresh_token') {
      throw new InvalidTokenError('A refresh token is not an access token');
    }
    if (issuer !== undefined && claims.iss !== undefined && claims.iss !== issuer) {
      throw new InvalidTokenError(`The access token's "iss" is not accepted`);
    }
    if (audience !== undefined) {
      const aud = claims.aud;
      const ok = Array.isArray(aud) ? aud.includes(audience) : aud === audience;
      if (!ok) throw new InvalidTokenError('The access token was not issued for this resource');
    }
    const info: AuthInfo = {
      token,
      clientId: typeof claims.client_id === 'string' ? claims.client_id : '',
      scopes: scopesFromClaims(claims),
      extra: { claims },
    };
    if (exp !== undefined) info.expiresAt = exp;
    if (audience !== undefined) info.resource = new URL(audience);
    if (typeof claims.sub === 'string') info.userId = claims.sub;
    return info;
  };
}
