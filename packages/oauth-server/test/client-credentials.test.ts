import { createHash } from 'node:crypto';
import { slidingWindow } from '@portcullis/rate-limit';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { type AuditEvent, type AuthorizationServerOptions, USER_SCOPES } from '../src/index.js';
import {
  basic,
  confidentialClient,
  exchange,
  form,
  ISSUER,
  MACHINE,
  REDIRECT,
  RESOURCE,
  register,
  MACHINE_SECRET as SECRET,
  saveMachineClient,
  setup,
  url,
} from './support/setup.js';

const OTHER_RESOURCE = 'http://localhost:9000/mcp';

/** A server whose operator configured MACHINE for client credentials. */
async function operator(overrides: Partial<AuthorizationServerOptions> = {}) {
  const events: AuditEvent[] = [];
  const s = await setup({
    clientCredentials: { clientIds: [MACHINE] },
    audit: (event) => void events.push(event),
    ...overrides,
  });
  await saveMachineClient(s.store);
  const grant = (params: Record<string, string> = {}, headers = basic(MACHINE, SECRET)) =>
    exchange(s.as, { grant_type: 'client_credentials', ...params }, headers);
  return { ...s, events, grant };
}

async function jwks(as: Awaited<ReturnType<typeof setup>>['as']) {
  const response = (await as.handle(new Request(url('/jwks.json'))))!;
  return createLocalJWKSet(await response.json());
}

