// The token store's once-only store (`store.replay` of @portcullis/token-store) passes where
// @portcullis/dpop wants a `ReplayStore`: dpop's own conformance cases, on every backend the
// authorization server runs on. The DPoP proofs and the client assertions of this server share it.

import type { ReplayStore } from '@portcullis/dpop';
import { replayStoreConformance } from '@portcullis/dpop/testing';
import { createTokenStore, memoryAdapter, type TokenStore } from '@portcullis/token-store';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { realStores } from './support/stores.js';

const real = await realStores('replay', Date.now);
afterAll(() => real.cleanup());

const backends: [string, () => Promise<TokenStore>, boolean][] = [
  ['memory', async () => createTokenStore({ adapter: memoryAdapter() }), true],
  ...(['PGlite', 'Postgres', 'Redis'] as const).map(
    (name) => [name, ...real.stores[name]] as [string, () => Promise<TokenStore>, boolean],
  ),
];

describe.each(backends)('store.replay as a DPoP ReplayStore on %s', (_name, open, available) => {
  let store: TokenStore;
  // PGlite compiles its WASM on start: seconds on a loaded machine.
  beforeAll(async () => {
    if (!available) return;
    store = await open();
    // The SQL adapters migrate on first use: done here, not in the first case's time.
    await (store.adapter as { migrate?: () => Promise<void> }).migrate?.();
  }, 120_000);
  // Typed as dpop's ReplayStore: the shapes agree.
  const replay = (): ReplayStore => store.replay;
  it.runIf(available).each(replayStoreConformance(replay))('$name', ({ run }) => run());
});
