import { createRateLimiter, memoryStore, type RateLimitAlgorithm } from '../src/index.js';

/** A limiter on a fresh memory store whose clock the test moves by hand (epoch ms). */
export function clockedLimiter(algorithm: RateLimitAlgorithm, startMs: number) {
  const clock = { now: startMs };
  const limiter = createRateLimiter({ algorithm, store: memoryStore(), now: () => clock.now });
  return { clock, limiter };
}

/** Rates whose emission interval is a whole number of milliseconds. */
export const MS_EXACT_RATES = [1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1000];
