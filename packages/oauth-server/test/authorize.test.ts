import { createPkcePair } from '@portcullis/pkce';
import { describe, expect, it } from 'vitest';
import {
  authorizeParams,
  exchange,
  ISSUER,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  register,
  setup,
} from './support/setup.js';

const pkce = await createPkcePair();

function params(clientId: string, extra: Record<string, string | undefined> = {}) {
  return authorizeParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    resource: RESOURCE,
    ...extra,
  });
}

async function shown(result: { ok: boolean; response?: Response }) {
  expect(result.ok).toBe(false);
  const response = result.response!;
  expect(response.headers.get('location')).toBeNull();
  expect(response.status).toBe(400);
  return response;
}

function redirected(result: { ok: boolean; response?: Response }) {
  expect(result.ok).toBe(false);
  const response = result.response!;
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!);
}

describe('authorize: errors before the redirect URI is trusted are shown, never redirected', () => {
  it('RFC 6749 §4.1.2.1: an unknown client_id gets an error page, no redirect', async () => {
    const { as } = await setup();
    const response = await shown(await as.authorization.parse(params('unknown-client')));
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.text()).toContain('invalid_client');
  });

  it('RFC 6749 §4.1.2.1: a missing client_id is shown as invalid_request (JSON when asked)', async () => {
    const { as } = await setup();
    const p = params('x');
    p.delete('client_id');
    const request = new Request(`${ISSUER}/authorize`, { headers: { Accept: 'application/json' } });
    const response = await shown(await as.authorization.parse(p, { request }));
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter client_id is required',
    });
  });

  for (const [name, uri] of [
    ['another host', 'https://attacker.example/callback'],
    ['a trailing slash', `${REDIRECT}/`],
    ['an extra query', `${REDIRECT}?next=https://attacker.example`],
    ['a different path', 'https://client.example/callback2'],
    ['a different port on https', 'https://client.example:8443/callback'],
    ['http instead of https', 'http://client.example/callback'],
    ['a fragment', `${REDIRECT}#x`],
  ] as const) {
    it(`OAuth 2.1 §4.1.1 / RFC 9700 §4.1.3: a redirect_uri with ${name} is not an exact match and is shown, not redirected`, async () => {
      const { as } = await setup();
      const clientId = await publicClient(as);
      await shown(await as.authorization.parse(params(clientId, { redirect_uri: uri })));
    });
  }

  it('RFC 8252 §7.3: a loopback redirect URI may use any port (path and host must match)', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as, {
      redirect_uris: ['http://127.0.0.1/cb', 'http://[::1]:1/cb', 'http://localhost:3000/cb'],
    });
    for (const uri of [
      'http://127.0.0.1:49152/cb',
      'http://[::1]:8080/cb',
      'http://localhost:51000/cb',
    ]) {
      const result = await as.authorization.parse(params(clientId, { redirect_uri: uri }));
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.pending.redirectUri).toBe(uri);
        expect(result.pending.localhostOnly).toBe(true);
      }
    }
    await shown(
      await as.authorization.parse(
        params(clientId, { redirect_uri: 'http://127.0.0.1:49152/other' }),
      ),
    );
    await shown(
      await as.authorization.parse(
        params(clientId, { redirect_uri: 'http://localhost.attacker.example:80/cb' }),
      ),
    );
  });

  it('OAuth 2.1 §4.1.1: redirect_uri may be omitted only when the client has exactly one', async () => {
    const { as } = await setup();
    const one = await publicClient(as);
    const result = await as.authorization.parse(params(one, { redirect_uri: undefined }));
    expect(result.ok && result.pending.redirectUri).toBe(REDIRECT);
    const two = await publicClient(as, {
      redirect_uris: [REDIRECT, 'https://client.example/other'],
    });
    await shown(await as.authorization.parse(params(two, { redirect_uri: undefined })));
  });

  it('RFC 6749 §3.1: a repeated parameter is shown as invalid_request', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const p = params(clientId);
    p.append('redirect_uri', 'https://attacker.example/');
    await shown(await as.authorization.parse(p));
  });
});

