import { assertPositiveInteger, assertPositiveNumber } from './lib/errors.js';
import { assertExact, secondsToUs } from './lib/units.js';
import type { RateLimitAlgorithm, StoreDecision } from './types.js';

/**
 * Sliding window with two counters: the count of the current epoch-aligned window plus the
 * previous window's count weighted by how much of it still overlaps the last `windowSeconds`.
 * O(1) state per key (window index, current and previous counts) where a timestamp log grows with
 * traffic; it assumes the previous window's requests were evenly spread. Matches
 * `RateLimit-Policy` `q=limit;w=windowSeconds`
 * ([draft-ietf-httpapi-ratelimit-headers](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/)).
 *
 * @example
 * const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600) }); // 100 an hour
 */
export function slidingWindow(limit: number, windowSeconds: number): RateLimitAlgorithm {
  assertPositiveInteger(limit, 'limit');
  assertPositiveNumber(windowSeconds, 'windowSeconds');
  const windowUs = secondsToUs(windowSeconds, 'windowSeconds');
  const capacity = limit * windowUs;
  assertExact(capacity, 'slidingWindow(limit, windowSeconds)');

  return {
    name: 'sliding-window',
    tag: 'sw',
    limit,
    windowSeconds: Math.ceil(windowSeconds),
    args: [windowUs, limit],
    apply(cells, at, nowUs, cost): StoreDecision {
      const index = Math.floor(nowUs / windowUs);
      const elapsed = nowUs - index * windowUs;
      const untilEnd = windowUs - elapsed;
      let current = 0;
      let previous = 0;
      if (cells[at] === index) {
        current = cells[at + 1]!;
        previous = cells[at + 2]!;
      } else if (cells[at] === index - 1) {
        previous = cells[at + 1]!;
      }
      // Compared in count·µs so that no division rounds the decision.
      const weighted = previous * untilEnd;
      if (weighted + (current + cost) * windowUs > capacity) {
        return {
          allowed: false,
          remaining: Math.max(0, Math.floor((capacity - weighted - current * windowUs) / windowUs)),
          resetAfterUs: untilEnd,
          retryAfterUs: retryAfterUs(limit, windowUs, elapsed, current, previous, cost),
        };
      }
      current += cost;
      cells[at] = index;
      cells[at + 1] = current;
      cells[at + 2] = previous;
      cells[at + 3] = (index + 2) * windowUs;
      return {
        allowed: true,
        remaining: Math.floor((capacity - weighted - current * windowUs) / windowUs),
        resetAfterUs: untilEnd,
        retryAfterUs: 0,
      };
    },
  };
}

/** The exact wait until `cost` fits, with no other traffic meanwhile. */
function retryAfterUs(
  limit: number,
  windowUs: number,
  elapsed: number,
  current: number,
  previous: number,
  cost: number,
): number {
  const untilEnd = windowUs - elapsed;
  if (current + cost <= limit) {
    // Fits in this window once the previous window's weight has decayed enough.
    return windowUs - Math.floor(((limit - current - cost) * windowUs) / previous) - elapsed;
  }
  if (cost > limit || current === 0) return untilEnd;
  // Next window: this window's count becomes the weighted one.
  return untilEnd + windowUs - Math.floor(((limit - cost) * windowUs) / current);
}
