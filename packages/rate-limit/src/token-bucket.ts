import { assertPositiveInteger, assertPositiveNumber } from './lib/errors.js';
import { assertExact, secondsToUs } from './lib/units.js';
import type { RateLimitAlgorithm, StoreDecision } from './types.js';

/**
 * Token bucket of `burst` tokens refilled at `ratePerSecond`, implemented as GCRA (the generic
 * cell rate algorithm of ITU-T I.371): one stored number per key, the theoretical arrival time
 * (TAT). A new key admits `burst` at once, then `ratePerSecond`. The emission interval
 * `1 / ratePerSecond` is kept in whole microseconds. `RateLimit-Policy` reports
 * `q=burst;w=ceil(burst / ratePerSecond)`.
 *
 * @example
 * const limiter = createRateLimiter({ algorithm: tokenBucket(5, 20) }); // 5/s, bursts of 20
 */
export function tokenBucket(ratePerSecond: number, burst: number): RateLimitAlgorithm {
  assertPositiveNumber(ratePerSecond, 'ratePerSecond');
  assertPositiveInteger(burst, 'burst');
  const intervalUs = secondsToUs(1 / ratePerSecond, '1 / ratePerSecond');
  const toleranceUs = burst * intervalUs;
  assertExact(toleranceUs, 'tokenBucket(ratePerSecond, burst)');

  return {
    name: 'token-bucket',
    tag: 'tb',
    limit: burst,
    windowSeconds: Math.max(1, Math.ceil(burst / ratePerSecond)),
    args: [intervalUs, burst],
    apply(cells, at, nowUs, cost): StoreDecision {
      const stored = cells[at]!;
      const tat = Math.max(stored, nowUs);
      const nextTat = tat + cost * intervalUs;
      const allowAt = nextTat - toleranceUs;
      if (allowAt > nowUs) {
        return {
          allowed: false,
          remaining: Math.max(0, Math.floor((nowUs - tat + toleranceUs) / intervalUs)),
          resetAfterUs: tat - nowUs,
          retryAfterUs: allowAt - nowUs,
        };
      }
      cells[at] = nextTat;
      cells[at + 3] = nextTat;
      return {
        allowed: true,
        remaining: Math.floor((nowUs - allowAt) / intervalUs),
        resetAfterUs: nextTat - nowUs,
        retryAfterUs: 0,
      };
    },
  };
}
