import { createPkcePair } from '@portcullis/pkce';
import { slidingWindow } from '@portcullis/rate-limit';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuthorizationServer } from '../src/index.js';
import {
  authorizeParams,
  basic,
  exchange,
  form,
  ISSUER,
  REDIRECT,
  RESOURCE,
  register,
  setup,
} from './support/setup.js';

const IP = '203.0.113.7';
const TIME = new Date(Date.UTC(2026, 0, 1)).toISOString();
const fromIp = { 'x-test-ip': IP };

/** A server whose events are collected, with the caller address read from a test header. */
async function audited(overrides: Parameters<typeof setup>[0] = {}) {
  const events: AuditEvent[] = [];
  const s = await setup({
    audit: (event) => {
      events.push(event);
    },
    getClientIp: (r) => r.headers.get('x-test-ip') ?? undefined,
    ...overrides,
  });
  return { ...s, events };
}

async function confidential(as: AuthorizationServer) {
  const { body } = await (async () => {
    const response = (await as.handle(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...fromIp },
        body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Audit client' }),
      }),
    ))!;
    return { body: (await response.json()) as Record<string, string> };
  })();
  return { clientId: body.client_id!, secret: body.client_secret! };
}

/** /authorize as the app runs it (parse with the request, then approve). */
async function authorize(as: AuthorizationServer, clientId: string, userId = 'user-1') {
  const pkce = await createPkcePair();
  const params = authorizeParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256',
    scope: 'read write',
    resource: RESOURCE,
  });
  const request = new Request(`${ISSUER}/authorize?${params}`, { headers: fromIp });
  const result = await as.authorization.parse(params, { request });
  if (!result.ok) throw new Error(`authorize failed: ${result.response.status}`);
  const response = await result.pending.approve(userId);
  const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
  return { code, verifier: pkce.codeVerifier, pending: result.pending };
}

/** Every secret the flow handed out, and the events: none of the first may be in the second. */
function expectNoSecrets(events: AuditEvent[], secrets: string[]) {
  const serialised = events.map((e) => JSON.stringify(e)).join('\n');
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(10);
    expect(serialised).not.toContain(secret);
  }
  expect(serialised).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}/);
}

