import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  memoryStore,
  type RateLimitAlgorithm,
  type RateLimitStore,
  slidingWindow,
  tokenBucket,
} from '../src/index.js';

// Windows long enough that no window edge falls inside a test, whatever the store's clock.
const YEAR = 365 * 24 * 3600;

export const CONFORMANCE_ALGORITHMS: [string, (limit: number) => RateLimitAlgorithm][] = [
  ['sliding-window', (limit) => slidingWindow(limit, YEAR)],
  ['token-bucket', (limit) => tokenBucket(limit / YEAR, limit)],
  ['fixed-window', (limit) => fixedWindow(limit, YEAR)],
];

/**
 * What every store must do, whatever holds the state: the same answers as the memory store for
 * the same traffic. `store()` gives the store under test; each test uses keys of its own.
 */
export function storeConformance(store: () => RateLimitStore): void {
  const prefix = () => `conf-${randomBytes(4).toString('hex')}`;

  for (const [name, make] of CONFORMANCE_ALGORITHMS) {
    it(`${name}: admits exactly the limit and counts down like the memory store`, async () => {
      const limiter = createRateLimiter({ algorithm: make(5), store: store(), prefix: prefix() });
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await limiter.limit('seq'));
      expect(results.map((r) => r.success)).toEqual([true, true, true, true, true, false, false]);
      expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
      expect(results[5]!.retryAfter).toBeGreaterThan(0);
      expect(results[5]!.reason).toBeUndefined();
      expect(results[0]!.reset).toBeGreaterThan(Date.now() - 60_000);
    });

    it(`${name}: costs are counted, a cost above the limit is refused without spending`, async () => {
      const algorithm = make(5);
      const ours = createRateLimiter({ algorithm, store: store(), prefix: prefix() });
      const reference = createRateLimiter({ algorithm, store: memoryStore() });
      for (const cost of [3, 3, 9, 2, 1]) {
        const [got, want] = [await ours.limit('k', { cost }), await reference.limit('k', { cost })];
        expect([got.success, got.remaining], `cost ${cost}`).toEqual([
          want.success,
          want.remaining,
        ]);
      }
    });

    it(`${name}: 60 concurrent calls at one key, limit 20 → exactly 20 admitted`, async () => {
      const limiter = createRateLimiter({ algorithm: make(20), store: store(), prefix: prefix() });
      const results = await Promise.all(Array.from({ length: 60 }, () => limiter.limit('hot')));
      expect(results.filter((r) => r.reason)).toEqual([]);
      expect(results.filter((r) => r.success)).toHaveLength(20);
      expect(new Set(results.filter((r) => r.success).map((r) => r.remaining)).size).toBe(20);
    });
  }

  it('decisions asked for together, over several keys and algorithms, match the memory store', async () => {
    const runPrefix = prefix();
    const shared = store();
    const calls: [number, string, number][] = [
      [0, 'a', 2],
      [0, 'b', 1],
      [1, 'a', 1],
      [2, 'a', 4],
      [0, 'c', 5],
      [1, 'b', 3],
      [2, 'b', 2],
      [0, 'd', 6],
    ];
    const algorithms = CONFORMANCE_ALGORITHMS.map(([, make]) => make(5));
    const ours = algorithms.map((algorithm) =>
      createRateLimiter({ algorithm, store: shared, prefix: runPrefix }),
    );
    const reference = algorithms.map((algorithm) => createRateLimiter({ algorithm }));
    // Distinct keys per algorithm, so the order among algorithms does not matter.
    const got = await Promise.all(
      calls.map(([which, key, cost]) => ours[which]!.limit(key, { cost })),
    );
    const want = [];
    for (const [which, key, cost] of calls) want.push(await reference[which]!.limit(key, { cost }));
    expect(got.map((r) => [r.success, r.remaining])).toEqual(
      want.map((r) => [r.success, r.remaining]),
    );
  });

  it('algorithms and prefixes that share a store stay apart', async () => {
    const shared = store();
    const [p, q] = [prefix(), prefix()];
    const a = createRateLimiter({ algorithm: fixedWindow(1, YEAR), store: shared, prefix: p });
    const b = createRateLimiter({ algorithm: tokenBucket(1 / YEAR, 1), store: shared, prefix: p });
    const c = createRateLimiter({ algorithm: fixedWindow(1, YEAR), store: shared, prefix: q });
    expect((await a.limit('k')).success).toBe(true);
    expect((await b.limit('k')).success).toBe(true);
    expect((await c.limit('k')).success).toBe(true);
    expect((await a.limit('k')).success).toBe(false);
  });

  it('clear() forgets a key and only that key', async () => {
    const limiter = createRateLimiter({
      algorithm: fixedWindow(1, YEAR),
      store: store(),
      prefix: prefix(),
    });
    expect((await limiter.limit('c')).success).toBe(true);
    expect((await limiter.limit('c')).success).toBe(false);
    expect((await limiter.limit('other')).success).toBe(true);
    await limiter.clear('c');
    expect((await limiter.limit('c')).success).toBe(true);
    expect((await limiter.limit('other')).success).toBe(false);
  });
}
