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

  /** A client that counts the script calls, the keys each carries, and how many are in flight. */
  function countingClient() {
    const seen = { sizes: [] as number[], inFlight: 0, maxInFlight: 0 };
    const client = {
      evalsha: (...args: Parameters<Redis['evalsha']>) => {
        seen.sizes.push(Number(args[1]));
        seen.maxInFlight = Math.max(seen.maxInFlight, ++seen.inFlight);
        return redis.evalsha(...args).finally(() => seen.inFlight--);
      },
      eval: (...args: Parameters<Redis['eval']>) => redis.eval(...args),
      del: (...keys: string[]) => redis.del(...keys),
    };
    return { client, seen };
  }

  it('decisions of one algorithm asked for in one tick go to Redis together, in order', async () => {
    const { client, seen } = countingClient();
    const store = redisStore(client);
    const fixed = createRateLimiter({ algorithm: fixedWindow(5, YEAR), store, prefix });
    const bucket = createRateLimiter({ algorithm: tokenBucket(5 / YEAR, 5), store, prefix });
    const costs = [2, 1, 3, 1, 9, 1];
    const results = await Promise.all([
      ...costs.map((cost) => fixed.limit('tick', { cost })),
      bucket.limit('tick'),
    ]);
    // The six fixed-window decisions as two calls (at least four keys in a call), the bucket's one.
    expect(seen.sizes).toEqual([4, 2, 1]);
    // The same key several times, in one call or across calls: decided in call order.
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

  it('a burst in one tick goes as up to four script calls in flight at once (128 keys at most in one), each key decided in call order', async () => {
    for (const [burst, sizes] of [
      [3, [3]],
      [100, [25, 25, 25, 25]],
      [300, [128, 128, 11, 11, 11, 11]],
    ] as const) {
      const { client, seen } = countingClient();
      const limiter = createRateLimiter({
        algorithm: fixedWindow(5, YEAR),
        store: redisStore(client),
        prefix: `${prefix}burst${burst}:`,
      });
      // Ten keys, each asked for burst / 10 times (or once each of the first three).
      const keys = Array.from({ length: burst }, (_, i) => `k${i % 10}`);
      const results = await Promise.all(keys.map((key) => limiter.limit(key)));
      expect(seen.sizes).toEqual(sizes);
      expect(seen.maxInFlight).toBe(sizes.length); // all sent before the first answer
      // Per key, exactly the first five asked for are allowed, whichever call carried them.
      const asked = new Map<string, number>();
      for (const [i, key] of keys.entries()) {
        const nth = (asked.get(key) ?? 0) + 1;
        asked.set(key, nth);
        expect([key, nth, results[i]!.success]).toEqual([key, nth, nth <= 5]);
      }
    }
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
