import { slidingWindow } from '@portcullis/rate-limit';
import { hashSecret } from '@portcullis/token-store';
import { describe, expect, it } from 'vitest';
import {
  authorizeParams,
  ISSUER,
  obtainCode,
  publicClient,
  REDIRECT,
  register,
  setup,
} from './support/setup.js';

describe('dynamic client registration (RFC 7591)', () => {
  it('RFC 7591 §3.2.1: a public client gets 201 with client_id and its metadata, no secret', async () => {
    const { as } = await setup();
    const { response, body } = await register(as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      client_name: 'CLI',
      application_type: 'native',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
      client_name: 'CLI',
    });
    expect(typeof body.client_id).toBe('string');
    expect(typeof body.client_id_issued_at).toBe('number');
    expect(body.client_secret).toBeUndefined();
  });

  it('RFC 7591 §3.2.1: a confidential client gets its secret once, stored only as its SHA-256', async () => {
    const { as, store } = await setup();
    const { response, body } = await register(as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(response.status).toBe(201);
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.client_secret_expires_at).toBe(0);
    const record = await store.clients.find(body.client_id as string);
    expect(record?.clientSecretHash).toBe(await hashSecret(body.client_secret as string));
    expect(JSON.stringify(record)).not.toContain(body.client_secret as string);
  });

  it('RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic', async () => {
    const { as } = await setup();
    const { body } = await register(as, { redirect_uris: [REDIRECT] });
    expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(body.client_secret).toBeDefined();
  });

  it('RFC 7591 §3.2.1: client_secret_expires_at follows clientSecretTtlSeconds', async () => {
    const { as, clock } = await setup({ clientSecretTtlSeconds: 3600 });
    const { body } = await register(as, { redirect_uris: [REDIRECT] });
    expect(body.client_secret_expires_at).toBe(Math.floor(clock.now / 1000) + 3600);
  });

  it('OAuth 2.1 §2.3.1: https and loopback redirect URIs are accepted', async () => {
    const { as } = await setup();
    const { response } = await register(as, {
      redirect_uris: [
        'https://a.example/cb',
        'http://127.0.0.1/cb',
        'http://[::1]:8080/cb',
        'http://localhost:1234/cb',
      ],
      token_endpoint_auth_method: 'none',
    });
    expect(response.status).toBe(201);
  });

  for (const uri of [
    'http://a.example/cb',
    'javascript:alert(1)',
    'https://a.example/cb#frag',
    'relative/cb',
    'https://user:pw@a.example/cb',
    'custom.scheme:/cb',
  ]) {
    it(`RFC 7591 §3.2.2: redirect URI ${uri} is invalid_redirect_uri`, async () => {
      const { as } = await setup();
      const { response, body } = await register(as, { redirect_uris: [uri] });
      expect(response.status).toBe(400);
      expect(body.error).toBe('invalid_redirect_uri');
    });
  }

  it('RFC 7591 §3.2.2: missing redirect_uris is invalid_redirect_uri; bad metadata is invalid_client_metadata naming the field', async () => {
    const { as } = await setup();
    expect((await register(as, {})).body.error).toBe('invalid_redirect_uri');
    const bad = await register(as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_jwt',
    });
    expect(bad.body).toMatchObject({ error: 'invalid_client_metadata' });
    expect(bad.body.error_description).toContain('token_endpoint_auth_method');
    const grant = await register(as, {
      redirect_uris: [REDIRECT],
      grant_types: ['client_credentials'],
    });
    expect(grant.body.error).toBe('invalid_client_metadata');
    const appType = await register(as, { redirect_uris: [REDIRECT], application_type: 'desktop' });
    expect(appType.body.error).toBe('invalid_client_metadata');
  });

  it('RFC 7591 §3.2.2: a body that is not a JSON object is invalid_client_metadata; a wrong media type is 415', async () => {
    const { as } = await setup();
    const post = (body: string, type = 'application/json') =>
      as.handle(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'Content-Type': type },
          body,
        }),
      );
    const notJson = await post('{nope');
    expect(notJson!.status).toBe(400);
    expect((await notJson!.json()).error).toBe('invalid_client_metadata');
    expect((await (await post('[1,2]'))!.json()).error).toBe('invalid_client_metadata');
    expect((await post('a=b', 'application/x-www-form-urlencoded'))!.status).toBe(415);
  });

  it('RFC 7591 §3.1: a client cannot choose its own client_id or secret', async () => {
    const { as } = await setup();
    const { body } = await register(as, { redirect_uris: [REDIRECT], client_id: 'admin' });
    expect(body.error).toBe('invalid_client_metadata');
  });

  it('RFC 7591 §2: registration keeps the supported subset of scope and says so; offline_access and OpenID scopes are accepted and dropped', async () => {
    const { as } = await setup();
    const cases: [string, string | undefined][] = [
      ['read offline_access', 'read'],
      ['read nuke write', 'read write'],
      ['openid profile email', undefined],
      ['read read', 'read'],
    ];
    for (const [asked, kept] of cases) {
      const { response, body } = await register(as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        scope: asked,
      });
      expect(response.status, asked).toBe(201);
      expect(body.scope, asked).toBe(kept);
    }
  });

  it('a dynamically registered client never used expires by the store’s own TTL (30 days); one a user approved stays', async () => {
    const { as, store, clock } = await setup();
    const unused = await publicClient(as);
    const used = await publicClient(as);
    await obtainCode(as, used);
    expect((await store.clients.find(unused))?.expiresAt).toBe(clock.now + 2_592_000_000);
    expect((await store.clients.find(used))?.expiresAt).toBeNull();
    expect((await store.clients.find(used))?.expiresAt).toBeNull();
    clock.now += 2_592_001_000;
    expect(await store.clients.find(unused)).toBeUndefined();
    expect(await store.clients.find(used)).toBeDefined();
    const shown = await as.authorization.parse(
      authorizeParams({
        response_type: 'code',
        client_id: unused,
        redirect_uri: REDIRECT,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }),
    );
    expect(shown.ok).toBe(false);
    expect((await obtainCode(as, used)).code).toBeTruthy();
    // 0 keeps every client.
    const keeping = await setup({ dynamicClientTtlSeconds: 0 });
    const kept = await publicClient(keeping.as);
    expect((await keeping.store.clients.find(kept))?.expiresAt).toBeNull();
  });

  it('registrations are limited per address and globally: 2,000 from one address get 429 after the limit', async () => {
    const { as } = await setup({
      rateLimit: {},
      getClientIp: () => '9.9.9.9',
    });
    let created = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const { response } = await register(as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
      });
      if (response.status === 201) created++;
      else if (response.status === 429) refused++;
    }
    expect(created).toBe(20);
    expect(refused).toBe(1980);
    const global = await setup({
      rateLimit: { register: { perIp: false, global: slidingWindow(5, 3600) } },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push(
        (
          await register(global.as, {
            redirect_uris: [REDIRECT],
            token_endpoint_auth_method: 'none',
          })
        ).response.status,
      );
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
  });
});
