import {
  type Browser,
  type BrowserContext,
  chromiumAvailable,
  launchChromium,
  type Page,
} from '@portcullis/internal-testing';
import {
  type AuthServer,
  claimsOf,
  loopbackRedirect,
  OPAQUE_SUB,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';
import { screenshot } from './helpers/browser';
import { registerClient, type TestClient } from './helpers/client';

describe.runIf(chromiumAvailable())('end to end in Chromium: dev login', () => {
  let app: AuthServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let loopback: Awaited<ReturnType<typeof loopbackRedirect>>;
  let client: TestClient;

  beforeAll(async () => {
    loopback = await loopbackRedirect({ timeoutMs: 30_000 });
    // One at a time, so that afterAll can stop whatever did start.
    browser = await launchChromium();
    app = await startApp();
    client = await registerClient(app.url, loopback.redirectUri, 'Dev Login Test Client');
    context = await browser.newContext();
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.close();
    await loopback?.close();
  });

  it('RFC 6749 §4.1 + RFC 9207: login → consent → redirect with code, state, iss → tokens', async () => {
    const flow = await client.authorizationUrl('read');
    await page.goto(flow.url.href);
    await page.waitForURL(/\/login\?/);
    await expect(page.getByRole('heading', { name: /Development login/ })).toBeTruthy();
    expect(await page.getByText('development only').isVisible()).toBe(true);
    await screenshot(page, 'login-dev');

    const consentResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/consent');
    // Keyboard only: the label names the field, Enter submits.
    await page.getByLabel('Email').focus();
    await page.keyboard.type('ada@example.com');
    await page.keyboard.press('Enter');
    const consent = await consentResponse;
    expect(consent.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(consent.headers()['x-frame-options']).toBe('DENY');
    await page.waitForURL(/\/consent\?/);

    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('Dev Login Test Client');
    expect(text).toContain(new URL(loopback.redirectUri).host);
    expect(text).toMatch(/localhost/i);
    expect(text).toContain('Read your data and use read-only tools');
    expect(text).toContain('ada@example.com');
    await screenshot(page, 'consent');

    const arrival = loopback.next();
    await page.getByRole('button', { name: 'Approve' }).click();
    const callback = await arrival;
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(flow.state);
    expect(callback.searchParams.get('iss')).toBe(app.url);

    const tokens = await client.exchange(callback, flow);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();
    const claims = claimsOf(tokens.access_token);
    expect(claims).toMatchObject({
      iss: app.url,
      sub: expect.stringMatching(OPAQUE_SUB),
      aud: MCP_RESOURCE,
      client_id: client.client.client_id,
      scope: 'read',
    });
    // No personal data in the token: the sub is opaque, no email or name rides along.
    expect(JSON.stringify(claims)).not.toMatch(/ada|example\.com/);
  });

  it('a second authorization with the same scopes skips consent', async () => {
    const seen: string[] = [];
    page.on('request', (r) => seen.push(new URL(r.url()).pathname));
    const flow = await client.authorizationUrl('read');
    const arrival = loopback.next();
    await page.goto(flow.url.href);
    const callback = await arrival;
    expect(seen).not.toContain('/consent');
    expect(seen).not.toContain('/login');
    expect(callback.searchParams.get('state')).toBe(flow.state);
    const tokens = await client.exchange(callback, flow);
    expect(claimsOf(tokens.access_token).scope).toBe('read');
  });

  it('broader scopes ask again, showing only what is new; Deny returns access_denied with state and iss', async () => {
    const flow = await client.authorizationUrl('read write');
    await page.goto(flow.url.href);
    await page.waitForURL(/\/consent\?/);
    expect((await page.locator('main').textContent()) ?? '').toContain(
      'Create and change your data',
    );
    // `read` was approved by the first test: only `write` is asked for, `read` is named apart.
    expect(await page.locator('ul.scopes code').allTextContents()).toEqual(['write']);
    expect(await page.locator('p.already').textContent()).toContain('read');
    const arrival = loopback.next();
    await page.getByRole('button', { name: 'Deny' }).click();
    const callback = await arrival;
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(flow.state);
    expect(callback.searchParams.get('iss')).toBe(app.url);
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('a consent decision with a forged CSRF token is refused (403)', async () => {
    const flow = await client.authorizationUrl('read write');
    await page.goto(flow.url.href);
    await page.waitForURL(/\/consent\?/);
    await page.locator('input[name="csrf"]').evaluate((input: HTMLInputElement) => {
      input.value = 'A'.repeat(43);
    });
    const decision = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/authorize/decision',
    );
    await page.getByRole('button', { name: 'Approve' }).click();
    expect((await decision).status()).toBe(403);
  });

  it('the account page lists the client; revoking it makes the next authorization ask again', async () => {
    await page.goto(`${app.url}/account`);
    const account = page.locator('main');
    expect((await account.textContent()) ?? '').toContain('Dev Login Test Client');
    await screenshot(page, 'account');
    await page.getByRole('button', { name: /Revoke access for Dev Login Test Client/ }).click();
    await page.waitForURL(/\/account\?revoked=1/);
    // Gone from the applications, and the withdrawal is the newest line of the activity.
    expect(
      await page.getByRole('button', { name: /Revoke access for Dev Login Test Client/ }).count(),
    ).toBe(0);
    expect((await account.textContent()) ?? '').toContain(
      'You have not authorized any application.',
    );
    // (stored after the response: reload until it shows)
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('ul.activity li').first().textContent();
        },
        { timeout: 10_000 },
      )
      .toContain('Revoked access for Dev Login Test Client');

    const flow = await client.authorizationUrl('read');
    await page.goto(flow.url.href);
    await page.waitForURL(/\/consent\?/);
  });

  it('the login page shows a clear error and works on a phone-sized screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 375, height: 667 },
      isMobile: true,
    });
    const small = await phone.newPage();
    await small.goto(`${app.url}/login?error=CredentialsSignin`);
    expect((await small.locator('.alert.error').textContent()) ?? '').toContain('Sign-in failed');
    const width = await small.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(375);
    await screenshot(small, 'login-phone');
    await phone.close();
  });
});
