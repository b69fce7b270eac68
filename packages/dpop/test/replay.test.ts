import { describe, expect, it } from 'vitest';
import {
  createMemoryReplayStore,
  createProof,
  InvalidDpopProofError,
  type ReplayStore,
  ReplayStoreFullError,
  verifyProof,
} from '../src/index.js';
import { replayStoreConformance } from '../src/testing/index.js';
import { keyPair, NOW, NOW_MS, options, URL_ } from './support/proofs.js';

describe('createMemoryReplayStore', () => {
  it('true the first time, false while the entry lives, true again after it expired', async () => {
    let now = 1_000;
    const store = createMemoryReplayStore({ now: () => now });
    expect(await store.remember('k', 2_000)).toBe(true);
    expect(await store.remember('k', 9_000)).toBe(false);
    now = 1_999;
    expect(await store.remember('k', 2_000)).toBe(false);
    now = 2_000;
    expect(await store.remember('k', 3_000)).toBe(true);
  });

  it('forgets expired entries in expiry order, whatever the order they came in', async () => {
    let now = 0;
    const store = createMemoryReplayStore({ now: () => now });
    const expiries = [50, 10, 40, 20, 30, 60, 5];
    for (const [i, at] of expiries.entries()) await store.remember(`k${i}`, at);
    for (const t of [5, 10, 20, 30, 40, 50, 60]) {
      now = t;
      expect(store.size).toBe(expiries.filter((at) => at > t).length);
    }
  });

  it('is bounded: full of live entries it refuses to remember (fail closed), and says when room comes', async () => {
    let now = 0;
    const store = createMemoryReplayStore({ maxEntries: 3, now: () => now });
    for (const k of ['a', 'b', 'c'])
      expect(await store.remember(k, 10_000 + k.charCodeAt(0))).toBe(true);
    const full = await store.remember('d', 20_000).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(ReplayStoreFullError);
    expect(full).toMatchObject({ code: 'ERR_DPOP_REPLAY_STORE_FULL', retryAfterSeconds: 11 });
    // The held entries are still refused: nothing was forgotten early to make room.
    expect(await store.remember('a', 20_000)).toBe(false);
    now = 10_097; // 'a' (10 097) expired
    expect(await store.remember('d', 20_000)).toBe(true);
    expect(store.size).toBe(3);
  });

  it('an entry that is already expired is not kept', async () => {
    const store = createMemoryReplayStore({ now: () => 100 });
    expect(await store.remember('k', 100)).toBe(true);
    expect(store.size).toBe(0);
  });

  it('a caller’s mistake is a TypeError', () => {
    expect(() => createMemoryReplayStore({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => createMemoryReplayStore({ now: 5 as never })).toThrow(TypeError);
  });
});

describe('RFC 9449 §11.1: a proof is accepted once, whatever the concurrency', () => {
  it('50 parallel verifications of one proof: exactly one succeeds, 49 are replays', async () => {
    const key = await keyPair();
    const proof = await createProof({ ...key, method: 'POST', url: URL_, iat: NOW });
    const opts = options();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => verifyProof(proof, opts)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter(
      (r) =>
        r.status === 'rejected' &&
        r.reason instanceof InvalidDpopProofError &&
        r.reason.check === 'replay',
    );
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(49);
  });

  it('deterministic interleaving: both verifications pass every check before either reaches the store; the one the store answers first wins, the other is a replay', async () => {
    const key = await keyPair();
    const proof = await createProof({ ...key, method: 'POST', url: URL_, iat: NOW });
    const inner = createMemoryReplayStore({ now: () => NOW_MS });
    // Each verification gets its own door to the one store, held until the test lets it in, in
    // the order chosen (which call reaches its door first is up to the scheduler, not the test).
    const doors: Array<() => void> = [];
    let arrivals!: () => void;
    const bothArrived = new Promise<void>((resolve) => {
      arrivals = resolve;
    });
    const gated = (door: number): ReplayStore => ({
      async remember(key, expiresAtMs) {
        await new Promise<void>((resolve) => {
          doors[door] = resolve;
          if (doors.filter(Boolean).length === 2) arrivals();
        });
        return inner.remember(key, expiresAtMs);
      },
    });
    const first = verifyProof(proof, options({ replay: gated(0) }));
    const second = verifyProof(proof, options({ replay: gated(1) }));
    await bothArrived;
    // Let the second caller in first.
    doors[1]!();
    await expect(second).resolves.toMatchObject({ iat: NOW });
    doors[0]!();
    await expect(first).rejects.toMatchObject({ check: 'replay' });
  });

  it('two proofs of one key (different jti) are both accepted in parallel', async () => {
    const key = await keyPair();
    const opts = options();
    const proofs = await Promise.all(
      Array.from({ length: 20 }, () =>
        createProof({ ...key, method: 'POST', url: URL_, iat: NOW }),
      ),
    );
    const results = await Promise.allSettled(proofs.map((p) => verifyProof(p, opts)));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  });
});

describe('@portcullis/dpop/testing: the ReplayStore conformance cases', () => {
  describe('the memory store passes them', () => {
    const store = createMemoryReplayStore();
    it.each(replayStoreConformance(() => store, { ttlMs: 50 }))('$name', ({ run }) => run());
  });

  describe('they catch broken stores', () => {
    const cases = (store: ReplayStore) =>
      Object.fromEntries(
        replayStoreConformance(() => store, { ttlMs: 20 }).map((c) => [
          c.name.split(': ')[1],
          c.run,
        ]),
      );

    it('a store that always says true fails "true the first time, false while the key lives"', async () => {
      const run = cases({ remember: async () => true })[
        'true the first time, false while the key lives'
      ]!;
      await expect(run()).rejects.toThrow(/a held key must give false/);
    });

    it('a store that checks, then writes, across an await (not atomic) fails the concurrency case', async () => {
      const held = new Set<string>();
      const racy: ReplayStore = {
        async remember(key) {
          const seen = held.has(key);
          await Promise.resolve(); // the gap between a GET and a SET
          held.add(key);
          return !seen;
        },
      };
      const run = cases(racy)['of 50 concurrent calls for one key, exactly one gets true']!;
      await expect(run()).rejects.toThrow(/50 of 50 concurrent calls got true/);
    });

    it('a store that never forgets fails the expiry case', async () => {
      const held = new Set<string>();
      const forever: ReplayStore = {
        async remember(key) {
          if (held.has(key)) return false;
          held.add(key);
          return true;
        },
      };
      const run = cases(forever)['a key is held until expiresAtMs, then forgotten']!;
      await expect(run()).rejects.toThrow(/must be forgotten/);
    });

    it('a store that mixes keys up fails the independence case', async () => {
      let any = false;
      const shared: ReplayStore = {
        async remember() {
          const first = !any;
          any = true;
          return first;
        },
      };
      const run = cases(shared)['keys are independent']!;
      await expect(run()).rejects.toThrow(/another key must give true/);
    });
  });
});
