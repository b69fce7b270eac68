import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { exchange, ISSUER, obtainCode, publicClient, REDIRECT, setup } from './support/setup.js';

async function getJson(as: Awaited<ReturnType<typeof setup>>['as'], url: string) {
  const response = await as.handle(new Request(url));
  expect(response, url).toBeDefined();
  return { response: response!, body: await response!.json() };
}

describe('authorization server metadata', () => {
  it('RFC 8414 §3 / MCP: metadata at /.well-known/oauth-authorization-server with every endpoint and MCP field', async () => {
    const { as } = await setup();
    const { response, body } = await getJson(
      as,
      `${ISSUER}/.well-known/oauth-authorization-server`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(body).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      registration_endpoint: `${ISSUER}/register`,
      revocation_endpoint: `${ISSUER}/revoke`,
      introspection_endpoint: `${ISSUER}/introspect`,
      jwks_uri: `${ISSUER}/jwks.json`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: [
        'none',
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      scopes_supported: ['read', 'write', 'admin'],
    });
    expect(body.scopes_supported).not.toContain('offline_access');
  });

  it('RFC 8414 §3.3: issuer is byte-identical to the configured string, in both documents', async () => {
    const issuer = 'http://127.0.0.1:3000';
    const { as } = await setup({ issuer });
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      const response = await as.handle(new Request(issuer + path));
      const text = await response!.text();
      expect(text).toContain(`"issuer":"${issuer}"`);
    }
  });

  it('OIDC Discovery 1.0 §4: /.well-known/openid-configuration has the required OIDC fields', async () => {
    const { as } = await setup();
    const { body } = await getJson(as, `${ISSUER}/.well-known/openid-configuration`);
    expect(body).toMatchObject({
      issuer: ISSUER,
      subject_types_supported: ['public'],
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('RFC 8414 §3.1: an issuer with a path is served at the path-inserted and the appended forms', async () => {
    const issuer = 'https://auth.example.com/tenant1';
    const { as } = await setup({ issuer });
    for (const path of [
      '/.well-known/oauth-authorization-server/tenant1',
      '/.well-known/openid-configuration/tenant1',
      '/tenant1/.well-known/openid-configuration',
      '/tenant1/.well-known/oauth-authorization-server',
    ]) {
      const { body } = await getJson(as, `https://auth.example.com${path}`);
      expect(body.issuer).toBe(issuer);
      expect(body.token_endpoint).toBe(`${issuer}/token`);
    }
    expect(
      await as.handle(
        new Request('https://auth.example.com/.well-known/oauth-authorization-server'),
      ),
    ).toBeUndefined();
    expect(
      await as.handle(new Request('https://auth.example.com/tenant1/token', { method: 'POST' })),
    ).toBeDefined();
  });

  it('registration_endpoint is absent and /register refused when DCR is disabled', async () => {
    const { as } = await setup({ allowDynamicRegistration: false });
    const { body } = await getJson(as, `${ISSUER}/.well-known/oauth-authorization-server`);
    expect(body.registration_endpoint).toBeUndefined();
    expect(await as.handle(new Request(`${ISSUER}/register`, { method: 'POST' }))).toBeUndefined();
  });

  it('rejects an issuer with a query, a fragment or plain http on a public host (a TypeError)', async () => {
    for (const issuer of ['https://a.example/?x=1', 'https://a.example/#f', 'http://a.example']) {
      await expect(setup({ issuer })).rejects.toMatchObject({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
  });

  it('CORS: metadata, JWKS, token, register and revoke answer preflight and carry Access-Control-Allow-Origin', async () => {
    const { as } = await setup();
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/jwks.json',
      '/token',
      '/register',
      '/revoke',
    ]) {
      const preflight = await as.handle(
        new Request(ISSUER + path, {
          method: 'OPTIONS',
          headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
        }),
      );
      expect(preflight!.status, path).toBe(204);
      expect(preflight!.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight!.headers.get('access-control-allow-headers')).toContain('Authorization');
    }
    const token = await exchange(as, { grant_type: 'nope' });
    expect(token.response.headers.get('access-control-allow-origin')).toBe('*');
    const introspect = await as.handle(new Request(`${ISSUER}/introspect`, { method: 'OPTIONS' }));
    expect(introspect!.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('JWKS and signing keys', () => {
  it('RFC 7517 §5: the JWKS publishes public keys only, each with kid, alg ES256 and use sig', async () => {
    const { as } = await setup();
    const { response, body } = await getJson(as, `${ISSUER}/jwks.json`);
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(typeof body.keys[0].kid).toBe('string');
    expect(body.keys[0].d).toBeUndefined();
  });

  it('a generated key is kept in the store: a second server on the same store publishes the same kid', async () => {
    const first = await setup();
    const second = await setup({}, first.store);
    const a = await getJson(first.as, `${ISSUER}/jwks.json`);
    const b = await getJson(second.as, `${ISSUER}/jwks.json`);
    expect(b.body.keys.map((k: { kid: string }) => k.kid)).toEqual(
      a.body.keys.map((k: { kid: string }) => k.kid),
    );
    expect((await first.store.signingKeys.list()).length).toBe(1);
  });

  it('a configured JWK signs the tokens and is the only key published', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'configured-1' };
    const { as } = await setup({ signingKey: jwk });
    const { body } = await getJson(as, `${ISSUER}/jwks.json`);
    expect(body.keys.map((k: { kid: string }) => k.kid)).toEqual(['configured-1']);
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId);
    const tokens = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(decodeProtectedHeader(tokens.body.access_token as string).kid).toBe('configured-1');
  });

  it('a configured PKCS#8 PEM is accepted; its kid is the RFC 7638 thumbprint', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const { as } = await setup({ signingKey: await exportPKCS8(privateKey) });
    const { body } = await getJson(as, `${ISSUER}/jwks.json`);
    expect(body.keys[0].kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a configured key that is not EC P-256 is refused at start-up with a TypeError', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    await expect(setup({ signingKey: await exportJWK(privateKey) })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(setup({ signingKey: 'not a pem' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
  });

  it('rotation: the new key is published before it signs, and the old one stays until its tokens expire', async () => {
    const { as, clock } = await setup();
    const clientId = await publicClient(as);
    const kidOf = async () => {
      const { code, verifier } = await obtainCode(as, clientId);
      const t = await exchange(as, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      });
      return decodeProtectedHeader(t.body.access_token as string).kid;
    };
    const oldKid = await kidOf();
    const { kid: newKid } = await as.keys.rotate({ publishSeconds: 600 });
    const published = async () =>
      (await getJson(as, `${ISSUER}/jwks.json`)).body.keys.map((k: { kid: string }) => k.kid);
    expect(await published()).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(await kidOf()).toBe(oldKid);
    clock.now += 601_000;
    expect(await kidOf()).toBe(newKid);
    expect(await published()).toEqual(expect.arrayContaining([oldKid, newKid]));
    clock.now += 3600_000 + 61_000;
    expect(await published()).toEqual([newKid]);
  });
});
