import { assertPositiveInteger, assertPositiveNumber } from './lib/errors.js';
import { assertExact, secondsToUs } from './lib/units.js';
import type { RateLimitAlgorithm, StoreDecision } from './types.js';

/**
 * Fixed window: at most `limit` cost units per window of `windowSeconds`, windows aligned on the
 * epoch so every instance agrees on their edges. State per key: the window index and a count.
 * Cheapest of the three, but a client can spend `limit` at the end of one window and `limit` at
 * the start of the next. Matches `RateLimit-Policy` `q=limit;w=windowSeconds`
 * ([draft-ietf-httpapi-ratelimit-headers §3](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/)).
 *
 * @example
 * const limiter = createRateLimiter({ algorithm: fixedWindow(1000, 86_400) }); // 1000 a day
 */
export function fixedWindow(limit: number, windowSeconds: number): RateLimitAlgorithm {
  assertPositiveInteger(limit, 'limit');
  assertPositiveNumber(windowSeconds, 'windowSeconds');
  const windowUs = secondsToUs(windowSeconds, 'windowSeconds');
  assertExact(limit * windowUs, 'fixedWindow(limit, windowSeconds)');

  return {
    name: 'fixed-window',
    tag: 'fw',
    limit,
    windowSeconds: Math.ceil(windowSeconds),
    args: [windowUs, limit],
    apply(cells, at, nowUs, cost): StoreDecision {
      const index = Math.floor(nowUs / windowUs);
      const end = (index + 1) * windowUs;
      const count = cells[at] === index ? cells[at + 1]! : 0;
      if (count + cost > limit) {
        return {
          allowed: false,
          remaining: Math.max(0, limit - count),
          resetAfterUs: end - nowUs,
          retryAfterUs: end - nowUs,
        };
      }
      cells[at] = index;
      cells[at + 1] = count + cost;
      cells[at + 3] = end;
      return {
        allowed: true,
        remaining: limit - count - cost,
        resetAfterUs: end - nowUs,
        retryAfterUs: 0,
      };
    },
  };
}