describe('authorize: errors after the redirect URI is trusted are redirected with error, state and iss', () => {
  it('RFC 6749 §4.1.2.1: response_type other than code → unsupported_response_type', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const location = redirected(
      await as.authorization.parse(params(clientId, { response_type: 'token' })),
    );
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('unsupported_response_type');
    expect(location.searchParams.get('state')).toBe('st-1');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
  });

  it('RFC 7636 §4.4.1 / OAuth 2.1 §4.1.1: a request without code_challenge is invalid_request', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const location = redirected(
      await as.authorization.parse(
        params(clientId, { code_challenge: undefined, code_challenge_method: undefined }),
      ),
    );
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toContain('code_challenge');
  });

  it('OAuth 2.1 §4.1.1 / MCP: code_challenge_method plain is refused', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const location = redirected(
      await as.authorization.parse(
        params(clientId, { code_challenge_method: 'plain', code_challenge: pkce.codeVerifier }),
      ),
    );
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toContain('plain');
  });

  it('RFC 7636 §4.3: an omitted code_challenge_method means plain, so it is refused too', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const location = redirected(
      await as.authorization.parse(params(clientId, { code_challenge_method: undefined })),
    );
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('RFC 8707 §2: a resource this server does not serve is invalid_target', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const location = redirected(
      await as.authorization.parse(params(clientId, { resource: 'https://evil.example/mcp' })),
    );
    expect(location.searchParams.get('error')).toBe('invalid_target');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
  });

  it('RFC 8707 §2: without resource the only configured resource is used; with several it is required', async () => {
    const single = await setup();
    const c1 = await publicClient(single.as);
    const r1 = await single.as.authorization.parse(params(c1, { resource: undefined }));
    expect(r1.ok && r1.pending.resource).toBe(RESOURCE);
    const multi = await setup({ resources: [{ uri: RESOURCE }, { uri: 'https://b.example/mcp' }] });
    const c2 = await publicClient(multi.as);
    const location = redirected(
      await multi.as.authorization.parse(params(c2, { resource: undefined })),
    );
    expect(location.searchParams.get('error')).toBe('invalid_target');
  });

  it('RFC 6749 §3.3: an empty scope means the default scopes', async () => {
    const { as } = await setup({ defaultScopes: ['read'] });
    const clientId = await publicClient(as);
    const result = await as.authorization.parse(params(clientId, { scope: '' }));
    expect(result.ok && result.pending.scopes).toEqual(['read']);
    expect(result.ok && result.pending.scopeDescriptions).toEqual([
      { scope: 'read', description: 'Read your data' },
    ]);
  });

  it('RFC 6749 §4.1.2.1: an unknown scope is invalid_scope', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const location = redirected(
      await as.authorization.parse(params(clientId, { scope: 'read delete_everything' })),
    );
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('state')).toBe('st-1');
  });

  it('RFC 8707 §2: a scope the resource does not offer is invalid_scope', async () => {
    const { as } = await setup({ resources: [{ uri: RESOURCE, scopes: ['read'] }] });
    const clientId = await publicClient(as);
    const location = redirected(await as.authorization.parse(params(clientId, { scope: 'write' })));
    expect(location.searchParams.get('error')).toBe('invalid_scope');
  });

  it('RFC 7591 §2: a registered scope is the default, and the client may step up beyond it', async () => {
    const { as } = await setup({ defaultScopes: ['read', 'write'] });
    // MCP clients register with the first challenge's scope, then ask for more on a 403.
    const clientId = await publicClient(as, { scope: 'read' });
    const initial = await as.authorization.parse(params(clientId, { scope: '' }));
    expect(initial.ok && initial.pending.scopes).toEqual(['read']);
    const stepUp = await as.authorization.parse(params(clientId, { scope: 'read admin' }));
    expect(stepUp.ok && stepUp.pending.scopes).toEqual(['read', 'admin']);
  });

  it('openid, profile and email are dropped as at registration; alone they mean the defaults', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const withRead = await as.authorization.parse(params(clientId, { scope: 'openid read email' }));
    expect(withRead.ok && withRead.pending.scopes).toEqual(['read']);
    const alone = await as.authorization.parse(params(clientId, { scope: 'openid profile email' }));
    expect(alone.ok && alone.pending.scopes).toEqual(['read']);
  });

  it('offline_access is accepted and dropped (refresh tokens are always issued)', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const result = await as.authorization.parse(params(clientId, { scope: 'read offline_access' }));
    expect(result.ok && result.pending.scopes).toEqual(['read']);
  });
});

