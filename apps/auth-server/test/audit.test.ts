import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AuthServer,
  authorizeOverHttp,
  type CookieJar,
  claimsOf,
  devLogin,
  OPAQUE_SUB,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';
import { registerClient } from './helpers/client';
import { hiddenField } from './helpers/stores';

const REDIRECT = 'http://127.0.0.1:9/callback';

/** The app's audit lines: its JSON lines with `msg: "audit"`. */
function auditLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"msg":"audit"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
}

/** Polls the app's output until `done` holds (a log line is written after its response). */
async function waitForLines(app: AuthServer, done: (lines: Record<string, unknown>[]) => boolean) {
  for (let i = 0; i < 100; i++) {
    const lines = auditLines(app.output());
    if (done(lines)) return lines;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return auditLines(app.output());
}

describe('audit lines of the app', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('a dev-login flow writes one JSON line per event: registered, signed in, consent, code, tokens, refresh, consent withdrawn; none holds a token or code', async () => {
    const client = await registerClient(app.url, REDIRECT, 'Audit Test Client');
    const clientId = client.client.client_id;
    const jar: CookieJar = await devLogin(app.url, 'ada@example.com');
    const flow = await client.authorizationUrl('read');
    const { callback, consentShown } = await authorizeOverHttp(app.url, jar, flow.url);
    expect(consentShown).toBe(true);
    const code = callback.searchParams.get('code')!;
    const tokens = await client.exchange(callback, flow);
    const refreshed = await client.refresh(tokens.refresh_token!);
    const SUB = claimsOf(tokens.access_token).sub as string;
    expect(SUB).toMatch(OPAQUE_SUB);

    // Withdraw the consent on the account page, as the user does.
    const account = await fetch(`${app.url}/account`, { headers: { cookie: jar.header() } });
    const html = await account.text();
    const revoke = await fetch(`${app.url}/account/revoke`, {
      method: 'POST',
      headers: {
        cookie: jar.header(),
        origin: app.url,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ client_id: clientId, csrf: hiddenField(html, 'csrf') }),
      redirect: 'manual',
    });
    expect(revoke.status).toBe(303);

    const lines = await waitForLines(app, (l) => l.some((e) => e.event === 'consent.revoked'));
    for (const line of lines) {
      expect(line).toMatchObject({ level: 'info', msg: 'audit' });
      expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
    }
    const events = lines.map((line) => line.event);
    expect(events).toEqual([
      'client.registered',
      'user.signed_in',
      'consent.granted',
      'code.issued',
      'token.issued',
      'token.refreshed',
      'consent.revoked',
    ]);
    const byEvent = Object.fromEntries(lines.map((line) => [line.event, line]));
    expect(byEvent['client.registered']).toMatchObject({
      clientId,
      tokenEndpointAuthMethod: 'none',
      clientName: 'Audit Test Client',
    });
    expect(byEvent['user.signed_in']).toMatchObject({ provider: 'dev-login', sub: SUB });
    expect(byEvent['consent.granted']).toMatchObject({
      clientId,
      sub: SUB,
      scopes: ['read'],
      resource: MCP_RESOURCE,
    });
    const familyId = byEvent['code.issued']!.familyId;
    expect(typeof familyId).toBe('string');
    for (const event of ['code.issued', 'token.issued', 'token.refreshed']) {
      expect(byEvent[event]).toMatchObject({ clientId, sub: SUB, familyId, scopes: ['read'] });
    }
    expect(byEvent['consent.revoked']).toMatchObject({ clientId, sub: SUB });
    // The loopback test client: the address the app computes for its rate limits.
    expect(byEvent['token.issued']!.ip).toMatch(/^(127\.0\.0\.1|::1)$/);

    const text = lines.map((line) => JSON.stringify(line)).join('\n');
    for (const secret of [
      code,
      flow.verifier,
      tokens.access_token,
      tokens.refresh_token!,
      refreshed.access_token,
      refreshed.refresh_token!,
      ...[...jar.cookies].filter(([name]) => name.endsWith('session-token')).map(([, v]) => v),
    ]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(app.output()).not.toContain(secret);
    }
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}/);
  });
});

describe('expired clients', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-expiry-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a registration nobody approved is deleted by the sweep and logged once as client.expired, without its secret', async () => {
    const env = { DCR_CLIENT_TTL_SECONDS: '1' };
    let app = await startApp({ dataDir, env });
    const registered = await fetch(`${app.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Short-lived client' }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId, client_secret: secret } = (await registered.json()) as Record<
      string,
      string
    >;
    await app.close();
    // Restarted past the client's expiry (a second): the sweep at start finds it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    app = await startApp({ dataDir, env });
    try {
      const lines = await waitForLines(app, (all) => all.some((l) => l.event === 'client.expired'));
      const expired = lines.filter((l) => l.event === 'client.expired');
      expect(expired).toEqual([
        {
          time: expect.any(String),
          level: 'info',
          msg: 'audit',
          event: 'client.expired',
          clientId,
        },
      ]);
      expect(app.output()).not.toContain(secret);
      // Gone: its secret no longer authenticates it.
      const token = await fetch(`${app.url}/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${btoa(`${clientId}:${secret}`)}`,
        },
        body: 'grant_type=refresh_token&refresh_token=x',
      });
      expect(token.status).toBe(401);
    } finally {
      await app.close();
    }
  });
});
