import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthServer,
  CookieJar,
  claimsOf,
  codeFlow,
  OPAQUE_SUB,
  registerClient,
} from '@portcullis/internal-testing/apps';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';

// Firebase's production path, not the emulator's unsigned tokens: the app runs without
// FIREBASE_AUTH_EMULATOR_HOST and fetches signing keys from FIREBASE_JWKS_URL, which this test
// serves with its own RS256 key set (Google's securetoken key set has the same shape).
const PROJECT = 'portcullis-signed';
const REDIRECT = 'http://127.0.0.1:9/callback';

describe('Firebase sign-in with signed ID tokens (RS256, key set at FIREBASE_JWKS_URL)', () => {
  let app: AuthServer;
  let keyServer: Server;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({
    iss: `https://securetoken.google.com/${PROJECT}`,
    aud: PROJECT,
    sub: 'uid-signed-1',
    user_id: 'uid-signed-1',
    email: 'sigrid@example.com',
    name: 'Sigrid',
    iat: now() - 5,
    auth_time: now() - 5,
    exp: now() + 3600,
  });

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwks = JSON.stringify({
      keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'signed-1', alg: 'RS256', use: 'sig' }],
    });
    keyServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(jwks);
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const { port } = keyServer.address() as AddressInfo;
    app = await startApp({
      env: {
        FIREBASE_PROJECT_ID: PROJECT,
        FIREBASE_API_KEY: 'demo-api-key',
        FIREBASE_JWKS_URL: `http://127.0.0.1:${port}/jwk`,
        DEV_LOGIN: 'false',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await new Promise<void>((resolve) => keyServer?.close(() => resolve()));
  });

  function sign(
    payload: Record<string, unknown>,
    options: { kid?: string; with?: CryptoKey } = {},
  ): Promise<string> {
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'signed-1', typ: 'JWT' })
      .sign(options.with ?? key);
  }

  /** Posts the ID token to next-auth's Firebase credentials callback, as the login page does. */
  async function signIn(idToken: string) {
    const jar = new CookieJar();
    const csrf = await fetch(`${app.url}/api/auth/csrf`);
    jar.store(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const callback = await fetch(`${app.url}/api/auth/callback/firebase`, {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ idToken, csrfToken, json: 'true' }),
      redirect: 'manual',
    });
    jar.store(callback);
    const session = (await (
      await fetch(`${app.url}/api/auth/session`, { headers: { cookie: jar.header() } })
    ).json()) as { user?: { email?: string } };
    return { status: callback.status, user: session.user, jar };
  }

  it('a valid signed token signs in, and the whole flow issues tokens for that Firebase user', async () => {
    const { user, jar } = await signIn(await sign(claims()));
    expect(user?.email).toBe('sigrid@example.com');
    const client = await registerClient(app.url, { redirectUri: REDIRECT });
    const tokens = await codeFlow({
      issuer: app.url,
      resource: MCP_RESOURCE,
      client,
      redirectUri: REDIRECT,
      scope: 'read',
      jar,
    });
    expect(claimsOf(tokens.access_token)).toMatchObject({
      iss: app.url,
      sub: expect.stringMatching(OPAQUE_SUB),
      aud: MCP_RESOURCE,
    });
  });

  it.each([
    ['a wrong issuer', { iss: 'https://securetoken.google.com/another-project' }],
    ['a wrong audience', { aud: 'another-project' }],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }],
    ['auth_time in the future', { auth_time: Math.floor(Date.now() / 1000) + 600 }],
  ])('refuses %s (401, no session)', async (_name, patch) => {
    const { status, user } = await signIn(await sign({ ...claims(), ...patch }));
    expect(status).toBe(401);
    expect(user).toBeUndefined();
  });

  it('refuses a signature by another key, an unknown kid, and an unsigned token', async () => {
    const forged = [
      await sign(claims(), { with: otherKey }),
      await sign(claims(), { kid: 'signed-2', with: otherKey }),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
        JSON.stringify(claims()),
      ).toString('base64url')}.`,
    ];
    for (const idToken of forged) {
      const { status, user } = await signIn(idToken);
      expect(status).toBe(401);
      expect(user).toBeUndefined();
    }
  });
});
