import { createHash } from 'node:crypto';
import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore } from '../src/index.js';
import { redisAdapter } from '../src/redis/index.js';
import { clientRecord, conformance } from './support/conformance.js';
import { deleteRedisPrefix, dumpRedis, randomSchema } from './support/dump.js';

describe.runIf(await serviceAvailable('Redis'))('Redis (ioredis)', () => {
  // Shared server: this file's own key prefix, one sub-prefix per test, deleted at the end.
  const filePrefix = `${randomSchema()}:`;
  let redis: Redis;
  // A client with auto-pipelining (commands of one tick share a write): the README advises
  // leaving it off for speed, but the store must be as correct on it.
  let pipelining: Redis;
  let n = 0;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    pipelining = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  });

  afterAll(async () => {
    await deleteRedisPrefix(redis, filePrefix);
    redis.disconnect();
    pipelining.disconnect();
  });

  /** A fresh backend on the client `client()` names, under a prefix of its own. */
  const backend = (client: () => Redis) => async () => {
    const prefix = `${filePrefix}${++n}:`;
    const adapter = redisAdapter(client(), { prefix });
    return {
      adapter,
      dump: () => dumpRedis(redis, prefix),
      close: () => adapter.close(),
    };
  };

  conformance(
    'Redis',
    backend(() => redis),
  );
  conformance(
    'Redis (enableAutoPipelining)',
    backend(() => pipelining),
  );

  it('the one-step rotation copies the grant’s fields as stored, whatever JSON they hold (its Lua reads them from the record’s text without decoding it): property', async () => {
    const prefix = `${filePrefix}${++n}:`;
    const store = createTokenStore({ adapter: redisAdapter(redis, { prefix }), production: false });
    // Text made of what a JSON scanner can trip on: quotes, backslashes, brackets, separators.
    const tricky = fc.string({
      unit: fc.constantFrom(
        'a',
        '"',
        '\\',
        '\\"',
        '{',
        '}',
        '[',
        ']',
        ',',
        ':',
        'ü',
        '\u2028',
        '/',
      ),
    });
    const json = fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => !JSON.stringify(v).includes('__proto__'));
    const normal = (value: unknown) => JSON.parse(JSON.stringify(value));
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          userId: tricky.filter((t) => t.length > 0),
          clientId: tricky.filter((t) => t.length > 0),
          scopes: fc.array(tricky, { maxLength: 3 }),
          resource: fc.option(tricky, { nil: undefined }),
          extra: fc.option(fc.dictionary(tricky, json, { maxKeys: 4 }), { nil: undefined }),
        }),
        async (data) => {
          const grant = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
          const issued = await store.issueTokens(grant as typeof data, {
            refreshToken: {},
            grantTtlSeconds: 600,
          });
          const rotated = await store.refreshTokens.rotate(issued.refreshToken!.token, {
            clientId: data.clientId,
            accessToken: { ttlSeconds: 60 },
          });
          expect(normal(await store.refreshTokens.find(rotated.token))).toEqual(
            normal(rotated.record),
          );
          expect(normal(await store.accessTokens.validate(rotated.accessToken!.token))).toEqual(
            normal(rotated.accessToken!.record),
          );
          // Another client's id never redeems it (the script compares the stored clientId).
          await expect(
            store.refreshTokens.rotate(rotated.token, { clientId: `${data.clientId}x` }),
          ).rejects.toThrow();
          runs++;
        },
      ),
      { numRuns: 150 },
    );
    expect(runs).toBe(150);
  });

  it('the one-step rotation under overlap, on records whose fields hold quotes, backslashes and brackets: 20 concurrent exchanges of one code and 20 concurrent refreshes of one token each have one winner whose records keep the fields; a family revoked first stores nothing (by hand)', async () => {
    const prefix = `${filePrefix}${++n}:`;
    const store = createTokenStore({ adapter: redisAdapter(redis, { prefix }), production: false });
    const grant = {
      userId: 'u"{\\',
      clientId: 'c\\"],',
      scopes: ['a"b', '\\', '}'],
      resource: 'http://x/"]}',
      extra: { text: '"}\\{', list: [{}, [], '\\"'] },
    };
    const options = { accessToken: {}, refreshToken: {} };
    const { code } = await store.codes.issue({
      ...grant,
      redirectUri: 'http://127.0.0.1:9999/callback',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256' as const,
    });
    const exchanges = await Promise.all(
      Array.from({ length: 20 }, () => store.codes.exchange(code, options)),
    );
    const won = exchanges.filter((r) => r.tokens !== undefined);
    expect(won).toHaveLength(1);
    expect(exchanges.filter((r) => r.status === 'already_consumed')).toHaveLength(19);
    const refreshToken = won[0]!.tokens!.refreshToken!;
    const stored = await store.refreshTokens.find(refreshToken.token);
    expect(stored).toMatchObject({
      userId: grant.userId,
      clientId: grant.clientId,
      scopes: grant.scopes,
      resource: grant.resource,
    });

    // Within the grace window every concurrent refresh gets the one successor, stored intact.
    const refreshes = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.refreshTokens.rotate(refreshToken.token, { clientId: grant.clientId }),
      ),
    );
    expect(new Set(refreshes.map((r) => r.token)).size).toBe(1);
    expect(await store.refreshTokens.find(refreshes[0]!.token)).toEqual(refreshes[0]!.record);
    expect(refreshes[0]!.record).toMatchObject({
      userId: grant.userId,
      scopes: grant.scopes,
      resource: grant.resource,
    });

    // Revoked before the rotation (the other order of the race): refused, nothing stored.
    await store.revokeFamily(refreshes[0]!.record.familyId);
    await expect(
      store.refreshTokens.rotate(refreshes[0]!.token, { clientId: grant.clientId }),
    ).rejects.toThrow();
    expect(await store.tokensByUser(grant.userId)).toEqual({ accessTokens: [], refreshTokens: [] });
  });

  it('clients.sweepExpired names a client Redis already dropped by its TTL (the expiry index remembers it), once', async () => {
    const prefix = `${filePrefix}${++n}:`;
    const clock = { now: Date.now() };
    const store = createTokenStore({
      adapter: redisAdapter(redis, { prefix }),
      now: () => clock.now,
      production: false,
    });
    await store.clients.save(clientRecord('c-gone'), { ttlSeconds: 10 });
    await store.clients.save(clientRecord('c-here'), { ttlSeconds: 10 });
    // What Redis does at the record's physical expiry (its lifetime plus the retention).
    expect(await redis.del(`${prefix}r:client:c-gone`)).toBe(1);
    clock.now += 11_000;
    expect((await store.clients.sweepExpired()).sort()).toEqual(['c-gone', 'c-here']);
    expect(await store.clients.sweepExpired()).toEqual([]);
    expect(await redis.exists(`${prefix}r:client:c-here`, `${prefix}ce:client`)).toBe(0);
    expect(await redis.sismember(`${prefix}k:client`, 'c-gone')).toBe(0);
  });

  describe('once-only store (store.replay) across instances', () => {
    it('20 concurrent remembers of one key on each of two instances (own connections): exactly one true', async () => {
      const prefix = `${filePrefix}${++n}:`;
      const clients = [0, 1].map(() => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 }));
      try {
        const stores = clients.map((client) =>
          createTokenStore({ adapter: redisAdapter(client, { prefix }), production: false }),
        );
        for (let round = 0; round < 5; round++) {
          const key = `jti:${round}:${crypto.randomUUID()}`;
          const expiresAt = Date.now() + 60_000;
          const results = await Promise.all(
            Array.from({ length: 40 }, (_, i) => stores[i % 2]!.replay.remember(key, expiresAt)),
          );
          expect(results.filter((won) => won === true)).toHaveLength(1);
          expect(await stores[0]!.replay.remember(key, expiresAt)).toBe(false);
          expect(await stores[1]!.replay.remember(key, expiresAt)).toBe(false);
        }
      } finally {
        for (const client of clients) client.disconnect();
      }
    });

    it('an entry is one key named by the SHA-256 of the caller’s key (no caller braces), living until its expiry only', async () => {
      const prefix = `${filePrefix}${++n}:`;
      const store = createTokenStore({
        adapter: redisAdapter(redis, { prefix }),
        production: false,
      });
      const key = 'jti:{all-in-one-slot}';
      const expiresAt = Date.now() + 30_000;
      expect(await store.replay.remember(key, expiresAt)).toBe(true);
      const keys = await redis.keys(`${prefix}*`);
      const digest = createHash('sha256').update(key).digest('base64url');
      expect(keys).toEqual([`${prefix}p:${digest}`]);
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
      expect(await redis.get(keys[0]!)).toBe(String(expiresAt));
      // An expiry already past leaves no key behind.
      expect(await store.replay.remember('jti:past', Date.now() - 1)).toBe(true);
      expect(await redis.keys(`${prefix}*`)).toEqual(keys);
    });
  });
});
