import type { TokenStore } from '@portcullis/token-store';

type ClientStore = TokenStore['clients'];
type ClientRecord = NonNullable<Awaited<ReturnType<ClientStore['find']>>>;

/**
 * Client records from memory, for a store that only this process writes: the embedded PGlite,
 * which one process opens at a time. Every token request reads its client, and on PGlite that
 * read was one of the four statements of a grant on its one thread. Writes go through and drop
 * the entry (`save`, `delete`); a read that started before a write is not kept; a record past its
 * `expiresAt` is read again (the store then answers as it does for any expired record). Bounded:
 * the oldest entry goes first. Never for a shared store (Postgres, Redis), where another instance
 * may change a client.
 */
export function writeThroughClients(
  clients: ClientStore,
  { now = Date.now, maxEntries = 1000 }: { now?: () => number; maxEntries?: number } = {},
): ClientStore {
  const cache = new Map<string, ClientRecord>();
  // Bumped by every write: a read that overlapped a write does not fill the cache.
  let writes = 0;
  const forget = (clientId: string) => {
    writes++;
    cache.delete(clientId);
  };
  return {
    list: (options) => clients.list(options),
    verifySecret: (client, secret) => clients.verifySecret(client, secret),
    async save(record, options) {
      forget(record.clientId);
      try {
        return await clients.save(record, options);
      } finally {
        forget(record.clientId);
      }
    },
    async delete(clientId) {
      forget(clientId);
      try {
        return await clients.delete(clientId);
      } finally {
        forget(clientId);
      }
    },
    async find(clientId) {
      const hit = cache.get(clientId);
      if (hit && (hit.expiresAt === null || hit.expiresAt > now())) return hit;
      cache.delete(clientId);
      const before = writes;
      const found = await clients.find(clientId);
      if (found && writes === before) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(clientId, found);
      }
      return found;
    },
  };
}
