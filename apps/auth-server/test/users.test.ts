import { randomBytes } from 'node:crypto';
import { serviceAvailable } from '@portcullis/internal-testing';
import { OPAQUE_SUB } from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUsers, sqlUsers, type UserDirectory } from '../src/lib/users';
import { openStore, type TestStore } from './helpers/stores';

const withPostgres = await serviceAvailable('Postgres');
const withRedis = await serviceAvailable('Redis');

/** The same behaviour asked of each backend. */
function conformance(name: string, open: () => Promise<TestStore<UserDirectory>>) {
  describe(name, () => {
    let users: UserDirectory;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store: users, close } = await open());
      await users.prepare();
    });
    afterAll(async () => {
      await close?.();
    });
    const email = () => `${randomBytes(6).toString('hex')}@example.com`;

    it('gives a new person an opaque sub that holds no personal data', async () => {
      const address = email();
      const user = await users.signIn('dev-login', address, { email: address, name: 'Ada' });
      expect(user.sub).toMatch(OPAQUE_SUB);
      expect(user.sub).not.toContain(address.split('@')[0]);
      expect(user).toMatchObject({
        provider: 'dev-login',
        subject: address,
        email: address,
        name: 'Ada',
      });
      expect(await users.find(user.sub)).toMatchObject({
        sub: user.sub,
        email: address,
        name: 'Ada',
      });
    });

    it('keeps the sub across sign-ins and refreshes the claims', async () => {
      const subject = `auth0|${randomBytes(6).toString('hex')}`;
      const first = await users.signIn('auth0', subject, {
        email: 'old@example.com',
        emailVerified: false,
      });
      const again = await users.signIn('auth0', subject, {
        email: 'new@example.com',
        emailVerified: true,
        name: 'Grace',
      });
      expect(again.sub).toBe(first.sub);
      expect(await users.find(first.sub)).toMatchObject({
        email: 'new@example.com',
        emailVerified: true,
        name: 'Grace',
      });
    });

    it('one subject at two providers is two people', async () => {
      const subject = randomBytes(6).toString('hex');
      const a = await users.signIn('auth0', subject, {});
      const b = await users.signIn('firebase', subject, {});
      expect(a.sub).not.toBe(b.sub);
    });

    it('concurrent first sign-ins of one person agree on one sub', async () => {
      const subject = randomBytes(6).toString('hex');
      const results = await Promise.all(
        Array.from({ length: 30 }, () => users.signIn('firebase', subject, { name: 'Linus' })),
      );
      expect(new Set(results.map((u) => u.sub)).size).toBe(1);
    });

    it('finds nobody for an unknown or malformed sub; refuses an oversized subject', async () => {
      expect(await users.find(`u_${'A'.repeat(22)}`)).toBeUndefined();
      expect(await users.find("x' OR 1=1 --")).toBeUndefined();
      await expect(users.signIn('dev-login', 'x'.repeat(300), {})).rejects.toThrow(RangeError);
    });

    it('clips oversized claims; no email means no verification flag', async () => {
      const user = await users.signIn('auth0', randomBytes(6).toString('hex'), {
        name: 'n'.repeat(1000),
        emailVerified: true,
      });
      expect(user.name).toHaveLength(256);
      expect(user.email).toBeUndefined();
      expect(user.emailVerified).toBeUndefined();
    });
  });
}

conformance('PGlite (the embedded default)', () => openStore.pglite((db) => sqlUsers(db)));
if (withPostgres) {
  conformance('Postgres', () => openStore.postgres((pool, schema) => sqlUsers(pool, schema)));
}
if (withRedis) {
  conformance('Redis', () => openStore.redis((redis, prefix) => redisUsers(redis, prefix)));
}
