import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, fixedWindow, slidingWindow, tokenBucket } from '../src/index.js';
import { redisStore, SCRIPT_SHA1 } from '../src/redis/index.js';
import { storeConformance } from './conformance.js';
import { deleteKeys, uniquePrefix } from './redis-helpers.js';

const YEAR = 365 * 24 * 3600;
const FIXTURE = fileURLToPath(new URL('./fixtures/fire.mjs', import.meta.url));

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
    beforeAll(() => {
      if (!existsSync(new URL('../dist/redis/index.js', import.meta.url))) {
        throw new Error('dist/ is missing: run `npm run build` (turbo runs it before test)');
      }
    });

    for (const kind of ['sliding-window', 'token-bucket', 'fixed-window']) {
      it(`${kind}: two processes × 500 concurrent calls at one key, limit 100 → exactly 100 admitted`, async () => {
        const runPrefix = `${prefix}:${kind}`;
        const children = [0, 1].map(() =>
          spawn(process.execPath, [FIXTURE, TEST_REDIS_URL, runPrefix, kind, '500'], {
            stdio: ['pipe', 'pipe', 'inherit'],
          }),
        );
        const lines = children.map((child) => {
          const queue: string[] = [];
          const waiters: ((line: string) => void)[] = [];
          createInterface({ input: child.stdout! }).on('line', (line) => {
            const waiter = waiters.shift();
            if (waiter) waiter(line);
            else queue.push(line);
          });
          return () =>
            new Promise<string>((resolve) => {
              const line = queue.shift();
              if (line !== undefined) resolve(line);
              else waiters.push(resolve);
            });
        });
        expect(await Promise.all(lines.map((next) => next()))).toEqual(['ready', 'ready']);
        for (const child of children) child.stdin!.write('go\n');
        const reports = (await Promise.all(lines.map((next) => next()))).map(
          (line) => JSON.parse(line) as { admitted: number; failed: number },
        );
        expect(reports.map((r) => r.failed)).toEqual([0, 0]);
        expect(reports[0]!.admitted + reports[1]!.admitted).toBe(100);
      });
    }
  });
});