describe('audit events', () => {
  it('a code flow, a refresh and two revocations emit their events with ids, user, grant and address', async () => {
    const { as, events } = await audited();
    const { clientId, secret } = await confidential(as);
    const { code, verifier } = await authorize(as, clientId);
    const auth = { ...basic(clientId, secret), ...fromIp };
    const issued = await exchange(
      as,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      auth,
    );
    expect(issued.response.status).toBe(200);
    const refreshed = await exchange(
      as,
      { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string },
      auth,
    );
    expect(refreshed.response.status).toBe(200);
    const revokeAccess = await as.handle(
      form('/revoke', { token: refreshed.body.access_token as string }, auth),
    );
    expect(revokeAccess!.status).toBe(200);
    const revokeRefresh = await as.handle(
      form('/revoke', { token: refreshed.body.refresh_token as string }, auth),
    );
    expect(revokeRefresh!.status).toBe(200);

    const familyId = (events[2] as { familyId: string }).familyId;
    expect(familyId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const firstJti = decodeJwt(issued.body.access_token as string).jti;
    const secondJti = decodeJwt(refreshed.body.access_token as string).jti;
    const common = { time: TIME, ip: IP, clientId };
    const grant = { ...common, sub: 'user-1', familyId };
    expect(events).toEqual([
      {
        ...common,
        event: 'client.registered',
        tokenEndpointAuthMethod: 'client_secret_basic',
        clientName: 'Audit client',
      },
      {
        ...common,
        event: 'consent.granted',
        sub: 'user-1',
        scopes: ['read', 'write'],
        resource: RESOURCE,
      },
      { ...grant, event: 'code.issued', scopes: ['read', 'write'], resource: RESOURCE },
      {
        ...grant,
        event: 'token.issued',
        scopes: ['read', 'write'],
        resource: RESOURCE,
        jti: firstJti,
        refreshToken: true,
      },
      {
        ...grant,
        event: 'token.refreshed',
        scopes: ['read', 'write'],
        resource: RESOURCE,
        jti: secondJti,
        refreshToken: true,
      },
      { ...grant, event: 'token.revoked', tokenType: 'access_token', jti: secondJti },
      { ...grant, event: 'token.revoked', tokenType: 'refresh_token' },
    ]);
    expectNoSecrets(events, [
      secret,
      code,
      verifier,
      issued.body.access_token as string,
      issued.body.refresh_token as string,
      refreshed.body.access_token as string,
      refreshed.body.refresh_token as string,
    ]);
  });

  it('RFC 9700 §4.14.2: a rotated refresh token presented after the grace window emits token.reuse_detected for its grant; a replayed code does too', async () => {
    const { as, events, clock } = await audited({ refreshGraceSeconds: 5 });
    const { clientId, secret } = await confidential(as);
    const auth = { ...basic(clientId, secret), ...fromIp };
    const { code, verifier } = await authorize(as, clientId);
    const params = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    };
    const issued = await exchange(as, params, auth);
    const old = issued.body.refresh_token as string;
    expect(
      (await exchange(as, { grant_type: 'refresh_token', refresh_token: old }, auth)).response
        .status,
    ).toBe(200);
    // Within the grace window the same successor: no reuse.
    expect(
      (await exchange(as, { grant_type: 'refresh_token', refresh_token: old }, auth)).response
        .status,
    ).toBe(200);
    expect(events.some((e) => e.event === 'token.reuse_detected')).toBe(false);
    clock.now += 6_000;
    const reuse = await exchange(as, { grant_type: 'refresh_token', refresh_token: old }, auth);
    expect(reuse.response.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    const familyId = events.find((e) => e.event === 'code.issued')!.familyId;
    expect(events.at(-1)).toEqual({
      time: new Date(clock.now).toISOString(),
      event: 'token.reuse_detected',
      grantType: 'refresh_token',
      clientId,
      familyId,
      ip: IP,
    });

    // A second redemption of a code (RFC 6749 §4.1.2) revokes its grant too.
    const second = await authorize(as, clientId);
    const codeParams = {
      grant_type: 'authorization_code',
      code: second.code,
      code_verifier: second.verifier,
      redirect_uri: REDIRECT,
    };
    expect((await exchange(as, codeParams, auth)).response.status).toBe(200);
    const replay = await exchange(as, codeParams, auth);
    expect(replay.body.error).toBe('invalid_grant');
    const secondFamily = events.filter((e) => e.event === 'code.issued').at(-1)!.familyId;
    expect(secondFamily).not.toBe(familyId);
    expect(events.at(-1)).toEqual({
      time: new Date(clock.now).toISOString(),
      event: 'token.reuse_detected',
      grantType: 'authorization_code',
      clientId,
      sub: 'user-1',
      familyId: secondFamily,
      ip: IP,
    });
    expectNoSecrets(events, [secret, code, verifier, old, issued.body.access_token as string]);
  });

  it('a request refused by a rate limit emits rate_limit.hit naming the endpoint, the limit, the client and the address', async () => {
    const { as, events } = await audited({
      rateLimit: { token: { perClient: slidingWindow(1, 60), perIp: false } },
    });
    const { clientId, secret } = await confidential(as);
    const call = () =>
      exchange(
        as,
        { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) },
        { ...basic(clientId, secret), ...fromIp },
      );
    expect((await call()).response.status).toBe(400);
    expect(events.filter((e) => e.event === 'rate_limit.hit')).toEqual([]);
    expect((await call()).response.status).toBe(429);
    expect(events.at(-1)).toEqual({
      time: TIME,
      event: 'rate_limit.hit',
      endpoint: 'token',
      limit: 'perClient',
      clientId,
      ip: IP,
    });

    const limited = await audited({ rateLimit: { register: { perIp: slidingWindow(1, 60) } } });
    const body = { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' };
    const reg = (ip: string) =>
      limited.as.handle(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'x-test-ip': ip },
          body: JSON.stringify(body),
        }),
      );
    expect((await reg(IP))!.status).toBe(201);
    expect((await reg(IP))!.status).toBe(429);
    expect(limited.events.at(-1)).toEqual({
      time: TIME,
      event: 'rate_limit.hit',
      endpoint: 'register',
      limit: 'perIp',
      ip: IP,
    });
  });

  it('a denied request and a withdrawn consent emit authorization.denied and consent.revoked', async () => {
    const { as, events } = await audited();
    const { clientId } = await confidential(as);
    const { pending } = await authorize(as, clientId);
    expect(pending.deny().status).toBe(302);
    expect(events.at(-1)).toEqual({
      time: TIME,
      event: 'authorization.denied',
      clientId,
      scopes: ['read', 'write'],
      resource: RESOURCE,
      ip: IP,
    });
    expect(await as.consents.revoke('user-1', clientId)).toBe(true);
    expect(events.at(-1)).toEqual({
      time: TIME,
      event: 'consent.revoked',
      clientId,
      sub: 'user-1',
    });
    // Nothing to withdraw: no event.
    const count = events.length;
    expect(await as.consents.revoke('user-1', clientId)).toBe(false);
    expect(events.length).toBe(count);
  });

  it('opaque access tokens: the handle is the token, so no jti is reported and the token appears nowhere', async () => {
    const { as, events } = await audited({ accessTokenFormat: 'opaque' });
    const { clientId, secret } = await confidential(as);
    const auth = { ...basic(clientId, secret), ...fromIp };
    const { code, verifier } = await authorize(as, clientId);
    const issued = await exchange(
      as,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      auth,
    );
    const access = issued.body.access_token as string;
    await as.handle(form('/revoke', { token: access }, auth));
    const tokenEvents = events.filter((e) => e.event.startsWith('token.'));
    expect(tokenEvents.map((e) => e.event)).toEqual(['token.issued', 'token.revoked']);
    for (const e of tokenEvents) expect('jti' in e).toBe(false);
    expectNoSecrets(events, [secret, code, verifier, access, issued.body.refresh_token as string]);
  });

  it('a listener that throws, rejects or never settles changes no response', async () => {
    for (const audit of [
      () => {
        throw new Error('listener down');
      },
      () => Promise.reject(new Error('queue down')),
      () => new Promise<void>(() => {}),
    ]) {
      let calls = 0;
      const { as } = await setup({
        audit: () => {
          calls++;
          return audit();
        },
      });
      const { body } = await register(as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
      });
      const clientId = body.client_id as string;
      const { code, verifier } = await authorize(as, clientId);
      expect(code).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const issued = await exchange(as, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      });
      expect(issued.response.status).toBe(200);
      expect(issued.body.token_type).toBe('Bearer');
      const refreshed = await exchange(as, {
        grant_type: 'refresh_token',
        refresh_token: issued.body.refresh_token as string,
        client_id: clientId,
      });
      expect(refreshed.response.status).toBe(200);
      // client.registered, consent.granted, code.issued, token.issued, token.refreshed
      expect(calls).toBe(5);
    }
  });

  it('as.clients.sweepExpired() deletes unused registrations past dynamicClientTtlSeconds and emits client.expired for each, once; an approved client stays', async () => {
    const { as, events, clock } = await audited({ dynamicClientTtlSeconds: 60 });
    const unused = await confidential(as);
    const approved = await confidential(as);
    await authorize(as, approved.clientId);
    expect(await as.clients.sweepExpired()).toEqual([]);
    clock.now += 61_000;
    events.length = 0;
    expect(await as.clients.sweepExpired()).toEqual([unused.clientId]);
    expect(events).toEqual([
      {
        time: new Date(clock.now).toISOString(),
        event: 'client.expired',
        clientId: unused.clientId,
      },
    ]);
    expect(JSON.stringify(events)).not.toContain(unused.secret);
    expect(await as.clients.sweepExpired()).toEqual([]);
    expect(events).toHaveLength(1);
    // The expired client is gone: its secret no longer gets a token.
    const refused = await exchange(
      as,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      basic(unused.clientId, unused.secret),
    );
    expect(refused.response.status).toBe(401);
  });

  it('as.clients.sweepExpired() on a store without clients.sweepExpired rejects with a TypeError', async () => {
    const { as, store } = await audited();
    const { sweepExpired: _, ...clients } = store.clients;
    const bare = await setup({ store: { ...store, clients } as typeof store });
    await expect(bare.as.clients.sweepExpired()).rejects.toThrow(TypeError);
    await as.close();
  });

  it('"audit" must be a function', async () => {
    const error = await setup({ audit: 'log' as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });
});
