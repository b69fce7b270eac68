import { describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  type RateLimitResult,
  rateLimitHeaders,
  slidingWindow,
  tokenBucket,
} from '../src/index.js';

const NOW = 1_700_000_000_000;

describe('rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers)', () => {
  it('§3, §4: the guide example (100 per user per 60 minutes) as RateLimit-Policy and RateLimit', async () => {
    const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600), now: () => NOW });
    const result = await limiter.limit('user-1');
    expect(rateLimitHeaders(result, { now: NOW })).toEqual({
      'RateLimit-Policy': '"default";q=100;w=3600',
      RateLimit: `"default";r=99;t=${Math.ceil((3_600_000 - (NOW % 3_600_000)) / 1000)}`,
    });
  });

  it('RFC 9110 §10.2.3: adds Retry-After in seconds when denied', async () => {
    const clock = { now: NOW };
    const limiter = createRateLimiter({
      algorithm: tokenBucket(1, 2),
      name: 'burst',
      now: () => clock.now,
    });
    await limiter.limit('k');
    await limiter.limit('k');
    const denied = await limiter.limit('k');
    expect(denied.success).toBe(false);
    expect(rateLimitHeaders(denied, { now: clock.now })).toEqual({
      'RateLimit-Policy': '"burst";q=2;w=2',
      RateLimit: '"burst";r=0;t=2',
      'Retry-After': '1',
    });
  });

  it('§4: t counts down to the window end and is never negative', () => {
    const result: RateLimitResult = {
      success: true,
      limit: 10,
      remaining: 3,
      reset: NOW + 1500,
      retryAfter: 0,
      policy: '"api";q=10;w=60',
    };
    expect(rateLimitHeaders(result, { now: NOW }).RateLimit).toBe('"api";r=3;t=2');
    expect(rateLimitHeaders(result, { now: NOW + 10_000 }).RateLimit).toBe('"api";r=3;t=0');
  });

  it('a fixed window reports its window, and a denial its wait', async () => {
    const limiter = createRateLimiter({ algorithm: fixedWindow(1, 60), now: () => 60_000 * 5 });
    await limiter.limit('k');
    const denied = await limiter.limit('k');
    expect(rateLimitHeaders(denied, { now: 60_000 * 5 })).toEqual({
      'RateLimit-Policy': '"default";q=1;w=60',
      RateLimit: '"default";r=0;t=60',
      'Retry-After': '60',
    });
  });

  it('rejects a policy name that would break the structured field', () => {
    expect(() => createRateLimiter({ algorithm: fixedWindow(1, 60), name: 'a";q=1000' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
