import { type Browser, chromiumAvailable, launchChromium } from '@portcullis/internal-testing';
import {
  type AuthServer,
  claimsOf,
  loopbackRedirect,
  OPAQUE_SUB,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';
import { screenshot } from './helpers/browser';
import { registerClient } from './helpers/client';
import { FIREBASE_PROJECT, startFirebaseEmulator } from './helpers/firebase-emulator';

describe.runIf(chromiumAvailable())('end to end in Chromium: Firebase Auth emulator', () => {
  let app: AuthServer;
  let browser: Browser;
  let emulator: Awaited<ReturnType<typeof startFirebaseEmulator>>;
  let loopback: Awaited<ReturnType<typeof loopbackRedirect>>;
  let uid: string;

  beforeAll(async () => {
    loopback = await loopbackRedirect({ timeoutMs: 30_000 });
    browser = await launchChromium();
    emulator = await startFirebaseEmulator();
    uid = await emulator.createUser('fiona@example.com', 'correct-horse-battery');
    app = await startApp({
      env: {
        FIREBASE_PROJECT_ID: FIREBASE_PROJECT,
        FIREBASE_API_KEY: 'demo-api-key',
        FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
        DEV_LOGIN: 'false',
      },
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await emulator?.stop();
    await loopback?.close();
  });

  it('email/password → ID token posted (never in a URL) → consent → code, state, iss → tokens', async () => {
    const client = await registerClient(app.url, loopback.redirectUri, 'Firebase Test Client');
    const context = await browser.newContext();
    const page = await context.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));

    const flow = await client.authorizationUrl('read');
    await page.goto(flow.url.href);
    await page.waitForURL(/\/login\?/);
    await screenshot(page, 'login-firebase');

    // A wrong password: a clear error, and the pending authorization is kept.
    await page.getByLabel('Email').fill('fiona@example.com');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in with email' }).click();
    await page.locator('.alert.error').waitFor();
    expect(await page.locator('.alert.error').textContent()).toContain('wrong email or password');
    expect(page.url()).toContain('callbackUrl=%2Fauthorize');
    await screenshot(page, 'login-firebase-error');

    await page.getByLabel('Password').fill('correct-horse-battery');
    await page.getByRole('button', { name: 'Sign in with email' }).click();
    await page.waitForURL(/\/consent\?/);
    expect((await page.locator('main').textContent()) ?? '').toContain('fiona@example.com');

    const arrival = loopback.next();
    await page.getByRole('button', { name: 'Approve' }).click();
    const callback = await arrival;
    expect(callback.searchParams.get('state')).toBe(flow.state);
    expect(callback.searchParams.get('iss')).toBe(app.url);
    const tokens = await client.exchange(callback, flow);
    expect(claimsOf(tokens.access_token)).toMatchObject({
      iss: app.url,
      sub: expect.stringMatching(OPAQUE_SUB),
      aud: MCP_RESOURCE,
      scope: 'read',
    });
    // Neither the Firebase uid nor the address rides in the token.
    expect(tokens.access_token).not.toContain(uid);
    expect(JSON.stringify(claimsOf(tokens.access_token))).not.toContain('fiona');

    // The guide put the ID token in a query string; here no URL the browser loaded carries a JWT.
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) expect(url).not.toMatch(/eyJ[\w-]+\.eyJ/);
    await context.close();
  });

  it('a forged ID token posted straight to next-auth is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.url}/login`);
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const forged = `${part({ alg: 'none' })}.${part({
      iss: 'https://securetoken.google.com/another-project',
      aud: 'another-project',
      sub: 'attacker',
      iat: now,
      auth_time: now,
      exp: now + 3600,
    })}.`;
    const status = await page.evaluate(async (idToken) => {
      const { csrfToken } = await (await fetch('/api/auth/csrf')).json();
      const response = await fetch('/api/auth/callback/firebase', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ idToken, csrfToken, json: 'true' }),
      });
      const session = await (await fetch('/api/auth/session')).json();
      return { code: response.status, signedIn: Boolean(session?.user) };
    }, forged);
    expect(status.signedIn).toBe(false);
    expect(status.code).toBe(401);
    await context.close();
  });
});
