import { ClientChangedError } from '../errors.js';
import type { ClientCheck, ClientRecord } from '../types.js';
import { copyRecord } from './copy-record.js';
import { isExpired } from './expiry.js';

/**
 * Client records kept in this process's memory for the grant steps (`clients.lookup()`), where
 * the adapter checks clients in the grant's own atomic step (`checksClients`). Not an exact
 * cache: another process may change a client at any time. It is exact where it matters: each
 * record it serves is checked, as it was read, in the same step as the consume or rotation it
 * authorizes, so nothing is granted on a client that changed; and a caller decides any refusal
 * again on a fresh read. Bounded: the oldest entry goes first.
 */
export interface ClientChecks {
  /** A copy of the kept record of `clientId` (unexpired at `now`), registered for `of`. */
  get(clientId: string, now: number): ClientRecord | undefined;
  /** Keeps `record` as read; resolves the copy to hand out, registered for `of`. */
  keep(record: ClientRecord): ClientRecord;
  /** The check of a record `get` or `keep` handed out, or `undefined` for any other object. */
  of(record: unknown): ClientCheck | undefined;
  /** Drops the kept record of `clientId` (it changed, or this process wrote it). */
  forget(clientId: string): void;
  /** Runs a grant step with `check`, dropping the kept record when the step reports a change. */
  run<T>(check: ClientCheck | undefined, step: () => Promise<T>): Promise<T>;
}

export function clientChecks(maxEntries = 1000): ClientChecks {
  const entries = new Map<string, { record: ClientRecord; check: ClientCheck }>();
  const handedOut = new WeakMap<object, ClientCheck>();
  const handOut = (entry: { record: ClientRecord; check: ClientCheck }) => {
    const copy = copyRecord(entry.record);
    handedOut.set(copy, entry.check);
    return copy;
  };
  return {
    get(clientId, now) {
      const entry = entries.get(clientId);
      if (entry === undefined) return undefined;
      if (isExpired(entry.record.expiresAt, now)) {
        entries.delete(clientId);
        return undefined;
      }
      return handOut(entry);
    },
    keep(record) {
      const entry = {
        record: copyRecord(record),
        check: { id: record.clientId, data: JSON.stringify(record) },
      };
      if (entries.size >= maxEntries && !entries.has(record.clientId)) {
        entries.delete(entries.keys().next().value as string);
      }
      entries.set(record.clientId, entry);
      return handOut(entry);
    },
    of(record) {
      return typeof record === 'object' && record !== null ? handedOut.get(record) : undefined;
    },
    forget(clientId) {
      entries.delete(clientId);
    },
    async run(check, step) {
      try {
        return await step();
      } catch (error) {
        if (check !== undefined && error instanceof ClientChangedError) entries.delete(check.id);
        throw error;
      }
    },
  };
}
