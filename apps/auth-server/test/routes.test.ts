import { type AuthServer, freePort } from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp, startAppExpectingFailure } from './helpers/app';

let app: AuthServer;

beforeAll(async () => {
  app = await startApp();
});

afterAll(async () => {
  await app?.close();
});

async function register(body: Record<string, unknown>) {
  return fetch(`${app.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
}

describe('OAuth endpoints mounted in route handlers, over HTTP', () => {
  it('RFC 8414 §3: metadata at /.well-known/oauth-authorization-server names the configured issuer', async () => {
    const response = await fetch(`${app.url}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: app.url,
      authorization_endpoint: `${app.url}/authorize`,
      token_endpoint: `${app.url}/token`,
      registration_endpoint: `${app.url}/register`,
      revocation_endpoint: `${app.url}/revoke`,
      jwks_uri: `${app.url}/jwks.json`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    // The MCP scopes, and OpenID Connect's (issue 18 §1).
    expect(metadata.scopes_supported).toEqual([
      'read',
      'write',
      'admin',
      'openid',
      'profile',
      'email',
    ]);
  });

  it('OpenID Connect Discovery 1.0 §4: /.well-known/openid-configuration has the same issuer', async () => {
    const response = await fetch(`${app.url}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { issuer: string }).issuer).toBe(app.url);
  });

  it('RFC 7517 §5: /jwks.json publishes an ES256 public key and no private part', async () => {
    const response = await fetch(`${app.url}/jwks.json`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThan(0);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    for (const key of keys) expect(key).not.toHaveProperty('d');
  });

  it('RFC 6749 §5.2: an unknown code is invalid_grant as JSON, no-store', async () => {
    const response = await form('/token', {
      grant_type: 'authorization_code',
      code: 'not-a-code',
      code_verifier: 'v'.repeat(43),
      redirect_uri: 'http://127.0.0.1:9/callback',
      client_id: 'nobody',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('cache-control')).toContain('no-store');
    const body = (await response.json()) as { error: string };
    expect(['invalid_grant', 'invalid_client']).toContain(body.error);
  });

  it('/token, answered beside Next.js, carries the headers of every response, uncompressed', async () => {
    const response = await form(
      '/token',
      { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'nobody' },
      { 'accept-encoding': 'gzip, br' },
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = await response.text();
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(JSON.parse(body)).toMatchObject({ error: 'invalid_client' });
    // Next.js still answers everything else, with the same headers and no compression.
    const jwks = await fetch(`${app.url}/jwks.json`, { headers: { 'accept-encoding': 'gzip' } });
    expect(jwks.headers.get('x-frame-options')).toBe('DENY');
    expect(jwks.headers.get('content-encoding')).toBeNull();
  });

  it('RFC 6749 §5.2: an unknown grant_type is unsupported_grant_type (400)', async () => {
    const response = await form('/token', { grant_type: 'password', username: 'a', password: 'b' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('unsupported_grant_type');
  });

  it('RFC 7591 §3.2.1: registration answers 201 with a client_id; a bad redirect URI is 400', async () => {
    const ok = await register({
      client_name: 'Route Test',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      token_endpoint_auth_method: 'none',
    });
    expect(ok.status).toBe(201);
    const client = (await ok.json()) as { client_id: string; redirect_uris: string[] };
    expect(client.client_id).toEqual(expect.any(String));
    expect(client.redirect_uris).toEqual(['http://127.0.0.1:9/callback']);

    const bad = await register({
      redirect_uris: ['not a uri'],
      token_endpoint_auth_method: 'none',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /^invalid_(redirect_uri|client_metadata)$/,
    );
  });

  it('RFC 7009 §2.2: revoking an unknown token answers 200', async () => {
    const ok = await register({
      redirect_uris: ['http://127.0.0.1:9/callback'],
      token_endpoint_auth_method: 'none',
    });
    const { client_id } = (await ok.json()) as { client_id: string };
    const response = await form('/revoke', { token: 'unknown-token', client_id });
    expect(response.status).toBe(200);
  });

  it('CORS preflight on /token is answered for browser-based MCP clients', async () => {
    const response = await fetch(`${app.url}/token`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://client.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('access-control-allow-origin')).toBeTruthy();
  });
});

describe('/authorize and the pages', () => {
  it('RFC 6749 §4.1.2.1: an unknown client gets an error page, never a redirect', async () => {
    const url = new URL(`${app.url}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'unknown',
      redirect_uri: 'https://evil.example/cb',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
      state: 's',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('a valid request without a session goes to /login with the request as a same-origin callbackUrl', async () => {
    const registered = await register({
      redirect_uris: ['http://127.0.0.1:9/callback'],
      token_endpoint_auth_method: 'none',
    });
    const { client_id } = (await registered.json()) as { client_id: string };
    const query = new URLSearchParams({
      response_type: 'code',
      client_id,
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'xyz',
      resource: MCP_RESOURCE,
    });
    const response = await fetch(`${app.url}/authorize?${query}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!, app.url);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('callbackUrl')).toBe(`/authorize?${query}`);
  });

  it('the login page is not framable and labels dev login as development only', async () => {
    const response = await fetch(`${app.url}/login`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toContain('no-store');
    expect(await response.text()).toContain('development only');
  });

  it('no open redirect: a foreign callbackUrl is replaced by /account', async () => {
    const html = await (
      await fetch(`${app.url}/login?callbackUrl=${encodeURIComponent('https://evil.example/x')}`)
    ).text();
    // The page's own URL is echoed in the RSC payload; what matters is the prop the form uses.
    expect(html).toContain('\\"callbackUrl\\":\\"/account\\"');
    expect(html).not.toMatch(/callbackUrl\\":\\"https:\/\/evil/);
  });

  it('consent decisions: a cross-site POST is refused; without a session it goes to login', async () => {
    const crossSite = await form(
      '/authorize/decision',
      { request: 'client_id=x', decision: 'approve', csrf: 'x'.repeat(43) },
      { origin: 'https://evil.example' },
    );
    expect(crossSite.status).toBe(403);
    const anonymous = await form(
      '/authorize/decision',
      { request: 'client_id=x', decision: 'approve', csrf: 'x'.repeat(43) },
      { origin: app.url },
    );
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toMatch(/^\/login\?/);
  });

  it('the account page requires a session', async () => {
    const response = await fetch(`${app.url}/account`, { redirect: 'manual' });
    expect(response.status).toBeGreaterThanOrEqual(300);
    expect(response.status).toBeLessThan(400);
    expect(response.headers.get('location')).toContain('/login');
  });
});

describe('an issuer with a path', () => {
  // token-endpoint.ts answers `/token` and `<issuer path>/token` itself and re-bases the first on
  // the issuer, as the catch-all route does: a wrong re-basing would reach no endpoint (404).
  it('POST /token and POST <issuer path>/token both reach the token endpoint', async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const tenant = await startApp({
      port,
      env: { ISSUER_URL: `${origin}/tenant` },
      readyPath: '/api/auth/csrf',
    });
    try {
      const metadata = await fetch(`${origin}/.well-known/oauth-authorization-server/tenant`);
      expect(await metadata.json()).toMatchObject({ token_endpoint: `${origin}/tenant/token` });
      for (const path of ['/tenant/token', '/token']) {
        const response = await fetch(`${origin}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
        });
        expect(response.status, path).toBe(401);
        expect(response.headers.get('x-frame-options')).toBe('DENY');
        expect(await response.json()).toMatchObject({ error: 'invalid_client' });
      }
      // Any other path under the issuer's is not an endpoint of it.
      const other = await fetch(`${origin}/tenant/tokens`, { method: 'POST' });
      expect(other.status).toBe(404);
    } finally {
      await tenant.close();
    }
  });
});

describe('start-up configuration check', () => {
  it('a bad variable stops `next start` with one line naming it', async () => {
    const { code, output } = await startAppExpectingFailure({ ISSUER_URL: 'not a url' });
    expect(code).not.toBe(0);
    expect(output).toMatch(/Invalid configuration: ISSUER_URL must be an absolute URL/);
  });

  it('on Vercel the embedded store is refused with one clear message', async () => {
    const { code, output } = await startAppExpectingFailure({
      VERCEL: '1',
      ISSUER_URL: 'https://auth.example.com',
      NEXTAUTH_URL: 'https://auth.example.com',
      NEXTAUTH_SECRET: 's'.repeat(40),
      KEY_ENCRYPTION_SECRET: 'k'.repeat(40),
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(
      /Invalid configuration: DATABASE_URL or REDIS_URL is required on Vercel/,
    );
  });
});
