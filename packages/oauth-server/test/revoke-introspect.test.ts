import { describe, expect, it } from 'vitest';
import {
  basic,
  confidentialClient,
  exchange,
  form,
  obtainCode,
  publicClient,
  REDIRECT,
  register,
  setup,
} from './support/setup.js';

async function issued(format: 'jwt' | 'opaque' = 'jwt') {
  const s = await setup({ accessTokenFormat: format });
  const clientId = await publicClient(s.as);
  const { code, verifier } = await obtainCode(s.as, clientId, { scope: 'read write' });
  const { body } = await exchange(s.as, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    client_id: clientId,
  });
  const rs = await confidentialClient(s.as);
  const introspect = async (token: string, extra: Record<string, string> = {}) => {
    const response = (await s.as.handle(
      form('/introspect', { token, ...extra }, basic(rs.clientId, rs.secret)),
    ))!;
    return { response, body: (await response.json()) as Record<string, unknown> };
  };
  const revoke = async (token: string, client = clientId) =>
    (await s.as.handle(form('/revoke', { token, client_id: client })))!;
  return {
    ...s,
    clientId,
    access: body.access_token as string,
    refresh: body.refresh_token as string,
    rs,
    introspect,
    revoke,
  };
}

describe('introspection (RFC 7662)', () => {
  it('RFC 7662 §2.2: an active JWT access token is described (scope, client_id, sub, aud, exp, iss)', async () => {
    const { introspect, access, clientId } = await issued();
    const { response, body } = await introspect(access);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({
      active: true,
      scope: 'read write',
      client_id: clientId,
      sub: 'user-1',
      token_type: 'access_token',
    });
    expect(typeof body.exp).toBe('number');
  });

  it('RFC 7662 §2.2: opaque access tokens and refresh tokens are described too', async () => {
    const { introspect, access, refresh } = await issued('opaque');
    expect((await introspect(access)).body).toMatchObject({
      active: true,
      token_type: 'access_token',
    });
    expect((await introspect(refresh, { token_type_hint: 'refresh_token' })).body).toMatchObject({
      active: true,
      token_type: 'refresh_token',
    });
  });

  it('RFC 7662 §2.2: anything invalid is just { active: false }', async () => {
    const { introspect, access } = await issued();
    for (const token of ['garbage', `${access.slice(0, -4)}AAAA`, 'a.b.c', 'x'.repeat(43)]) {
      expect((await introspect(token)).body).toEqual({ active: false });
    }
  });

  it('RFC 7662 §2.2: an expired token is inactive', async () => {
    const { introspect, access, clock } = await issued();
    clock.now += 3601_000;
    expect((await introspect(access)).body).toEqual({ active: false });
  });

  it('RFC 7662 §2.1: the caller must authenticate as a confidential client (401 otherwise)', async () => {
    const { as, access, clientId } = await issued();
    const anonymous = (await as.handle(form('/introspect', { token: access })))!;
    expect(anonymous.status).toBe(401);
    const publicCaller = (await as.handle(
      form('/introspect', { token: access, client_id: clientId }),
    ))!;
    expect(publicCaller.status).toBe(401);
    expect((await publicCaller.json()).error).toBe('invalid_client');
  });
});

describe('revocation (RFC 7009)', () => {
  it('RFC 7009 §2.1: revoking a refresh token revokes its grant, access token included', async () => {
    const { revoke, introspect, refresh, access, as, clientId } = await issued();
    const response = await revoke(refresh);
    expect(response.status).toBe(200);
    expect((await introspect(refresh)).body.active).toBe(false);
    expect((await introspect(access)).body.active).toBe(false);
    const { body } = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_id: clientId,
    });
    expect(body.error).toBe('invalid_grant');
  });

  it('RFC 7009 §2.1: revoking a JWT access token makes introspection report it inactive', async () => {
    const { revoke, introspect, access, refresh } = await issued();
    expect((await revoke(access)).status).toBe(200);
    expect((await introspect(access)).body.active).toBe(false);
    expect((await introspect(refresh)).body.active).toBe(true);
  });

  it('RFC 7009 §2.2: an unknown or malformed token still gets 200', async () => {
    const { revoke } = await issued();
    for (const token of ['unknown', 'x'.repeat(43), 'a.b.c'])
      expect((await revoke(token)).status).toBe(200);
  });

  it("RFC 7009 §2.1: a client cannot revoke another client's token (200, nothing happens)", async () => {
    const { revoke, introspect, refresh, as } = await issued();
    const other = await publicClient(as);
    expect((await revoke(refresh, other)).status).toBe(200);
    expect((await introspect(refresh)).body.active).toBe(true);
  });

  it('RFC 7009 §2.1: the client must authenticate (no client → 401 invalid_client)', async () => {
    const { as, refresh } = await issued();
    const response = (await as.handle(form('/revoke', { token: refresh })))!;
    expect(response.status).toBe(401);
  });

  it('RFC 7009 §2.1: a missing token parameter is invalid_request naming it', async () => {
    const { as, clientId } = await issued();
    const response = (await as.handle(form('/revoke', { client_id: clientId })))!;
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter token is required',
    });
  });
});

describe('introspection for resource servers only (RFC 7662 §2.1)', () => {
  it('by default no self-registered client may introspect; every refusal reads the same', async () => {
    const { as } = await setup({ introspection: undefined });
    const registered = await confidentialClient(as);
    const publicId = await publicClient(as);
    const answers = [];
    for (const auth of [
      basic(registered.clientId, registered.secret), // a real, authenticated confidential client
      basic(registered.clientId, 'wrong-secret'),
      basic('no-such-client', 'whatever'),
      basic(publicId, 'anything'),
    ]) {
      const response = (await as.handle(form('/introspect', { token: 'x'.repeat(43) }, auth)))!;
      answers.push({ status: response.status, body: await response.json() });
    }
    const publicOnly = (await as.handle(
      form('/introspect', { token: 'x'.repeat(43), client_id: publicId }),
    ))!;
    answers.push({ status: publicOnly.status, body: await publicOnly.json() });
    for (const answer of answers) {
      expect(answer).toEqual({
        status: 401,
        body: { error: 'invalid_client', error_description: 'client authentication failed' },
      });
    }
  });

  it('clients listed in introspection.clientIds, or flagged by the operator, may introspect', async () => {
    const { as, store } = await setup({ introspection: undefined });
    const flagged = await confidentialClient(as);
    const record = (await store.clients.find(flagged.clientId))!;
    await store.clients.save({ ...record, metadata: { ...record.metadata, introspection: true } });
    const response = (await as.handle(
      form('/introspect', { token: 'x'.repeat(43) }, basic(flagged.clientId, flagged.secret)),
    ))!;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ active: false });

    const listed = await setup({ introspection: { clientIds: ['rs-1'] } });
    await listed.store.clients.save({ ...record, clientId: 'rs-1' });
    const ok = (await listed.as.handle(
      form('/introspect', { token: 'x'.repeat(43) }, basic('rs-1', flagged.secret)),
    ))!;
    expect(ok.status).toBe(200);
  });

  it('a registration cannot set the introspection flag itself', async () => {
    const { as, store } = await setup({ introspection: undefined });
    const { body } = await register(as, {
      redirect_uris: ['https://rs.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
      introspection: true,
      metadata: { introspection: true },
    });
    const record = await store.clients.find(body.client_id as string);
    expect(record?.metadata?.introspection).toBeUndefined();
  });
});