describe('client credentials grant (RFC 6749 §4.4)', () => {
  it('RFC 6749 §4.4.3: an operator client gets an access token for itself, no refresh token, no ID token', async () => {
    const s = await operator({ openid: { claims: () => ({ name: 'nobody' }) } });
    const { response, body } = await s.grant();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'read write' });
    expect(body).not.toHaveProperty('refresh_token');
    expect(body).not.toHaveProperty('id_token');
    // RFC 9068 §2.2: sub is the client when no resource owner is involved.
    const { payload } = await jwtVerify(body.access_token as string, await jwks(s.as), {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
      currentDate: new Date(s.clock.now),
    });
    expect(payload).toMatchObject({ sub: MACHINE, client_id: MACHINE, scope: 'read write' });
    expect(payload).not.toHaveProperty('name');
    // Audited as a token of this grant type, with ids only.
    const issued = s.events.find((e) => e.event === 'token.issued');
    expect(issued).toMatchObject({
      grantType: 'client_credentials',
      clientId: MACHINE,
      sub: MACHINE,
      refreshToken: false,
      jti: payload.jti,
      resource: RESOURCE,
    });
    expect(JSON.stringify(s.events)).not.toContain(body.access_token as string);
    expect(JSON.stringify(s.events)).not.toContain(SECRET);
  });

  it('RFC 6749 §2.3.1: client_secret_post authenticates too', async () => {
    const s = await operator();
    await saveMachineClient(s.store, { tokenEndpointAuthMethod: 'client_secret_post' });
    const { response } = await s.grant({ client_id: MACHINE, client_secret: SECRET }, {});
    expect(response.status).toBe(200);
  });

  it('RFC 6749 §3.3: scope is within the registration; absent → the registered scope', async () => {
    const s = await operator();
    expect((await s.grant({ scope: 'read' })).body.scope).toBe('read');
    expect((await s.grant({ scope: '' })).body.scope).toBe('read write');
    for (const scope of ['admin', 'read admin', 'unknown']) {
      const { response, body } = await s.grant({ scope });
      expect(response.status, scope).toBe(400);
      expect(body.error, scope).toBe('invalid_scope');
    }
    // A bad scope-token is invalid_scope as at /authorize (RFC 6749 §3.3).
    expect((await s.grant({ scope: 'read "' })).body.error).toBe('invalid_scope');
  });

  it('RFC 6749 §4.4.3: no user, so no openid or offline_access (invalid_scope), even if registered', async () => {
    const s = await operator({ openid: { claims: () => ({}) } });
    await saveMachineClient(s.store, { scope: 'openid offline_access read' });
    for (const scope of ['openid', 'offline_access', 'read email', 'profile']) {
      const { body } = await s.grant({ scope });
      expect(body.error, scope).toBe('invalid_scope');
      expect(body.error_description, scope).toMatch(/needs a user/);
    }
    // Registered user scopes are left out of the default.
    expect((await s.grant()).body.scope).toBe('read');
  });

  it('USER_SCOPES: the scopes the grant refuses, exported and frozen', () => {
    expect(USER_SCOPES).toEqual(['openid', 'offline_access', 'profile', 'email']);
    expect(Object.isFrozen(USER_SCOPES)).toBe(true);
  });

  it('RFC 6749 §4.4.2: a client with no registered scope it may use gets invalid_scope', async () => {
    const s = await operator();
    await saveMachineClient(s.store, { scope: undefined });
    expect((await s.grant()).body.error).toBe('invalid_scope');
  });

  it('RFC 8707 §2: resource is bound exactly as for a user grant (invalid_target otherwise)', async () => {
    const s = await operator({
      resources: [{ uri: RESOURCE }, { uri: OTHER_RESOURCE, scopes: ['read'] }],
    });
    // Two resources: it must say which.
    expect((await s.grant()).body.error).toBe('invalid_target');
    for (const resource of ['http://evil.example/mcp', `${RESOURCE}/`, 'not a url']) {
      const { response, body } = await s.grant({ resource });
      expect(response.status, resource).toBe(400);
      expect(body.error, resource).toBe('invalid_target');
    }
    const other = await s.grant({ resource: OTHER_RESOURCE });
    // Only the scopes that resource offers.
    expect(other.body.scope).toBe('read');
    expect(decodeJwt(other.body.access_token as string).aud).toBe(OTHER_RESOURCE);
    expect((await s.grant({ resource: OTHER_RESOURCE, scope: 'write' })).body.error).toBe(
      'invalid_scope',
    );
  });

  it('RFC 6749 §5.2: unauthorized_client for a client not registered for the grant, or not the operator’s', async () => {
    const s = await operator();
    // A confidential client registered for the code flow.
    const code = await confidentialClient(s.as);
    const notRegistered = await s.grant({}, basic(code.clientId, code.secret));
    expect(notRegistered.response.status).toBe(400);
    expect(notRegistered.body.error).toBe('unauthorized_client');
    // Registered for the grant, but the operator did not list it (and allows no dynamic scope).
    const unlisted = await operator({ clientCredentials: {} });
    const { response, body } = await unlisted.grant();
    expect(response.status).toBe(400);
    expect(body.error).toBe('unauthorized_client');
  });

  it('RFC 6749 §4.4: a public client is refused even when its record lists the grant', async () => {
    const s = await operator();
    await saveMachineClient(s.store, {
      tokenEndpointAuthMethod: 'none',
      clientSecretHash: undefined,
    });
    const { body } = await s.grant({ client_id: MACHINE }, {});
    expect(body.error).toBe('unauthorized_client');
  });

  it('RFC 6749 §5.2: invalid_client for a wrong, missing or unknown credential (401)', async () => {
    const s = await operator();
    for (const headers of [
      basic(MACHINE, 'wrong'),
      basic('nobody', SECRET),
      {} as Record<string, string>,
    ]) {
      const { response, body } = await s.grant({}, headers);
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
    }
    expect((await s.grant({ client_id: MACHINE }, {})).body.error).toBe('invalid_client');
  });

  it('enabled: false turns the grant off (unsupported_grant_type) and out of the metadata', async () => {
    const on = await operator();
    const meta = await (await on.as.handle(
      new Request(url('/.well-known/oauth-authorization-server')),
    ))!.json();
    expect(meta.grant_types_supported).toContain('client_credentials');
    const off = await operator({ clientCredentials: { enabled: false, clientIds: [MACHINE] } });
    const { body } = await off.grant();
    expect(body.error).toBe('unsupported_grant_type');
    const offMeta = await (await off.as.handle(
      new Request(url('/.well-known/oauth-authorization-server')),
    ))!.json();
    expect(offMeta.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
  });

  it('options: a mistaken clientCredentials option throws TypeError at start', async () => {
    await expect(
      setup({ clientCredentials: { dynamicRegistrationScopes: ['nope'] } }),
    ).rejects.toThrow(TypeError);
    await expect(
      setup({
        openid: { claims: () => ({}) },
        clientCredentials: { dynamicRegistrationScopes: ['openid'] },
      }),
    ).rejects.toThrow(TypeError);
    await expect(
      setup({
        clientCredentials: 'yes' as unknown as AuthorizationServerOptions['clientCredentials'],
      }),
    ).rejects.toThrow(TypeError);
    await expect(
      setup({ clientCredentials: { clientIds: [1] as unknown as string[] } }),
    ).rejects.toThrow(TypeError);
  });

  it('RFC 7009, RFC 7662, revocation feed: the token is revocable, introspectable and listed once revoked', async () => {
    const s = await operator({ revocationFeed: true });
    const { body } = await s.grant();
    const token = body.access_token as string;
    const rs = await confidentialClient(s.as);
    const introspect = async () =>
      (await exchange(s.as, { token }, basic(rs.clientId, rs.secret), '/introspect')).body;
    expect(await introspect()).toMatchObject({
      active: true,
      sub: MACHINE,
      client_id: MACHINE,
      scope: 'read write',
    });
    const revoke = (await s.as.handle(form('/revoke', { token }, basic(MACHINE, SECRET))))!;
    expect(revoke.status).toBe(200);
    expect((await introspect()).active).toBe(false);
    const feed = (await (await s.as.handle(
      new Request(url('/revocations'), { headers: basic(rs.clientId, rs.secret) }),
    ))!.json()) as { revoked: { jti_sha256: string }[] };
    const hash = createHash('sha256')
      .update(decodeJwt(token).jti as string)
      .digest('base64url');
    expect(feed.revoked.map((e) => e.jti_sha256)).toContain(hash);
  });

  it('opaque access tokens: stored and introspected the same way', async () => {
    const s = await operator({ accessTokenFormat: 'opaque' });
    const { body } = await s.grant();
    const record = await s.store.accessTokens.find(body.access_token as string);
    expect(record).toMatchObject({ userId: MACHINE, clientId: MACHINE, scopes: ['read', 'write'] });
  });

  it('metadata.operator_client: a client taken out of clientIds authenticates nowhere, even with its record kept', async () => {
    const marked = { metadata: { operator_client: true } };
    // Listed: the operator's client, as before.
    const listed = await operator();
    await saveMachineClient(listed.store, marked);
    expect((await listed.grant()).body.scope).toBe('read write');
    // Taken out of clientIds, with an allowance for self-registered clients that covers its scope.
    const removed = await operator({
      clientCredentials: { dynamicRegistrationScopes: ['read'] },
      introspection: { clientIds: [MACHINE] },
      revocationFeed: true,
    });
    // Unmarked, the leftover record reads as a self-registered client and gets the allowance.
    expect((await removed.grant()).body.scope).toBe('read');
    const token = (await removed.grant()).body.access_token as string;
    await saveMachineClient(removed.store, marked);
    const credentials = basic(MACHINE, SECRET);
    const refusals = [
      await removed.grant(),
      await exchange(removed.as, { token }, credentials, '/revoke'),
      await exchange(removed.as, { token }, credentials, '/introspect'),
    ];
    const feed = (await removed.as.handle(
      new Request(url('/revocations'), { headers: credentials }),
    ))!;
    for (const { response, body } of refusals) {
      expect(response.status).toBe(401);
      expect(body.error).toBe('invalid_client');
    }
    expect(feed.status).toBe(401);
    // `allow` names it again: the operator's client once more.
    const allowed = await operator({
      clientCredentials: { allow: (client) => client.clientId === MACHINE },
    });
    await saveMachineClient(allowed.store, marked);
    expect((await allowed.grant()).body.scope).toBe('read write');
  });

  it('rate limits: the grant counts against the authenticated client’s limit', async () => {
    const s = await operator({
      rateLimit: { token: { perClient: slidingWindow(2, 60), perIp: false } },
    });
    // A failed authentication spends nothing.
    expect((await s.grant({}, basic(MACHINE, 'wrong'))).response.status).toBe(401);
    expect((await s.grant()).response.status).toBe(200);
    expect((await s.grant()).response.status).toBe(200);
    const third = await s.grant();
    expect(third.response.status).toBe(429);
    expect(third.body.error).toBe('too_many_requests');
  });
});

