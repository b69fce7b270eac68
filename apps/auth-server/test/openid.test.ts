// OpenID Connect through the built app: dev login, consent, ID token and userinfo, with
// oauth4webapi as the relying party (issue 18 §1).
import {
  type AuthServer,
  authorizeOverHttp,
  claimsOf,
  devLogin,
  OPAQUE_SUB,
} from '@portcullis/internal-testing/apps';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';
import { registerClient } from './helpers/client';

const REDIRECT = 'http://127.0.0.1:9/callback';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('OpenID Connect through the app', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a dev-login sign-in gets an ID token with the user’s email and name, and userinfo answers for the same sub', async () => {
    const issuer = new URL(app.url);
    const server = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
    );
    expect(server.userinfo_endpoint).toBe(`${app.url}/userinfo`);
    expect(server.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));

    const { client } = await registerClient(app.url, REDIRECT, 'OIDC Test App');
    const withAuthTime: oauth.Client = { ...client, require_auth_time: true };
    const before = Math.floor(Date.now() / 1000);
    const jar = await devLogin(app.url, 'grace@example.com');
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(server.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      scope: 'openid profile email read',
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: MCP_RESOURCE,
    }).toString();
    // The consent screen names what the identity scopes release.
    const toConsent = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
    const consentPage = await fetch(new URL(toConsent.headers.get('location')!, app.url), {
      headers: { cookie: jar.header() },
    });
    const consentHtml = await consentPage.text();
    expect(consentHtml).toContain('See your email address and whether it is verified');
    expect(consentHtml).toContain('See your name');
    const { callback, consentShown } = await authorizeOverHttp(app.url, jar, url);
    expect(consentShown).toBe(true);
    const params = oauth.validateAuthResponse(server, withAuthTime, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      server,
      withAuthTime,
      await oauth.authorizationCodeGrantRequest(
        server,
        withAuthTime,
        oauth.None(),
        params,
        REDIRECT,
        verifier,
        { additionalParameters: { resource: MCP_RESOURCE }, ...insecure },
      ),
      { expectedNonce: nonce, requireIdToken: true },
    );
    const id = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(id.sub).toMatch(OPAQUE_SUB);
    expect(id.sub).toBe(claimsOf(tokens.access_token).sub);
    expect(id).toMatchObject({
      iss: app.url,
      aud: client.client_id,
      nonce,
      email: 'grace@example.com',
      email_verified: false,
      name: 'grace',
    });
    // The sign-in time, from the session: not before the login started, not in the future.
    expect(id.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(id.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    // The access token itself still carries no personal data.
    expect(JSON.stringify(claimsOf(tokens.access_token))).not.toContain('grace');

    const info = await oauth.processUserInfoResponse(
      server,
      withAuthTime,
      id.sub,
      await oauth.userInfoRequest(server, withAuthTime, tokens.access_token, insecure),
    );
    expect(info).toMatchObject({
      sub: id.sub,
      email: 'grace@example.com',
      email_verified: false,
      name: 'grace',
    });
    expect(typeof info.updated_at).toBe('number');

    // A refresh gives a new ID token for the same user, without nonce (Core §12.2).
    const refreshed = await oauth.processRefreshTokenResponse(
      server,
      withAuthTime,
      await oauth.refreshTokenGrantRequest(
        server,
        withAuthTime,
        oauth.None(),
        tokens.refresh_token!,
        { additionalParameters: { resource: MCP_RESOURCE }, ...insecure },
      ),
    );
    const again = oauth.getValidatedIdTokenClaims(refreshed)!;
    expect(again).toMatchObject({
      sub: id.sub,
      auth_time: id.auth_time,
      email: 'grace@example.com',
    });
    expect(again.nonce).toBeUndefined();

    // A token without openid is refused at userinfo.
    const plain = await registerClient(app.url, REDIRECT, 'Plain MCP client');
    const flow = await plain.authorizationUrl('read');
    const plainCallback = (await authorizeOverHttp(app.url, jar, flow.url)).callback;
    const plainTokens = await plain.exchange(plainCallback, flow);
    expect(plainTokens.id_token).toBeUndefined();
    const refused = await fetch(server.userinfo_endpoint!, {
      headers: { Authorization: `Bearer ${plainTokens.access_token}` },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
  });
});

describe('ACCESS_TOKEN_CLAIMS through the app', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp({ env: { ACCESS_TOKEN_CLAIMS: 'email,name' } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('access tokens carry the listed claims the grant releases, after a refresh too, and none without those scopes', async () => {
    const jar = await devLogin(app.url, 'hedy@example.com');
    const { exchange, refresh, authorizationUrl } = await registerClient(
      app.url,
      REDIRECT,
      'Claims MCP client',
    );
    const flow = await authorizationUrl('profile email read');
    const tokens = await exchange((await authorizeOverHttp(app.url, jar, flow.url)).callback, flow);
    const claims = claimsOf(tokens.access_token);
    expect(claims).toMatchObject({
      sub: expect.stringMatching(OPAQUE_SUB),
      email: 'hedy@example.com',
      name: 'hedy',
    });
    // Released by `email` but not listed.
    expect(claims.email_verified).toBeUndefined();
    const refreshed = claimsOf((await refresh(tokens.refresh_token!)).access_token);
    expect(refreshed).toMatchObject({ sub: claims.sub, email: 'hedy@example.com', name: 'hedy' });

    const plain = await authorizationUrl('read');
    const plainTokens = await exchange(
      (await authorizeOverHttp(app.url, jar, plain.url)).callback,
      plain,
    );
    expect(JSON.stringify(claimsOf(plainTokens.access_token))).not.toContain('hedy');
  });
});
