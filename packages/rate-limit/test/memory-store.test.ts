import { describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  memoryStore,
  slidingWindow,
  tokenBucket,
} from '../src/index.js';
import { storeConformance } from './conformance.js';

describe('memoryStore: store conformance', () => {
  const store = memoryStore();
  storeConformance(() => store);
});

describe('memoryStore', () => {
  it('never holds more than maxKeys keys; a flood of one-off keys does not evict a key in use', async () => {
    const store = memoryStore({ maxKeys: 100 });
    const limiter = createRateLimiter({
      algorithm: fixedWindow(2, 3600),
      store,
      now: () => 1_700_000_000_000,
    });
    await limiter.limit('hot');
    await limiter.limit('hot');
    for (let i = 0; i < 1000; i++) {
      await limiter.limit(`user:${i}`);
      if (i % 50 === 0) expect((await limiter.limit('hot')).success).toBe(false); // still limited
      expect(store.size).toBeLessThanOrEqual(100);
    }
    expect(store.size).toBe(100);
    // user:0 was used once, long ago: it was dropped, so its count starts over.
    expect((await limiter.limit('user:0')).remaining).toBe(1);
  });

  it('evicts idle keys lazily, without any timer', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const clock = { now: 1_700_000_000_000 };
    const store = memoryStore({ maxKeys: 10_000 });
    const limiter = createRateLimiter({
      algorithm: slidingWindow(10, 1),
      store,
      now: () => clock.now,
    });
    for (let i = 0; i < 1000; i++) await limiter.limit(`user:${i}`);
    expect(store.size).toBe(1000);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    // Two windows later every key's state is empty again; later calls sweep them away.
    clock.now += 2000;
    for (let i = 0; i < 600; i++) await limiter.limit('active');
    expect(store.size).toBe(1);
  });

  it('keeps algorithms and prefixes that share a store apart', async () => {
    const store = memoryStore();
    const now = () => 1_700_000_000_000;
    const a = createRateLimiter({ algorithm: fixedWindow(1, 60), store, now });
    const b = createRateLimiter({ algorithm: tokenBucket(1, 1), store, now });
    const c = createRateLimiter({ algorithm: fixedWindow(1, 60), store, now, prefix: 'other' });
    expect((await a.limit('k')).success).toBe(true);
    expect((await b.limit('k')).success).toBe(true);
    expect((await c.limit('k')).success).toBe(true);
    expect((await a.limit('k')).success).toBe(false);
  });

  it('clear() forgets a key', async () => {
    const limiter = createRateLimiter({ algorithm: fixedWindow(1, 60) });
    expect((await limiter.limit('k')).success).toBe(true);
    expect((await limiter.limit('k')).success).toBe(false);
    await limiter.clear('k');
    expect((await limiter.limit('k')).success).toBe(true);
  });

  it('rejects a maxKeys that is not a positive integer', () => {
    expect(() => memoryStore({ maxKeys: 0 })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
