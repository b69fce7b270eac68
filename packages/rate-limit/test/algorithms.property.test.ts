import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedWindow, slidingWindow, tokenBucket } from '../src/index.js';
import { clockedLimiter, MS_EXACT_RATES } from './helpers.js';

// Realistic epoch times (so window indexes and timestamps are large), in ms.
const startArb = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 });
// A traffic trace: wait this many ms, then ask for this cost.
const traceArb = (maxGap: number, maxCost: number) =>
  fc.array(
    fc.record({ gap: fc.nat({ max: maxGap }), cost: fc.integer({ min: 1, max: maxCost }) }),
    { minLength: 1, maxLength: 200 },
  );

describe('token bucket (GCRA) against a continuous token-bucket model', () => {
  it('decides and counts exactly like a bucket of `burst` tokens refilled at `rate`', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MS_EXACT_RATES, 0.5, 0.25),
        fc.integer({ min: 1, max: 20 }),
        startArb,
        traceArb(3000, 5),
        async (rate, burst, start, trace) => {
          const { clock, limiter } = clockedLimiter(tokenBucket(rate, burst), start);
          const intervalUs = 1e6 / rate;
          // Model: credit in µs, capped at burst × interval; one token costs one interval.
          let credit = burst * intervalUs;
          let last = start * 1000;
          for (const { gap, cost } of trace) {
            clock.now += gap;
            const nowUs = clock.now * 1000;
            credit = Math.min(burst * intervalUs, credit + (nowUs - last));
            last = nowUs;
            const admit = credit >= cost * intervalUs;
            if (admit) credit -= cost * intervalUs;
            const result = await limiter.limit('k', { cost });
            expect(result.success).toBe(admit);
            expect(result.remaining).toBe(Math.floor(credit / intervalUs));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('admits exactly `burst` at once, then exactly `rate` per second', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MS_EXACT_RATES.filter((r) => r <= 100)),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 3 }),
        startArb,
        async (rate, burst, seconds, start) => {
          const { clock, limiter } = clockedLimiter(tokenBucket(rate, burst), start);
          const atOnce = await Promise.all(
            Array.from({ length: burst + 10 }, () => limiter.limit('k')),
          );
          expect(atOnce.filter((r) => r.success)).toHaveLength(burst);
          let later = 0;
          for (let ms = 1; ms <= seconds * 1000; ms++) {
            clock.now = start + ms;
            if ((await limiter.limit('k')).success) later++;
          }
          expect(later).toBe(rate * seconds);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('fixed window against a request-log model', () => {
  it('decides exactly like counting the costs admitted in the current aligned window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 10 }),
        startArb,
        traceArb(2500, 4),
        async (limit, windowSeconds, start, trace) => {
          const { clock, limiter } = clockedLimiter(fixedWindow(limit, windowSeconds), start);
          const windowMs = windowSeconds * 1000;
          const log: { at: number; cost: number }[] = [];
          for (const { gap, cost } of trace) {
            clock.now += gap;
            const windowStart = Math.floor(clock.now / windowMs) * windowMs;
            const used = log.filter((e) => e.at >= windowStart).reduce((s, e) => s + e.cost, 0);
            const admit = used + cost <= limit;
            if (admit) log.push({ at: clock.now, cost });
            const result = await limiter.limit('k', { cost });
            expect(result.success).toBe(admit);
            expect(result.remaining).toBe(limit - used - (admit ? cost : 0));
            expect(result.reset).toBe(windowStart + windowMs);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('admits exactly `limit` in every window under saturating traffic', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        startArb,
        async (limit, windowSeconds, step, start) => {
          const { clock, limiter } = clockedLimiter(fixedWindow(limit, windowSeconds), start);
          const windowMs = windowSeconds * 1000;
          const perWindow = new Map<number, number>();
          const firstFull = Math.ceil(start / windowMs);
          for (let t = start; t < (firstFull + 3) * windowMs; t += step) {
            clock.now = t;
            for (let burst = 0; burst < 3; burst++) {
              if ((await limiter.limit('k')).success) {
                const w = Math.floor(t / windowMs);
                perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
              }
            }
          }
          for (let w = firstFull; w < firstFull + 3; w++) expect(perWindow.get(w)).toBe(limit);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('sliding window against a request-log model', () => {
  it('decides exactly like the weighted formula computed from a full request log', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 10 }),
        startArb,
        traceArb(4000, 4),
        async (limit, windowSeconds, start, trace) => {
          const { clock, limiter } = clockedLimiter(slidingWindow(limit, windowSeconds), start);
          const windowMs = windowSeconds * 1000;
          const log: { at: number; cost: number }[] = [];
          const sum = (from: number, to: number) =>
            log.filter((e) => e.at >= from && e.at < to).reduce((s, e) => s + e.cost, 0);
          for (const { gap, cost } of trace) {
            clock.now += gap;
            const windowStart = Math.floor(clock.now / windowMs) * windowMs;
            const previous = sum(windowStart - windowMs, windowStart);
            const current = sum(windowStart, Number.POSITIVE_INFINITY);
            const weight = (windowStart + windowMs - clock.now) / windowMs;
            const admit = previous * weight + current + cost <= limit + 1e-9;
            if (admit) log.push({ at: clock.now, cost });
            const result = await limiter.limit('k', { cost });
            expect(result.success).toBe(admit);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never admits more than `limit` within any window once traffic has been steady for two windows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 1200 }),
        startArb,
        async (limit, windowSeconds, interval, start) => {
          const windowMs = windowSeconds * 1000;
          fc.pre(interval < windowMs);
          const { clock, limiter } = clockedLimiter(slidingWindow(limit, windowSeconds), start);
          const admitted: number[] = [];
          for (let t = start; t < start + 8 * windowMs; t += interval) {
            clock.now = t;
            if ((await limiter.limit('k')).success) admitted.push(t);
          }
          // Every window [s, s + W) that starts after the two-window warm-up.
          let from = 0;
          for (let to = 0; to < admitted.length; to++) {
            while (admitted[to]! - admitted[from]! >= windowMs) from++;
            if (admitted[from]! >= start + 2 * windowMs) {
              expect(to - from + 1).toBeLessThanOrEqual(limit);
            }
          }
          // And not a wall: saturating traffic gets `limit` through in any two aligned windows.
          if (interval * limit < windowMs / 2) {
            const first = Math.ceil((start + 2 * windowMs) / windowMs);
            for (let w = first; (w + 2) * windowMs <= start + 8 * windowMs; w++) {
              const through = admitted.filter(
                (t) => t >= w * windowMs && t < (w + 2) * windowMs,
              ).length;
              expect(through).toBeGreaterThanOrEqual(limit);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('retryAfter', () => {
  it('a denied request of the same cost succeeds once `retryAfter` seconds have passed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('sliding', 'bucket', 'fixed'),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 10 }),
        startArb,
        traceArb(1500, 3),
        async (kind, limit, seconds, start, trace) => {
          const algorithm =
            kind === 'sliding'
              ? slidingWindow(limit, seconds)
              : kind === 'fixed'
                ? fixedWindow(limit, seconds)
                : tokenBucket(limit / seconds, limit);
          const { clock, limiter } = clockedLimiter(algorithm, start);
          for (const { gap, cost } of trace) {
            clock.now += gap;
            const result = await limiter.limit('k', { cost });
            if (result.success || cost > limit) continue;
            expect(result.retryAfter).toBeGreaterThan(0);
            clock.now += result.retryAfter * 1000;
            expect((await limiter.limit('k', { cost })).success).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
