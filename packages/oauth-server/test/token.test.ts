import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  basic,
  confidentialClient,
  exchange,
  form,
  ISSUER,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  setup,
} from './support/setup.js';

describe('token endpoint: authorization_code', () => {
  it('RFC 6749 §5.1 / RFC 9068 §2: issues an at+jwt ES256 access token with the required claims, and a refresh token', async () => {
    const { as, clock } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId, { scope: 'read write' });
    const { response, body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
      resource: RESOURCE,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
    expect(typeof body.refresh_token).toBe('string');
    const token = body.access_token as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const jwks = await (await as.handle(new Request(`${ISSUER}/jwks.json`)))!.json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
      currentDate: new Date(clock.now),
    });
    expect(payload).toMatchObject({
      sub: 'user-1',
      client_id: clientId,
      scope: 'read write',
      aud: RESOURCE,
    });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.jti).toBe('string');
  });

  it('RFC 6749 §4.1.2 / RFC 9700 §4.14: a replayed code is invalid_grant and revokes the tokens issued from it', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const params = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    };
    const first = await exchange(as, params);
    expect(first.response.status).toBe(200);
    const replay = await exchange(as, params);
    expect(replay.response.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const refresh = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §4.1.2 / RFC 9700 §4.14: of concurrent redemptions of one code at most one succeeds, and no token from it survives', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const rs = await confidentialClient(as);
    for (let round = 0; round < 5; round++) {
      const { code, verifier } = await obtainCode(as, clientId);
      const params = {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      };
      const results = await Promise.all(Array.from({ length: 10 }, () => exchange(as, params)));
      const issued = results.filter((r) => r.response.status === 200);
      expect(issued.length).toBeLessThanOrEqual(1);
      expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(
        10 - issued.length,
      );
      // Concurrent redemptions are a replay: whichever order the store saw them in, what one of
      // them was given is revoked by the time all have answered.
      for (const { body } of issued) {
        const refresh = await exchange(as, {
          grant_type: 'refresh_token',
          refresh_token: body.refresh_token as string,
          client_id: clientId,
        });
        expect(refresh.body.error).toBe('invalid_grant');
        const introspection = await as.handle(
          form(
            '/introspect',
            { token: body.access_token as string },
            basic(rs.clientId, rs.secret),
          ),
        );
        expect(await introspection!.json()).toEqual({ active: false });
      }
    }
  });

  it('RFC 7636 §4.6: a wrong code_verifier is invalid_grant', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code } = await obtainCode(as, clientId);
    const { response, body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: 'a'.repeat(64),
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('RFC 7636 §4.5: a token request without code_verifier is invalid_request naming code_verifier', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code } = await obtainCode(as, clientId);
    const { response, body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(response.status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid_request' });
    expect(body.error_description).toContain('code_verifier');
  });

  it('OAuth 2.1 §4.1.3: redirect_uri must match the authorization request', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const { body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: `${REDIRECT}/`,
      client_id: clientId,
    });
    expect(body.error).toBe('invalid_grant');
  });

  it('RFC 8707 §2.2: a resource different from the authorization request is invalid_target', async () => {
    const { as } = await setup({
      resources: [{ uri: RESOURCE }, { uri: 'https://other.example/mcp' }],
    });
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const { response, body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
      resource: 'https://other.example/mcp',
    });
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_target');
  });

  it('RFC 6749 §4.1.3: a code issued to another client is invalid_grant', async () => {
    const { as } = await setup();
    const a = await publicClient(as);
    const b = await publicClient(as);
    const { code, verifier } = await obtainCode(as, a);
    const { body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: b,
    });
    expect(body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §4.1.2: an expired code (60 s) is invalid_grant', async () => {
    const { as, clock } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    clock.now += 61_000;
    const { body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §5.2: an unknown grant_type is unsupported_grant_type', async () => {
    const { as } = await setup();
    const { response, body } = await exchange(as, {
      grant_type: 'password',
      username: 'a',
      password: 'b',
    });
    expect(response.status).toBe(400);
    expect(body.error).toBe('unsupported_grant_type');
  });

  it('RFC 6749 §3.1: a repeated parameter is invalid_request naming it', async () => {
    const { as } = await setup();
    const response = (await as.handle(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=a&code=b',
      }),
    ))!;
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter code must not be repeated',
    });
  });

  it('RFC 6749 §3.2: only POST; GET gets 405 with Allow', async () => {
    const { as } = await setup();
    const response = (await as.handle(new Request(`${ISSUER}/token?grant_type=x`)))!;
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('opaque mode: the access token is a store handle, introspectable', async () => {
    const { as, store } = await setup({ accessTokenFormat: 'opaque' });
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const { body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect((body.access_token as string).split('.')).toHaveLength(1);
    const record = await store.accessTokens.find(body.access_token as string);
    expect(record).toMatchObject({ clientId, userId: 'user-1', resource: RESOURCE });
  });
});

describe('token endpoint: client authentication', () => {
  it('RFC 6749 §2.3.1: client_secret_basic authenticates a confidential client', async () => {
    const { as } = await setup();
    const { clientId, secret } = await confidentialClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const { response } = await exchange(
      as,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      basic(clientId, secret),
    );
    expect(response.status).toBe(200);
  });

  it('RFC 6749 §2.3.1: client_secret_post authenticates a confidential client', async () => {
    const { as } = await setup();
    const { clientId, secret } = await confidentialClient(as, 'client_secret_post');
    const { code, verifier } = await obtainCode(as, clientId);
    const { response } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
      client_secret: secret,
    });
    expect(response.status).toBe(200);
  });

  it('RFC 6749 §5.2: a wrong secret with Basic is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const { as } = await setup();
    const { clientId } = await confidentialClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const { response, body } = await exchange(
      as,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      basic(clientId, 'wrong'),
    );
    expect(response.status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('RFC 6749 §5.2: a confidential client without its secret is 401 invalid_client', async () => {
    const { as } = await setup();
    const { clientId } = await confidentialClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const { response, body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(response.status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('RFC 6749 §2.3: using Basic and client_secret together is invalid_request', async () => {
    const { as } = await setup();
    const { clientId, secret } = await confidentialClient(as);
    const { body } = await exchange(
      as,
      { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_secret: secret },
      basic(clientId, secret),
    );
    expect(body.error).toBe('invalid_request');
  });

  it('RFC 6749 §5.2: an unknown client is 401 invalid_client', async () => {
    const { as } = await setup();
    const { response, body } = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: 'x'.repeat(43),
      client_id: 'nobody',
    });
    expect(response.status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('RFC 6749 §2.3.1: malformed Basic credentials are invalid_client, not a 500', async () => {
    const { as } = await setup();
    const response = (await as.handle(
      form(
        '/token',
        { grant_type: 'refresh_token', refresh_token: 'x' },
        { Authorization: 'Basic %%%' },
      ),
    ))!;
    expect(response.status).toBe(401);
  });
});

describe('token endpoint: refresh_token', () => {
  it('OAuth 2.1 §4.3.1: a refresh rotates the refresh token and issues a new access token', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId, { scope: 'read write' });
    const first = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    const second = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
    });
    expect(second.response.status).toBe(200);
    expect(second.response.headers.get('cache-control')).toBe('no-store');
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(second.body.scope).toBe('read write');
  });

  it('RFC 9700 §4.14.2: reusing a rotated refresh token after the grace window is invalid_grant and revokes the whole family', async () => {
    const { as, clock } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const first = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    const second = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
    });
    clock.now += 31_000;
    const reuse = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
    });
    expect(reuse.body).toEqual({
      error: 'invalid_grant',
      error_description: 'the refresh token was already used; its grant is revoked',
    });
    const afterTheft = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: second.body.refresh_token as string,
      client_id: clientId,
    });
    expect(afterTheft.body.error).toBe('invalid_grant');
  });

  it('RFC 6749 §6: a narrower scope applies to the new access token; a wider one is invalid_scope', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId, { scope: 'read write' });
    const first = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    const wider = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
      scope: 'read admin',
    });
    expect(wider.body.error).toBe('invalid_scope');
    const narrower = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: clientId,
      scope: 'read',
    });
    expect(narrower.body.scope).toBe('read');
  });

  it('RFC 6749 §6: another client cannot use (or burn) the refresh token', async () => {
    const { as } = await setup();
    const a = await publicClient(as);
    const b = await publicClient(as);
    const { code, verifier } = await obtainCode(as, a);
    const first = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: a,
    });
    const stolen = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: b,
    });
    expect(stolen.body.error).toBe('invalid_grant');
    const legit = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: a,
    });
    expect(legit.response.status).toBe(200);
  });
});
