import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimitResult, slidingWindow } from '../src/index.js';
import { redisStore, SCRIPT_SHA1 } from '../src/redis/index.js';
import { freePort, startRedisServer, stopRedisServer } from './redis-helpers.js';

// Our own redis-server child: this file stops it, flushes its script cache and restarts it,
// which must never happen to the shared server.
describe('redisStore when Redis fails (own redis-server)', () => {
  let port: number;
  let server: ChildProcess;
  let redis: Redis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    port = await freePort();
    server = await startRedisServer(port);
    // The options that make commands fail fast while Redis is down, as the README documents.
    redis = new Redis({
      host: '127.0.0.1',
      port,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Generous enough for a busy 2-core machine; a down server fails at once anyway.
      commandTimeout: 2000,
      retryStrategy: () => 50,
    });
    redis.on('error', () => {}); // connection errors are expected here; ioredis would log them
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    redis.disconnect();
    await stopRedisServer(server);
  });

  const algorithm = slidingWindow(1_000_000, 3600);

  it('falls back from EVALSHA to EVAL on NOSCRIPT, which loads the script again', async () => {
    const limiter = createRateLimiter({ algorithm, store: redisStore(redis) });
    const sha1 = SCRIPT_SHA1['sliding-window'];
    // A fresh server has no scripts: the first call meets NOSCRIPT.
    expect(await redis.script('EXISTS', sha1)).toEqual([0]);
    expect(await limiter.limit('k')).toMatchObject({ success: true, remaining: 999_999 });
    expect(await redis.script('EXISTS', sha1)).toEqual([1]);
    await redis.script('FLUSH');
    expect(await redis.script('EXISTS', sha1)).toEqual([0]);
    const result = await limiter.limit('k');
    expect(result).toMatchObject({ success: true, remaining: 999_998 });
    expect(result.reason).toBeUndefined();
    expect(await redis.script('EXISTS', sha1)).toEqual([1]);
  });

  it('stopped mid-run: answers per failMode, without unhandled rejections, and recovers', async () => {
    const store = redisStore(redis, { timeoutMs: 2000 });
    const closed = createRateLimiter({ algorithm, store, prefix: 'closed' });
    const open = createRateLimiter({ algorithm, store, prefix: 'open', failMode: 'open' });
    const seen: { closed: RateLimitResult; open: RateLimitResult }[] = [];
    let phase: 'up' | 'down' | 'restarted' = 'up';
    const byPhase = {
      up: [] as typeof seen,
      down: [] as typeof seen,
      restarted: [] as typeof seen,
    };

    // Traffic keeps flowing while the server is killed and started again.
    let running = true;
    const traffic = (async () => {
      while (running) {
        const startedIn: typeof phase = phase;
        const pair = {
          closed: await closed.limit('user'),
          open: await open.limit('user'),
        };
        seen.push(pair);
        // Calls in flight while the server stops or starts are checked only as part of `seen`.
        if (phase === startedIn) byPhase[phase].push(pair);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const until = async (predicate: () => boolean) => {
      while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(() => byPhase.up.length >= 5);
    // The phase changes before the server stops, so a call that was under way in 'up' and
    // met the stopping server is not taken for an 'up' answer.
    phase = 'down';
    await stopRedisServer(server);
    await until(() => byPhase.down.filter((p) => p.closed.reason).length >= 5);
    server = await startRedisServer(port);
    await new Promise((resolve) => redis.once('ready', resolve));
    phase = 'restarted';
    await until(() => byPhase.restarted.length >= 5);
    running = false;
    await traffic;

    for (const { closed: c, open: o } of byPhase.up) {
      expect(c).toMatchObject({ success: true });
      expect(o).toMatchObject({ success: true });
      expect(c.reason ?? o.reason).toBeUndefined();
    }
    for (const { closed: c, open: o } of seen) {
      expect(c.reason === 'store_unavailable').toBe(!c.success);
      expect(o.success).toBe(true);
    }
    const failures = byPhase.down.filter((p) => p.closed.reason);
    expect(failures.length).toBeGreaterThanOrEqual(5);
    for (const { closed: c, open: o } of failures) {
      expect(c).toMatchObject({ success: false, reason: 'store_unavailable', retryAfter: 1 });
      expect(o.success).toBe(true);
    }
    // Once Redis is back (empty, and without the scripts) decisions are real again.
    for (const { closed: c, open: o } of byPhase.restarted.slice(-3)) {
      expect(c.success).toBe(true);
      expect(c.reason).toBeUndefined();
      expect(o.reason).toBeUndefined();
      expect(c.remaining).toBeGreaterThan(999_900);
    }
    expect(unhandled).toEqual([]);
  });
});
