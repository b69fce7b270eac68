import { PGlite } from '@electric-sql/pglite';
import { createTokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  errorResponse,
  InsufficientScopeError,
  InvalidClientError,
  InvalidClientMetadataError,
  InvalidGrantError,
  InvalidRedirectUriError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
  OAuthError,
  ServerError,
  TemporarilyUnavailableError,
  TooManyRequestsError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
  UnsupportedResponseTypeError,
  UnsupportedTokenTypeError,
} from '../src/index.js';
import { exchange, publicClient, setup } from './support/setup.js';

describe('OAuth errors', () => {
  it('RFC 6749 §5.2 / RFC 6750 §3.1 / RFC 7591 §3.2.2 / RFC 7009 §2.2.1 / RFC 8707 §2: one class per code, with a stable static and instance code', () => {
    const cases: [new (m: string) => OAuthError, string, number][] = [
      [InvalidRequestError, 'invalid_request', 400],
      [InvalidClientError, 'invalid_client', 401],
      [InvalidGrantError, 'invalid_grant', 400],
      [UnauthorizedClientError, 'unauthorized_client', 400],
      [UnsupportedGrantTypeError, 'unsupported_grant_type', 400],
      [InvalidScopeError, 'invalid_scope', 400],
      [AccessDeniedError, 'access_denied', 403],
      [UnsupportedResponseTypeError, 'unsupported_response_type', 400],
      [ServerError, 'server_error', 500],
      [TemporarilyUnavailableError, 'temporarily_unavailable', 503],
      [InvalidTargetError, 'invalid_target', 400],
      [InvalidTokenError, 'invalid_token', 401],
      [InsufficientScopeError, 'insufficient_scope', 403],
      [InvalidRedirectUriError, 'invalid_redirect_uri', 400],
      [InvalidClientMetadataError, 'invalid_client_metadata', 400],
      [UnsupportedTokenTypeError, 'unsupported_token_type', 400],
    ];
    for (const [Class, code, status] of cases) {
      const error = new Class('why');
      expect(error).toBeInstanceOf(OAuthError);
      expect((Class as unknown as { code: string }).code).toBe(code);
      expect(error.code).toBe(code);
      expect(error.name).toBe(Class.name);
      expect(error.toResponseObject()).toEqual({ error: code, error_description: 'why' });
      expect(errorResponse(error).status).toBe(status);
    }
  });

  it('RFC 6749 §5.2: error_description keeps only the characters the RFC allows', () => {
    expect(
      new InvalidRequestError('a "quoted" \\ value\n').toResponseObject().error_description,
    ).toBe("a 'quoted' ' value'");
  });

  it('RFC 6749 §5.2: invalid_client is 401 and carries WWW-Authenticate: Basic only when Basic was used', () => {
    expect(
      errorResponse(new InvalidClientError('x'), { basicAuth: true }).headers.get(
        'www-authenticate',
      ),
    ).toMatch(/^Basic realm=/);
    expect(errorResponse(new InvalidClientError('x')).headers.get('www-authenticate')).toBeNull();
  });

  it('RFC 6750 §3: invalid_token carries a Bearer challenge; too_many_requests carries Retry-After', () => {
    expect(errorResponse(new InvalidTokenError('expired')).headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="expired"',
    );
    const limited = errorResponse(new TooManyRequestsError('slow down', 7));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
  });

  it('an unexpected error becomes 500 server_error without its message; every error response is no-store', async () => {
    const response = errorResponse(new Error('connection string postgres://admin:hunter2@db'));
    expect(response.status).toBe(500);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toEqual({
      error: 'server_error',
      error_description: 'internal error',
    });
  });

  it('RFC 6749 §4.1.2.1: a store outage is 503 temporarily_unavailable, not 500 (PGlite closed under the server)', async () => {
    const db = new PGlite();
    const s = await setup({}, createTokenStore({ adapter: postgresAdapter(db) }));
    const clientId = await publicClient(s.as);
    await db.close();
    const { response, body } = await exchange(s.as, {
      grant_type: 'refresh_token',
      refresh_token: 'x'.repeat(43),
      client_id: clientId,
    });
    expect(response.status).toBe(503);
    expect(body.error).toBe('temporarily_unavailable');
  }, 60_000);
});
