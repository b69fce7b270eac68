import type { ReplayStore } from '../replay-store.js';

/** One check of a `ReplayStore`: run it from any test framework; it throws on a violation. */
export interface ReplayStoreCase {
  name: string;
  run(): Promise<void>;
}

export interface ReplayStoreConformanceOptions {
  /**
   * How long the expiry case lets a key live before it checks that the key is forgotten, in
   * real time (default 300 ms): the store keeps its own clock (Redis `PXAT` uses the server's).
   */
  ttlMs?: number;
}

function fail(message: string): never {
  throw new Error(`ReplayStore conformance: ${message}`);
}

const unique = () => `conformance-${crypto.randomUUID()}`;

/**
 * The behaviour `verifyProof` relies on, as cases any `ReplayStore` (Redis, SQL, the memory
 * one) must pass: first time `true`, then `false` until the expiry, keys independent, and one
 * winner among concurrent calls for a key. Each case uses fresh keys; `create` may return the
 * same store every time.
 *
 * @example
 * import { replayStoreConformance } from '@portcullis/dpop/testing';
 * it.each(replayStoreConformance(() => redisReplayStore(redis)))('$name', ({ run }) => run());
 */
export function replayStoreConformance(
  create: () => ReplayStore | Promise<ReplayStore>,
  options: ReplayStoreConformanceOptions = {},
): ReplayStoreCase[] {
  const ttlMs = options.ttlMs ?? 300;
  const later = () => Date.now() + 60_000;
  return [
    {
      name: 'remember: true the first time, false while the key lives',
      async run() {
        const store = await create();
        const key = unique();
        if ((await store.remember(key, later())) !== true) fail('a new key must give true');
        if ((await store.remember(key, later())) !== false) fail('a held key must give false');
        if ((await store.remember(key, later())) !== false) fail('a held key must stay false');
      },
    },
    {
      name: 'remember: keys are independent',
      async run() {
        const store = await create();
        const [a, b] = [unique(), unique()];
        await store.remember(a, later());
        if ((await store.remember(b, later())) !== true) fail('another key must give true');
      },
    },
    {
      name: 'remember: of 50 concurrent calls for one key, exactly one gets true',
      async run() {
        const store = await create();
        const key = unique();
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.remember(key, later())),
        );
        const won = results.filter((r) => r === true).length;
        if (won !== 1 || results.some((r) => r !== true && r !== false)) {
          fail(`${won} of 50 concurrent calls got true; exactly 1 must`);
        }
      },
    },
    {
      name: 'remember: a key is held until expiresAtMs, then forgotten',
      async run() {
        const store = await create();
        const key = unique();
        const expiresAt = Date.now() + ttlMs;
        await store.remember(key, expiresAt);
        if ((await store.remember(key, expiresAt)) !== false) fail('a held key must give false');
        await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
        if ((await store.remember(key, later())) !== true) {
          fail(`a key must be forgotten after expiresAtMs (waited ${ttlMs + 100} ms)`);
        }
      },
    },
  ];
}
