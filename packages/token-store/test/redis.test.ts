import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
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
  let n = 0;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await deleteRedisPrefix(redis, filePrefix);
    redis.disconnect();
  });

  conformance('Redis', async () => {
    const prefix = `${filePrefix}${++n}:`;
    const adapter = redisAdapter(redis, { prefix });
    return {
      adapter,
      dump: () => dumpRedis(redis, prefix),
      close: () => adapter.close(),
    };
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
});
