import { describe, expect, it } from 'vitest';
import { createTokenStore, memoryAdapter } from '../src/index.js';
import { conformance } from './support/conformance.js';

conformance('memory', async () => {
  const adapter = memoryAdapter();
  return {
    adapter,
    // The adapter's whole state, as a heap dump would show it.
    dump: async () => JSON.stringify(adapter.dump()),
    close: () => adapter.close(),
  };
});

describe('memoryAdapter once-only store', () => {
  it('holds an entry until its expiry only: purgeExpired drops it and counts it', async () => {
    const adapter = memoryAdapter();
    const clock = { now: Date.now() };
    const store = createTokenStore({ adapter, now: () => clock.now, production: false });
    expect(await store.replay.remember('jti:a', clock.now + 1_000)).toBe(true);
    expect(await store.replay.remember('jti:b', clock.now + 5_000)).toBe(true);
    expect(Object.keys(adapter.dump()).sort()).toEqual(['replay:jti:a', 'replay:jti:b']);
    clock.now += 1_000;
    expect(await adapter.purgeExpired(clock.now)).toBe(1);
    expect(Object.keys(adapter.dump())).toEqual(['replay:jti:b']);
    // An expiry already past is not stored at all.
    expect(await store.replay.remember('jti:c', clock.now)).toBe(true);
    expect(Object.keys(adapter.dump())).toEqual(['replay:jti:b']);
  });

  it('a store whose adapter has no remember says so, and refuses rather than accept', async () => {
    const { remember: _omitted, ...adapter } = memoryAdapter();
    const store = createTokenStore({ adapter, production: false });
    expect(store.replay.supported).toBe(false);
    await expect(store.replay.remember('jti:a', Date.now() + 1_000)).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
  });
});