describe('client credentials clients by Dynamic Client Registration (RFC 7591)', () => {
  const machine = { grant_types: ['client_credentials'], client_name: 'agent' };

  it('secure default: /register refuses a client_credentials client (anyone may register)', async () => {
    const { as } = await setup();
    const { response, body } = await register(as, machine);
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toMatch(/does not register client_credentials/);
  });

  it('dynamicRegistrationScopes: a confidential client without redirect URIs, its scope cut to the allowance', async () => {
    const { as, store, clock } = await setup({
      clientCredentials: { dynamicRegistrationScopes: ['read'] },
    });
    const { response, body } = await register(as, { ...machine, scope: 'read write admin' });
    expect(response.status).toBe(201);
    expect(body).toMatchObject({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read',
    });
    const id = body.client_id as string;
    const secret = body.client_secret as string;
    // No scope asked for: the whole allowance.
    expect((await register(as, machine)).body.scope).toBe('read');
    const grant = (scope?: string) =>
      exchange(
        as,
        { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
        basic(id, secret),
      );
    const ok = await grant();
    expect(ok.body.scope).toBe('read');
    expect(decodeJwt(ok.body.access_token as string).sub).toBe(id);
    expect((await grant('write')).body.error).toBe('invalid_scope');
    // In use: it no longer expires as an unused dynamic client would.
    expect((await store.clients.find(id))?.expiresAt).toBeNull();
    clock.now += 31 * 24 * 3600 * 1000;
    expect((await grant()).response.status).toBe(200);
  });

  it('a later, narrower allowance applies to clients registered before it', async () => {
    const first = await setup({
      clientCredentials: { dynamicRegistrationScopes: ['read', 'write'] },
    });
    const { body } = await register(first.as, { ...machine, scope: 'read write' });
    const auth = basic(body.client_id as string, body.client_secret as string);
    const narrower = await setup(
      { clientCredentials: { dynamicRegistrationScopes: ['read'] } },
      first.store,
    );
    const cut = await exchange(narrower.as, { grant_type: 'client_credentials' }, auth);
    expect(cut.body.scope).toBe('read');
    const none = await setup({}, first.store);
    const refused = await exchange(none.as, { grant_type: 'client_credentials' }, auth);
    expect(refused.body.error).toBe('unauthorized_client');
  });

  it('RFC 7591 §2: refusals — public, redirect URIs, refresh_token without code, mismatched response_types, no allowed scope', async () => {
    const { as } = await setup({ clientCredentials: { dynamicRegistrationScopes: ['read'] } });
    const cases: [Record<string, unknown>, string][] = [
      [{ ...machine, token_endpoint_auth_method: 'none' }, 'invalid_client_metadata'],
      [{ ...machine, redirect_uris: [REDIRECT] }, 'invalid_client_metadata'],
      [{ grant_types: ['client_credentials', 'refresh_token'] }, 'invalid_client_metadata'],
      [{ ...machine, response_types: ['code'] }, 'invalid_client_metadata'],
      [{ ...machine, scope: 'admin' }, 'invalid_client_metadata'],
      [{ ...machine, scope: 'openid' }, 'invalid_client_metadata'],
      [{ grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
      [{ grant_types: ['authorization_code'] }, 'invalid_redirect_uri'],
      [{ redirect_uris: [REDIRECT], response_types: [] }, 'invalid_client_metadata'],
    ];
    for (const [metadata, error] of cases) {
      const { response, body } = await register(as, metadata);
      expect(response.status, JSON.stringify(metadata)).toBe(400);
      expect(body.error, JSON.stringify(metadata)).toBe(error);
    }
    // A client for both a user's code flow and its own tokens: redirect URIs and confidential.
    const both = await register(as, {
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      redirect_uris: [REDIRECT],
      scope: 'read',
    });
    expect(both.response.status).toBe(201);
    expect(both.body.response_types).toEqual(['code']);
  });
});
