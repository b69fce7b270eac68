import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEvent, OpenIdClaims } from '../src/index.js';
import {
  authorizeParams,
  exchange,
  form,
  ISSUER,
  listen,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  setup,
  url,
} from './support/setup.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const USERS: Record<string, OpenIdClaims> = {
  u_alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' },
};
const claims = async (sub: string) => USERS[sub];

describe('OpenID Connect with oauth4webapi as the relying party (over HTTP)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  async function deploy() {
    const http = await listen();
    cleanups.push(http.close);
    const { as, clock } = await setup({ issuer: http.origin, openid: { claims } });
    clock.now = Date.now();
    http.serve(as.handle);
    const issuer = new URL(http.origin);
    const server = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
    );
    const registration = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        server,
        { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope: 'openid read' },
        insecure,
      ),
    );
    // require_auth_time: oauth4webapi then requires and checks auth_time in every ID token.
    const client: oauth.Client = { client_id: registration.client_id, require_auth_time: true };
    return { as, http, server, client, clock };
  }

  async function signIn(
    env: Awaited<ReturnType<typeof deploy>>,
    scope: string,
    nonce: string | undefined,
    authTime: number,
  ) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const params = authorizeParams({
      response_type: 'code',
      client_id: env.client.client_id,
      redirect_uri: REDIRECT,
      scope,
      nonce,
      state,
      resource: RESOURCE,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const parsed = await env.as.authorization.parse(params);
    if (!parsed.ok) throw new Error(`refused: ${parsed.response.headers.get('location')}`);
    const redirect = await parsed.pending.approve('u_alice', { authTime });
    const callback = oauth.validateAuthResponse(
      env.server,
      env.client,
      new URL(redirect.headers.get('location')!),
      state,
    );
    const response = await oauth.authorizationCodeGrantRequest(
      env.server,
      env.client,
      oauth.None(),
      callback,
      REDIRECT,
      verifier,
      { additionalParameters: { resource: RESOURCE }, ...insecure },
    );
    return response;
  }

  it('OpenID Connect Discovery §3: the openid-configuration lists userinfo, the scopes and the claims', async () => {
    const { server } = await deploy();
    expect(server.userinfo_endpoint).toBe(`${server.issuer}/userinfo`);
    expect(server.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    expect(server.claims_supported).toEqual(
      expect.arrayContaining(['sub', 'auth_time', 'nonce', 'email', 'email_verified', 'name']),
    );
    expect(server.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(server.subject_types_supported).toEqual(['public']);
    expect(server.response_types_supported).toEqual(['code']);
  });

  it('Core §3.1.3.7: the ID token validates (iss, aud, azp, nonce, auth_time, signature, at_hash) and carries the granted claims', async () => {
    const env = await deploy();
    const nonce = oauth.generateRandomNonce();
    const authTime = Math.floor(Date.now() / 1000) - 30;
    const tokens = await oauth.processAuthorizationCodeResponse(
      env.server,
      env.client,
      await signIn(env, 'openid profile email read', nonce, authTime),
      { expectedNonce: nonce, requireIdToken: true },
    );
    const idClaims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(idClaims).toMatchObject({
      iss: env.server.issuer,
      sub: 'u_alice',
      aud: env.client.client_id,
      azp: env.client.client_id,
      nonce,
      auth_time: authTime,
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Liddell',
    });
    expect(idClaims.exp - idClaims.iat).toBe(600);
    // Signed with the published key, typ JWT (not the access token's at+jwt).
    const jwks = createRemoteJWKSet(new URL(env.server.jwks_uri!), {
      [Symbol.for('jose.allowInsecureRequests')]: true,
    } as object);
    const verified = await jwtVerify(tokens.id_token!, jwks, { typ: 'JWT', algorithms: ['ES256'] });
    expect(verified.payload.sub).toBe('u_alice');
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(
      decodeProtectedHeader(tokens.access_token).kid,
    );
    const digest = createHash('sha256').update(tokens.access_token).digest();
    expect(idClaims.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));

    // Core §5.3: userinfo with the access token; oauth4webapi checks that sub matches.
    const info = await oauth.processUserInfoResponse(
      env.server,
      env.client,
      idClaims.sub,
      await oauth.userInfoRequest(env.server, env.client, tokens.access_token, insecure),
    );
    expect(info).toEqual({
      sub: 'u_alice',
      email: 'alice@example.com',
      email_verified: true,
      name: 'Alice Liddell',
    });
    await expect(
      oauth.processUserInfoResponse(
        env.server,
        env.client,
        'someone-else',
        await oauth.userInfoRequest(env.server, env.client, tokens.access_token, insecure),
      ),
    ).rejects.toThrow();

    // Core §12.2: a refresh gives a new ID token for the same user, without nonce.
    const refreshed = await oauth.processRefreshTokenResponse(
      env.server,
      env.client,
      await oauth.refreshTokenGrantRequest(
        env.server,
        env.client,
        oauth.None(),
        tokens.refresh_token!,
        insecure,
      ),
    );
    const again = oauth.getValidatedIdTokenClaims(refreshed)!;
    expect(again).toMatchObject({
      sub: 'u_alice',
      auth_time: authTime,
      email: 'alice@example.com',
    });
    expect(again.nonce).toBeUndefined();
    expect(again.at_hash).toBe(
      createHash('sha256')
        .update(refreshed.access_token)
        .digest()
        .subarray(0, 16)
        .toString('base64url'),
    );
  });

  it('Core §5.4: without the email scope there is no email, in the ID token or at userinfo', async () => {
    const env = await deploy();
    const tokens = await oauth.processAuthorizationCodeResponse(
      env.server,
      env.client,
      await signIn(env, 'openid read', undefined, Math.floor(Date.now() / 1000)),
      { expectedNonce: oauth.expectNoNonce, requireIdToken: true },
    );
    const idClaims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(idClaims.email).toBeUndefined();
    expect(idClaims.name).toBeUndefined();
    expect(idClaims.nonce).toBeUndefined();
    const info = await oauth.processUserInfoResponse(
      env.server,
      env.client,
      'u_alice',
      await oauth.userInfoRequest(env.server, env.client, tokens.access_token, insecure),
    );
    expect(info).toEqual({ sub: 'u_alice' });
  });

  it('an ID token is never issued without openid, and such a token is refused at userinfo (403 insufficient_scope)', async () => {
    const env = await deploy();
    const response = await signIn(env, 'read email', undefined, Math.floor(Date.now() / 1000));
    const body = (await response.clone().json()) as Record<string, unknown>;
    expect(body.id_token).toBeUndefined();
    expect(body.scope).toBe('read email');
    const refresh = await fetch(`${env.server.issuer}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token as string,
        client_id: env.client.client_id,
      }),
    });
    expect(((await refresh.json()) as Record<string, unknown>).id_token).toBeUndefined();
    const info = await fetch(`${env.server.issuer}/userinfo`, {
      headers: { Authorization: `Bearer ${body.access_token}` },
    });
    expect(info.status).toBe(403);
    expect(info.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
  });
});

describe('userinfo (OpenID Connect Core §5.3) and RFC 6750 errors', () => {
  async function openidGrant(scope = 'openid email') {
    const env = await setup({ openid: { claims } });
    const clientId = await publicClient(env.as);
    const { code, verifier } = await obtainCode(env.as, clientId, { scope, userId: 'u_alice' });
    const { body } = await exchange(env.as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: REDIRECT,
    });
    return { ...env, clientId, tokens: body };
  }
  const get = (headers: Record<string, string> = {}) => new Request(url('/userinfo'), { headers });

  it('RFC 6750 §3.1: no token → 401 with a bare Bearer challenge; a bad one → 401 invalid_token; CORS', async () => {
    const { as } = await openidGrant();
    const none = (await as.handle(get()))!;
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.headers.get('access-control-allow-origin')).toBe('*');
    for (const auth of [
      'Bearer nope',
      'Bearer a.b.c',
      'Basic Zm9vOmJhcg==',
      'Bearer ',
      `Bearer ${'a'.repeat(10_000)}`,
    ]) {
      const response = (await as.handle(get({ Authorization: auth })))!;
      expect(response.status, auth.slice(0, 20)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
    }
    const preflight = (await as.handle(new Request(url('/userinfo'), { method: 'OPTIONS' })))!;
    expect(preflight.status).toBe(204);
  });

  it('Core §5.3.1: POST with the token in the header or in the form body; both at once is invalid_request', async () => {
    const { as, tokens } = await openidGrant();
    const token = tokens.access_token as string;
    const header = (await as.handle(form('/userinfo', {}, { Authorization: `Bearer ${token}` })))!;
    expect(await header.json()).toEqual({
      sub: 'u_alice',
      email: 'alice@example.com',
      email_verified: true,
    });
    const body = (await as.handle(form('/userinfo', { access_token: token })))!;
    expect(body.status).toBe(200);
    const both = (await as.handle(
      form('/userinfo', { access_token: token }, { Authorization: `Bearer ${token}` }),
    ))!;
    expect(both.status).toBe(400);
    const put = (await as.handle(new Request(url('/userinfo'), { method: 'PUT' })))!;
    expect(put.status).toBe(405);
  });

  it('a revoked or expired token is refused (401 invalid_token); a store outage answers 503', async () => {
    const env = await openidGrant();
    const token = env.tokens.access_token as string;
    const ok = (await env.as.handle(get({ Authorization: `Bearer ${token}` })))!;
    expect(ok.status).toBe(200);
    env.clock.now += 3601_000;
    const expired = (await env.as.handle(get({ Authorization: `Bearer ${token}` })))!;
    expect(expired.status).toBe(401);
    env.clock.now -= 3601_000;
    await env.as.handle(form('/revoke', { token, client_id: env.clientId }));
    const revoked = (await env.as.handle(get({ Authorization: `Bearer ${token}` })))!;
    expect(revoked.status).toBe(401);

    const second = await openidGrant();
    const { StoreUnavailableError } = await import('@portcullis/token-store');
    second.store.accessTokens.find = async () => {
      throw new StoreUnavailableError('down');
    };
    const down = (await second.as.handle(
      get({ Authorization: `Bearer ${second.tokens.access_token}` }),
    ))!;
    expect(down.status).toBe(503);
  });

  it('a user the claims callback no longer knows → 401 invalid_token; a failing callback → 503, and the token endpoint still answers without the claims', async () => {
    const failing = await setup({
      openid: {
        claims: async (sub) => {
          if (sub === 'u_gone') return undefined;
          throw new Error('directory down');
        },
      },
    });
    const clientId = await publicClient(failing.as);
    const grant = async (userId: string) => {
      const { code, verifier } = await obtainCode(failing.as, clientId, {
        scope: 'openid email',
        userId,
      });
      return exchange(failing.as, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        client_id: clientId,
        redirect_uri: REDIRECT,
      });
    };
    const broken = await grant('u_broken');
    expect(broken.response.status).toBe(200);
    const idToken = decodeJwt(broken.body.id_token as string);
    expect(idToken.sub).toBe('u_broken');
    expect(idToken.email).toBeUndefined();
    const unavailable = (await failing.as.handle(
      get({ Authorization: `Bearer ${broken.body.access_token}` }),
    ))!;
    expect(unavailable.status).toBe(503);
    const gone = await grant('u_gone');
    const refused = (await failing.as.handle(
      get({ Authorization: `Bearer ${gone.body.access_token}` }),
    ))!;
    expect(refused.status).toBe(401);
  });

  it('Core §12.2: a refresh that narrows the scope without openid gets no ID token, and its access token is refused at userinfo', async () => {
    const env = await openidGrant('openid email read');
    expect(typeof env.tokens.id_token).toBe('string');
    const narrowed = await exchange(env.as, {
      grant_type: 'refresh_token',
      refresh_token: env.tokens.refresh_token as string,
      client_id: env.clientId,
      scope: 'read',
    });
    expect(narrowed.response.status).toBe(200);
    expect(narrowed.body.scope).toBe('read');
    expect(narrowed.body.id_token).toBeUndefined();
    const refused = (await env.as.handle(
      get({ Authorization: `Bearer ${narrowed.body.access_token}` }),
    ))!;
    expect(refused.status).toBe(403);
    // The grant keeps openid: the next full refresh has an ID token again.
    const full = await exchange(env.as, {
      grant_type: 'refresh_token',
      refresh_token: narrowed.body.refresh_token as string,
      client_id: env.clientId,
    });
    expect(decodeJwt(full.body.id_token as string)).toMatchObject({ sub: 'u_alice' });
  });

  it('an access token for any resource this server serves is accepted, its aud is the resource', async () => {
    const env = await openidGrant('openid');
    expect(decodeJwt(env.tokens.access_token as string).aud).toBe(RESOURCE);
    const ok = (await env.as.handle(get({ Authorization: `Bearer ${env.tokens.access_token}` })))!;
    expect(await ok.json()).toEqual({ sub: 'u_alice' });
  });
});

describe('OpenID Connect at /authorize', () => {
  it('Core §3.1.2.1: a nonce longer than 512 characters is refused with invalid_request', async () => {
    const { as } = await setup({ openid: { claims } });
    const clientId = await publicClient(as);
    const params = (nonce: string) =>
      authorizeParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'openid',
        nonce,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource: RESOURCE,
      });
    const tooLong = await as.authorization.parse(params('n'.repeat(513)));
    expect(tooLong.ok).toBe(false);
    const location = new URL((tooLong as { response: Response }).response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/nonce/);
    expect((await as.authorization.parse(params('n'.repeat(512)))).ok).toBe(true);
  });

  it('without the openid option nothing changes: openid is dropped, no ID token, no userinfo route', async () => {
    const { as } = await setup();
    const clientId = await publicClient(as);
    const { code, verifier } = await obtainCode(as, clientId, { scope: 'openid read' });
    const { body } = await exchange(as, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: REDIRECT,
    });
    expect(body.scope).toBe('read');
    expect(body.id_token).toBeUndefined();
    expect(await as.handle(new Request(url('/userinfo')))).toBeUndefined();
    const config = (await (await as.handle(
      new Request(`${ISSUER}/.well-known/openid-configuration`),
    ))!.json()) as Record<string, unknown>;
    expect(config.userinfo_endpoint).toBeUndefined();
    expect(config.scopes_supported).not.toContain('openid');
  });

  it('approve() refuses an authTime that is not a sign-in time in seconds', async () => {
    const { as } = await setup({ openid: { claims } });
    const clientId = await publicClient(as);
    const parsed = await as.authorization.parse(
      authorizeParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }),
    );
    if (!parsed.ok) throw new Error('refused');
    await expect(parsed.pending.approve('u', { authTime: Date.now() })).rejects.toThrow(TypeError);
    await expect(parsed.pending.approve('u', { authTime: 1.5 })).rejects.toThrow(TypeError);
  });
});

describe('consent.granted (audit)', () => {
  it('is emitted when a consent is added or widened, not on an automatic approval that grants nothing new', async () => {
    const events: AuditEvent[] = [];
    const { as } = await setup({ audit: (event) => void events.push(event) });
    const clientId = await publicClient(as);
    const consents = () => events.filter((e) => e.event === 'consent.granted');
    await obtainCode(as, clientId, { scope: 'read' });
    expect(consents()).toHaveLength(1);
    await obtainCode(as, clientId, { scope: 'read' });
    expect(consents()).toHaveLength(1);
    expect(events.filter((e) => e.event === 'code.issued')).toHaveLength(2);
    await obtainCode(as, clientId, { scope: 'read write' });
    expect(consents()).toHaveLength(2);
    expect(consents()[1]).toMatchObject({ scopes: ['read', 'write'] });
    await obtainCode(as, clientId, { scope: 'write' });
    expect(consents()).toHaveLength(2);
  });
});
