import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, fixedWindow, slidingWindow, tokenBucket } from '../src/index.js';
import { redisStore, SCRIPT_SHA1 } from '../src/redis/index.js';
import { storeConformance } from './conformance.js';
import { exactAcrossProcesses } from './processes.js';
import { deleteKeys, uniquePrefix } from './redis-helpers.js';

const YEAR = 365 * 24 * 3600;

describe.runIf(await serviceAvailable('Redis'))('redisStore on the shared Redis', () => {
  const prefix = uniquePrefix();
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  describe('store conformance', () => {
    storeConformance(() => redisStore(redis));
  });

  it('decisions of one algorithm asked for in one tick go to Redis as one script call, in order', async () => {
    let calls = 0;
    const counting = {
      evalsha: (...args: Parameters<Redis['evalsha']>) => {
        calls++;
        return redis.evalsha(...args);
      },
      eval: (...args: Parameters<Redis['eval']>) => redis.eval(...args),
      del: (...keys: string[]) => redis.del(...keys),
    };
    const store = redisStore(counting);
    const fixed = createRateLimiter({ algorithm: fixedWindow(5, YEAR), store, prefix });
    const bucket = createRateLimiter({ algorithm: tokenBucket(5 / YEAR, 5), store, prefix });
    const costs = [2, 1, 3, 1, 9, 1];
    const results = await Promise.all([
      ...costs.map((cost) => fixed.limit('tick', { cost })),
      bucket.limit('tick'),
    ]);
    expect(calls).toBe(2);
    // The same key several times in one call: decided in call order, as one after the other.
    expect(results.map((r) => [r.success, r.remaining])).toEqual([
      [true, 3],
      [true, 2],
      [false, 2],
      [true, 1],
      [false, 1],
      [true, 0],
      [true, 4],
    ]);
  });

  for (const algorithm of [
    slidingWindow(5, YEAR),
    tokenBucket(5 / YEAR, 5),
    fixedWindow(5, YEAR),
  ]) {
    it(`${algorithm.name}: EVALSHA finds the pinned script on the server`, async () => {
      const limiter = createRateLimiter({ algorithm, store: redisStore(redis), prefix });
      expect((await limiter.limit('pin')).success).toBe(true);
      expect(await redis.script('EXISTS', SCRIPT_SHA1[algorithm.name])).toEqual([1]);
    });
  }

  it('takes the time from Redis TIME: instances whose clocks are an hour apart share one window', async () => {
    const store = redisStore(redis);
    const algorithm = fixedWindow(4, 60);
    const ahead = createRateLimiter({
      algorithm,
      store,
      prefix,
      now: () => Date.now() + 3_600_000,
    });
    const behind = createRateLimiter({
      algorithm,
      store,
      prefix,
      now: () => Date.now() - 3_600_000,
    });
    const remaining = [];
    for (const limiter of [ahead, behind, ahead, behind, ahead]) {
      remaining.push((await limiter.limit('skew')).remaining);
    }
    expect(remaining.slice(0, 4)).toEqual([3, 2, 1, 0]);
    // A window edge may fall between calls; then the count restarts, never exceeds the limit.
    expect(remaining[4]).toBeLessThanOrEqual(3);
  });

  describe('across processes', () => {
    exactAcrossProcesses(
      () => TEST_REDIS_URL,
      () => prefix,
    );
  });
});
