import { copyRecord } from '../lib/copy-record.js';
import { isExpired } from '../lib/expiry.js';
import type { ClientRecord } from '../types.js';

/**
 * Client records from memory, for a database that only this process writes: an embedded PGlite
 * (one process opens it at a time). Every token request reads its client; on PGlite that read was
 * one of the few statements of a grant. Exact while every write of the table goes through a
 * `postgresAdapter` of this process: the caches are shared by all adapters on one database and
 * table, a write drops the entry before and after it runs, and a read that overlapped a write
 * does not fill the cache. Expiry is judged on every hit; a caller gets its own copy. Bounded:
 * the oldest entry goes first.
 */
export interface ClientCache {
  get(clientId: string, now: number): ClientRecord | undefined;
  /** Reads through `read`, keeping what it found unless a write overlapped it. */
  fill(
    clientId: string,
    read: () => Promise<ClientRecord | undefined>,
  ): Promise<ClientRecord | undefined>;
  /** Runs a write of `clientId`, dropping the entry before and after it. */
  write<T>(clientId: string, run: () => Promise<T>): Promise<T>;
}

const caches = new WeakMap<object, Map<string, ClientCache>>();

export function clientCacheFor(db: object, table: string, maxEntries = 1000): ClientCache {
  let tables = caches.get(db);
  if (!tables) {
    tables = new Map();
    caches.set(db, tables);
  }
  let cache = tables.get(table);
  if (!cache) {
    cache = createClientCache(maxEntries);
    tables.set(table, cache);
  }
  return cache;
}

function createClientCache(maxEntries: number): ClientCache {
  const entries = new Map<string, ClientRecord>();
  // Bumped by every write: a read that overlapped a write does not fill the cache.
  let writes = 0;
  const forget = (clientId: string) => {
    writes++;
    entries.delete(clientId);
  };
  return {
    get(clientId, now) {
      const hit = entries.get(clientId);
      if (hit === undefined) return undefined;
      if (isExpired(hit.expiresAt, now)) {
        entries.delete(clientId);
        return undefined;
      }
      return copyRecord(hit);
    },
    async fill(clientId, read) {
      const before = writes;
      const found = await read();
      if (found && writes === before) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
        entries.set(clientId, copyRecord(found));
      }
      return found;
    },
    async write(clientId, run) {
      forget(clientId);
      try {
        return await run();
      } finally {
        forget(clientId);
      }
    },
  };
}