describe('authorize: approval and denial', () => {
  it('RFC 9207 §2 / RFC 6749 §4.1.2: approve redirects with code, state and iss; the code is single use and short lived', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const state = 'a b&c=d/é';
    const { location, code } = await obtainCode(as, clientId, { state });
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('iss')).toBe(ISSUER);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it('RFC 6749 §4.1.2: a redirect URI with its own query keeps it and gets the response parameters appended', async () => {
    const { as } = await setup();
    const uri = 'https://client.example/cb?tenant=7';
    const clientId = await publicClient(as, { redirect_uris: [uri] });
    const { location } = await obtainCode(as, clientId, { redirectUri: uri });
    expect(location.searchParams.get('tenant')).toBe('7');
    expect(location.searchParams.get('code')).toBeTruthy();
  });

  it('RFC 6749 §4.1.2.1: deny redirects with access_denied, state and iss', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const result = await as.authorization.parse(params(clientId));
    if (!result.ok) throw new Error('expected ok');
    const location = new URL(result.pending.deny().headers.get('location')!);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'st-1',
      iss: ISSUER,
    });
  });

  it('the pending request describes the client for the consent screen', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as, { client_name: 'Inspector' });
    const result = await as.authorization.parse(params(clientId, { scope: 'read write' }));
    if (!result.ok) throw new Error('expected ok');
    expect(result.pending).toMatchObject({
      clientId,
      clientName: 'Inspector',
      redirectUri: REDIRECT,
      redirectHost: 'client.example',
      localhostOnly: false,
      scopes: ['read', 'write'],
      resource: RESOURCE,
      state: 'st-1',
    });
  });

  it('approve may narrow the scopes, never widen them', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const result = await as.authorization.parse(params(clientId, { scope: 'read write' }));
    if (!result.ok) throw new Error('expected ok');
    await expect(result.pending.approve('u', { scopes: ['admin'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    const response = await result.pending.approve('u', { scopes: ['read'] });
    const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
    const { body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce.codeVerifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(body.scope).toBe('read');
  });
});

describe('consent model', () => {
  it('needsConsent: asked once per user and client, again for scopes beyond the grant', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const first = await as.authorization.parse(params(clientId, { scope: 'read' }));
    if (!first.ok) throw new Error('expected ok');
    expect(await first.pending.needsConsent('alice')).toBe(true);
    await first.pending.approve('alice');
    expect(await first.pending.needsConsent('alice')).toBe(false);
    expect(await first.pending.needsConsent('bob')).toBe(true);
    const wider = await as.authorization.parse(params(clientId, { scope: 'read write' }));
    if (!wider.ok) throw new Error('expected ok');
    expect(await wider.pending.needsConsent('alice')).toBe(true);
  });

  it('consents.list shows grants; consents.revoke withdraws one and revokes its refresh tokens', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId, {
      userId: 'alice',
      scope: 'read write',
    });
    const tokens = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    const list = await as.consents.list('alice');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ clientId, userId: 'alice' });
    expect([...list[0]!.scopes].sort()).toEqual(['read', 'write']);
    expect(await as.consents.revoke('alice', clientId)).toBe(true);
    expect(await as.consents.list('alice')).toEqual([]);
    const refresh = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token as string,
      client_id: clientId,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });
});

describe('/authorize handler', () => {
  it('hands a valid request (GET or POST) to the configured interaction', async () => {
    const seen: string[] = [];
    const { as } = await setup({
      interaction: (pending) => {
        seen.push(pending.clientId);
        return new Response(null, { status: 303, headers: { Location: '/login' } });
      },
    });
    const clientId = await publicClient(as);
    const get = await as.handle(new Request(`${ISSUER}/authorize?${params(clientId)}`));
    expect(get!.status).toBe(303);
    const post = await as.handle(
      new Request(`${ISSUER}/authorize`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: params(clientId).toString(),
      }),
    );
    expect(post!.status).toBe(303);
    expect(seen).toEqual([clientId, clientId]);
  });

  it('without an interaction, handle() leaves /authorize to the app', async () => {
    const { as } = await setup();
    expect(await as.handle(new Request(`${ISSUER}/authorize`))).toBeUndefined();
  });

  it('DCR clients registered for a loopback redirect are shown as localhostOnly', async () => {
    const { as } = await setup();
    const { body } = await register(as, {
      redirect_uris: ['http://127.0.0.1:9/cb'],
      token_endpoint_auth_method: 'none',
    });
    const result = await as.authorization.parse(
      params(body.client_id as string, { redirect_uri: 'http://127.0.0.1:5555/cb' }),
    );
    expect(result.ok && result.pending.redirectHost).toBe('127.0.0.1:5555');
  });
});

describe("callers' mistakes are TypeErrors with a code", () => {
  it('parse() needs URLSearchParams; approve() needs a user id', async () => {
    const { as } = await setup();
    await expect(as.authorization.parse({} as URLSearchParams)).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
    const clientId = await publicClient(as);
    const result = await as.authorization.parse(params(clientId));
    if (!result.ok) throw new Error('expected ok');
    await expect(result.pending.approve('')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });

  it('createAuthorizationServer refuses bad resources and scopes at start-up', async () => {
    await expect(setup({ resources: [] })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(setup({ resources: [{ uri: 'not a url' }] })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(setup({ defaultScopes: ['nope'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(setup({ scopes: { 'bad scope': 'x' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(setup({ ttl: { accessToken: -1 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
  });
});
