import { type ClientRecord, createTokenStore, memoryAdapter } from '@portcullis/token-store';
import { describe, expect, it } from 'vitest';
import { writeThroughClients } from '../src/lib/client-cache';

function client(clientId: string, extra: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId,
    clientIdIssuedAt: 0,
    createdAt: 0,
    expiresAt: null,
    redirectUris: ['http://127.0.0.1:9/callback'],
    tokenEndpointAuthMethod: 'none',
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    ...extra,
  };
}

/** A real token store whose client reads are counted (and can be held, for interleavings). */
function countedStore() {
  const store = createTokenStore({ adapter: memoryAdapter() });
  const inner = store.clients;
  let reads = 0;
  let hold: Promise<void> | undefined;
  const counted = {
    ...inner,
    async find(clientId: string) {
      reads++;
      const found = await inner.find(clientId);
      await hold;
      return found;
    },
  };
  return {
    store,
    clients: counted as typeof inner,
    reads: () => reads,
    holdReads(until: Promise<void>) {
      hold = until;
    },
  };
}

describe('write-through client cache (embedded PGlite: one process writes its store)', () => {
  it('reads a client once, then from memory; unknown clients are always read', async () => {
    const { clients, reads } = countedStore();
    const cached = writeThroughClients(clients);
    await cached.save(client('a'));
    expect((await cached.find('a'))?.clientId).toBe('a');
    expect((await cached.find('a'))?.clientId).toBe('a');
    expect(reads()).toBe(1);
    expect(await cached.find('nobody')).toBeUndefined();
    expect(await cached.find('nobody')).toBeUndefined();
    expect(reads()).toBe(3);
  });

  it('a save or a delete is seen at once', async () => {
    const { clients } = countedStore();
    const cached = writeThroughClients(clients);
    await cached.save(client('a', { clientName: 'one' }));
    expect((await cached.find('a'))?.clientName).toBe('one');
    await cached.save(client('a', { clientName: 'two' }));
    expect((await cached.find('a'))?.clientName).toBe('two');
    expect(await cached.delete('a')).toBe(true);
    expect(await cached.find('a')).toBeUndefined();
  });

  it('a record past its expiresAt is not served from memory', async () => {
    let clock = 1_000_000;
    const { clients, reads } = countedStore();
    const cached = writeThroughClients(clients, { now: () => clock });
    await cached.save(client('a', { expiresAt: Date.now() + 60_000 }));
    clock = 1_000_000;
    await cached.find('a');
    await cached.find('a');
    expect(reads()).toBe(1);
    clock = Date.now() + 120_000;
    await cached.find('a');
    expect(reads()).toBe(2);
  });

  it('a read that overlapped a write does not fill the cache with what it read before (deterministic interleaving)', async () => {
    const { clients, holdReads } = countedStore();
    const cached = writeThroughClients(clients);
    await cached.save(client('a', { clientName: 'old' }));
    let release!: () => void;
    holdReads(
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    // The read has its (old) record and waits; the write lands; then the read returns.
    const reading = cached.find('a');
    await new Promise((resolve) => setTimeout(resolve, 10));
    await cached.save(client('a', { clientName: 'new' }));
    release();
    expect((await reading)?.clientName).toBe('old');
    holdReads(Promise.resolve());
    expect((await cached.find('a'))?.clientName).toBe('new');
  });

  it('bounded: the oldest entry is dropped first', async () => {
    const { clients, reads } = countedStore();
    const cached = writeThroughClients(clients, { maxEntries: 2 });
    for (const id of ['a', 'b', 'c']) await cached.save(client(id));
    for (const id of ['a', 'b', 'c']) await cached.find(id);
    expect(reads()).toBe(3);
    await cached.find('c');
    await cached.find('b');
    expect(reads()).toBe(3);
    await cached.find('a');
    expect(reads()).toBe(4);
  });
});
