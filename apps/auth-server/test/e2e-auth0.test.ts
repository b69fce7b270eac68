import { type Browser, chromiumAvailable, launchChromium } from '@portcullis/internal-testing';
import {
  type AuthServer,
  claimsOf,
  freePort,
  loopbackRedirect,
  OPAQUE_SUB,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';
import { screenshot } from './helpers/browser';
import { registerClient } from './helpers/client';
import { AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET, startOidcProvider } from './helpers/oidc-provider';

describe.runIf(chromiumAvailable())(
  'end to end in Chromium: Auth0 (a local oidc-provider 9.13.3)',
  () => {
    let app: AuthServer;
    let browser: Browser;
    let oidc: Awaited<ReturnType<typeof startOidcProvider>>;
    let loopback: Awaited<ReturnType<typeof loopbackRedirect>>;

    beforeAll(async () => {
      const port = await freePort();
      loopback = await loopbackRedirect({ timeoutMs: 30_000 });
      // Registered at the provider exactly as the README tells Auth0 users to do.
      oidc = await startOidcProvider(`http://127.0.0.1:${port}/api/auth/callback/auth0`);
      browser = await launchChromium();
      app = await startApp({
        port,
        env: {
          AUTH0_ISSUER: oidc.issuer,
          AUTH0_CLIENT_ID,
          AUTH0_CLIENT_SECRET,
          DEV_LOGIN: 'false',
        },
      });
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await oidc?.close();
      await loopback?.close();
    });

    it("login at the OIDC provider → consent → code, state, iss → tokens for the user's opaque sub", async () => {
      const client = await registerClient(app.url, loopback.redirectUri, 'Auth0 Test Client');
      const context = await browser.newContext();
      const page = await context.newPage();
      const flow = await client.authorizationUrl('read write');
      await page.goto(flow.url.href);
      await page.waitForURL(/\/login\?/);
      expect(await page.getByText('development only').count()).toBe(0);
      await screenshot(page, 'login-auth0');

      await page.getByRole('button', { name: 'Continue with Auth0' }).click();
      // oidc-provider's development interactions: any login, then its own consent prompt.
      await page.waitForURL((url) => url.href.startsWith(oidc.issuer));
      await page.locator('input[name="login"]').fill('ada');
      await page.locator('input[name="password"]').fill('any-password');
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(
        (url) => url.href.startsWith(app.url) || url.pathname.includes('/interaction/'),
      );
      if (page.url().startsWith(oidc.issuer)) {
        await page.locator('button[type="submit"]').click();
      }

      await page.waitForURL(/\/consent\?/);
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain('Auth0 Test Client');
      expect(text).toContain('ada@auth0.example');
      expect(text).toContain('Create and change your data');

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
        scope: 'read write',
      });
      await context.close();
    });
  },
);
