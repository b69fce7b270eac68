import { randomBytes } from 'node:crypto';
import { serviceAvailable } from '@portcullis/internal-testing';
import {
  type AuthServer,
  authorizeOverHttp,
  type CookieJar,
  devLogin,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEEP_DAYS,
  KEEP_PER_USER,
  redisSecurityEvents,
  type SecurityEvent,
  type SecurityEventLog,
  securityEventOf,
  sqlSecurityEvents,
} from '../src/lib/security-events';
import { revokeOnAccountPage } from './helpers/account';
import { startApp } from './helpers/app';
import { registerClient } from './helpers/client';
import { openStore, type TestStore } from './helpers/stores';

const withPostgres = await serviceAvailable('Postgres');
const withRedis = await serviceAvailable('Redis');
const DAY = 24 * 3600 * 1000;

const signIn = (at: number): SecurityEvent => ({ event: 'user.signed_in', at, provider: 'dev' });

/** The same behaviour asked of each backend. */
function conformance(name: string, open: () => Promise<TestStore<SecurityEventLog>>) {
  describe(name, () => {
    let log: SecurityEventLog;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store: log, close } = await open());
    });
    afterAll(async () => {
      await close?.();
    });
    const user = () => `dev:${randomBytes(6).toString('hex')}@example.com`;

    it('keeps each user apart, newest first, with every field', async () => {
      const [ada, bob] = [user(), user()];
      const now = Date.now();
      await log.record(ada, signIn(now - 2000));
      await log.record(ada, {
        event: 'consent.granted',
        at: now - 1000,
        clientId: 'client-1',
        ip: '192.0.2.1',
      });
      await log.record(bob, signIn(now));
      expect(await log.recent(ada)).toEqual([
        { event: 'consent.granted', at: now - 1000, clientId: 'client-1', ip: '192.0.2.1' },
        { event: 'user.signed_in', at: now - 2000, provider: 'dev' },
      ]);
      expect(await log.recent(bob)).toEqual([signIn(now)]);
      expect(await log.recent(user())).toEqual([]);
    });

    it(`keeps only the newest ${KEEP_PER_USER} per user`, async () => {
      const ada = user();
      const now = Date.now();
      for (let i = 0; i < KEEP_PER_USER + 10; i++) await log.record(ada, signIn(now - 100_000 + i));
      const recent = await log.recent(ada);
      expect(recent).toHaveLength(KEEP_PER_USER);
      expect(recent[0]!.at).toBe(now - 100_000 + KEEP_PER_USER + 9);
      expect(recent.at(-1)!.at).toBe(now - 100_000 + 10);
    });

    it('stays bounded under concurrent writes for one user', async () => {
      const ada = user();
      const now = Date.now();
      await Promise.all(
        Array.from({ length: 3 * KEEP_PER_USER }, (_, i) =>
          log.record(ada, signIn(now - 10_000 + i)),
        ),
      );
      expect((await log.recent(ada)).length).toBe(KEEP_PER_USER);
      // One more write trims whatever concurrent writers left over.
      await log.record(ada, signIn(now));
      const recent = await log.recent(ada);
      expect(recent).toHaveLength(KEEP_PER_USER);
      expect(recent[0]!.at).toBe(now);
    });

    it(`drops what is older than ${KEEP_DAYS} days`, async () => {
      const ada = user();
      const now = Date.now();
      await log.record(ada, signIn(now - (KEEP_DAYS + 1) * DAY));
      await log.record(ada, signIn(now));
      expect(await log.recent(ada)).toEqual([signIn(now)]);
    });

    it('stores nothing for an oversized sub', async () => {
      const huge = `dev:${'x'.repeat(600)}`;
      await log.record(huge, signIn(Date.now()));
      expect(await log.recent(huge)).toEqual([]);
    });
  });
}

conformance('PGlite (the embedded default)', () => openStore.pglite((db) => sqlSecurityEvents(db)));
if (withPostgres) {
  conformance('Postgres', () =>
    openStore.postgres((pool, schema) => sqlSecurityEvents(pool, schema)),
  );
}
if (withRedis) {
  conformance('Redis', () =>
    openStore.redis((redis, prefix) => redisSecurityEvents(redis, prefix)),
  );
}

describe('which audit events reach the account page', () => {
  const base = { time: '2026-12-06T00:00:00.000Z', ip: '192.0.2.7' };
  it('keeps grants, withdrawals and revocations with their user; never routine issuance', () => {
    expect(
      securityEventOf({
        ...base,
        event: 'consent.granted',
        clientId: 'c',
        sub: 'dev:a@example.com',
        scopes: ['read'],
        resource: 'r',
      }),
    ).toEqual({
      sub: 'dev:a@example.com',
      event: {
        event: 'consent.granted',
        at: Date.parse(base.time),
        clientId: 'c',
        ip: '192.0.2.7',
      },
    });
    expect(
      securityEventOf({
        ...base,
        event: 'token.refreshed',
        clientId: 'c',
        sub: 'dev:a@example.com',
        familyId: 'f',
        scopes: ['read'],
        resource: 'r',
        refreshToken: true,
      }),
    ).toBeUndefined();
    // A reuse the store could not tie to a user has nobody to show it to.
    expect(
      securityEventOf({
        ...base,
        event: 'token.reuse_detected',
        clientId: 'c',
        familyId: 'f',
        grantType: 'refresh_token',
      }),
    ).toBeUndefined();
  });
});

describe('the account page shows recent security activity', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  const activity = async (jar: CookieJar) => {
    const html = await (
      await fetch(`${app.url}/account`, { headers: { cookie: jar.header() } })
    ).text();
    return { html, events: [...html.matchAll(/data-event="([^"]+)"/g)].map((m) => m[1]) };
  };

  it('sign-in, access given and revoked appear newest first, only to their user, with no secret', async () => {
    const client = await registerClient(
      app.url,
      'http://127.0.0.1:9/callback',
      'Activity Test App',
    );
    const jar = await devLogin(app.url, 'activity@example.com');
    const flow = await client.authorizationUrl('read');
    const { callback } = await authorizeOverHttp(app.url, jar, flow.url);
    const code = callback.searchParams.get('code')!;
    const tokens = await client.exchange(callback, flow);

    const { html } = await activity(jar);
    const revoke = await revokeOnAccountPage(app.url, jar, client.client.client_id, html);
    expect(revoke.status).toBe(303);

    // Events are stored after their response: poll briefly for the last one.
    let seen = await activity(jar);
    for (let i = 0; i < 50 && seen.events[0] !== 'consent.revoked'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = await activity(jar);
    }
    expect(seen.events).toEqual(['consent.revoked', 'consent.granted', 'user.signed_in']);
    expect(seen.html).toContain('Revoked access for Activity Test App');
    expect(seen.html).toContain('Gave Activity Test App access');
    expect(seen.html).toContain('Signed in (dev-login)');
    for (const secret of [code, tokens.access_token, tokens.refresh_token!]) {
      expect(seen.html).not.toContain(secret);
    }

    // Another user sees only their own sign-in.
    const other = await devLogin(app.url, 'someone-else@example.com');
    let theirs = await activity(other);
    for (let i = 0; i < 50 && theirs.events.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      theirs = await activity(other);
    }
    expect(theirs.events).toEqual(['user.signed_in']);
  });
});
