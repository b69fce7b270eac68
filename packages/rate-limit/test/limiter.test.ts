import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  type RateLimitStore,
  StoreUnavailableError,
  slidingWindow,
  tokenBucket,
} from '../src/index.js';

// A unit test of the limiter alone: the only stand-in in this package, a store that fails.
const brokenStore: RateLimitStore = {
  consume: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
  clear: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
};

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('createRateLimiter', () => {
  it('answers a limit reached with success: false, never an exception', async () => {
    const limiter = createRateLimiter({ algorithm: fixedWindow(2, 60), now: () => 0 });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.limit('k'));
    expect(results.map((r) => r.success)).toEqual([true, true, false, false]);
    expect(results.map((r) => r.remaining)).toEqual([1, 0, 0, 0]);
    expect(results[2]).toEqual({
      success: false,
      limit: 2,
      remaining: 0,
      reset: 60_000,
      retryAfter: 60,
      policy: '"default";q=2;w=60',
    });
  });

  it("failMode 'closed' (default) denies with reason 'store_unavailable' and reports the error", async () => {
    const errors: StoreUnavailableError[] = [];
    const limiter = createRateLimiter({
      algorithm: slidingWindow(100, 3600),
      store: brokenStore,
      onError: (error) => errors.push(error),
    });
    const result = await limiter.limit('k');
    expect(result).toMatchObject({ success: false, reason: 'store_unavailable', retryAfter: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
    expect(errors[0]!.code).toBe('ERR_RATE_LIMIT_STORE_UNAVAILABLE');
    expect((errors[0]!.cause as Error).message).toContain('ECONNREFUSED');
  });

  it("failMode 'open' admits with reason 'store_unavailable'", async () => {
    const limiter = createRateLimiter({
      algorithm: tokenBucket(1, 10),
      store: brokenStore,
      failMode: 'open',
      onError: () => {
        throw new Error('a broken logger');
      },
    });
    const result = await limiter.limit('k');
    expect(result).toMatchObject({ success: true, reason: 'store_unavailable', retryAfter: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
  });

  it('throws TypeError with a code for a caller mistake', async () => {
    const limiter = createRateLimiter({ algorithm: fixedWindow(2, 60) });
    await expect(limiter.limit('k', { cost: 0 })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(limiter.limit(42 as unknown as string)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
    expect(() => fixedWindow(0, 60)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => slidingWindow(10, -1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => tokenBucket(Number.NaN, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() =>
      createRateLimiter({ algorithm: fixedWindow(1, 1), failMode: 'maybe' as 'open' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createRateLimiter({ algorithm: {} as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('a cost above the limit is denied, never admitted', async () => {
    const limiter = createRateLimiter({ algorithm: slidingWindow(5, 60) });
    expect((await limiter.limit('k', { cost: 6 })).success).toBe(false);
    expect((await limiter.limit('k', { cost: 5 })).success).toBe(true);
  });
});
