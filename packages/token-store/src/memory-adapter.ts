import { copyRecord } from './lib/copy-record.js';
import { isExpired } from './lib/expiry.js';
import { bindingAllows, matches } from './lib/matches.js';
import { compareFeedPositions } from './lib/revocations.js';
import { rotatedRecords } from './lib/rotation.js';
import { warnOnce } from './lib/warn-once.js';
import type {
  ConsumableKind,
  ConsumeOptions,
  ConsumeResult,
  FamilyRecord,
  FindOptions,
  ReadOptions,
  RecordKind,
  RecordOf,
  RevokedAccessToken,
  StoreAdapter,
  Timestamp,
  UserKind,
} from './types.js';

/** A `StoreAdapter` kept in this process's memory, with a debug view of what it holds. */
export interface MemoryAdapter extends StoreAdapter {
  /**
   * A deep copy of everything stored, keyed `kind:id`: what a heap dump of the process would
   * reveal. For tests (the no-secret-at-rest check) and debugging; not part of `StoreAdapter`.
   */
  dump(): Record<string, unknown>;
}

export interface MemoryAdapterOptions {
  /** How long an expired record is kept (and reported as expired) before it is dropped. Default 300. */
  expiredRetentionSeconds?: number;
}

type AnyRecord = RecordOf[RecordKind];
const FAMILY_KINDS = new Set<RecordKind>(['authorization_code', 'access_token', 'refresh_token']);
const SWEEP_EVERY_MS = 60_000;

/**
 * A `StoreAdapter` in a `Map`: for unit tests and throwaway demos. Nothing survives a restart
 * and nothing is shared between instances, so it warns once per process. Records are copied in
 * and out, as a real backend would, so callers cannot change stored state
 * by mutating a returned object. Consume, and the family-marker check of a write, are atomic
 * because each runs in one synchronous step.
 *
 * @example
 * const store = createTokenStore({ adapter: memoryAdapter() });
 */
export function memoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  warnOnce(
    'memory',
    'memoryAdapter keeps tokens in this process only: they are lost on restart and not shared between instances. Use the Postgres/PGlite or Redis adapter for anything that matters.',
  );
  const retentionMs = (options.expiredRetentionSeconds ?? 300) * 1000;
  const records = new Map<string, AnyRecord>();
  // The revocation feed: revoked, unexpired access tokens by record id.
  const revoked = new Map<string, RevokedAccessToken>();
  // The once-only store: key → expiry (epoch ms).
  const replay = new Map<string, Timestamp>();
  let lastSweep = Date.now();

  const keyOf = (kind: RecordKind, id: string) => `${kind}:${id}`;

  /** Lists a deleted access token in the revocation feed when it had not expired. */
  function recordRevoked(id: string, record: AnyRecord, now: Timestamp): void {
    if (record.expiresAt !== null && !isExpired(record.expiresAt, now)) {
      revoked.set(id, { id, expiresAt: record.expiresAt, revokedAt: now });
    }
  }

  function sweep(now: Timestamp, retention: number): number {
    for (const [id, entry] of revoked) if (isExpired(entry.expiresAt, now)) revoked.delete(id);
    let removed = 0;
    for (const [key, expiresAt] of replay) {
      if (isExpired(expiresAt, now)) {
        replay.delete(key);
        removed++;
      }
    }
    for (const [key, record] of records) {
      if (record.expiresAt !== null && record.expiresAt + retention <= now) {
        records.delete(key);
        removed++;
      }
    }
    return removed;
  }

  function visible(record: AnyRecord | undefined, now: Timestamp): AnyRecord | undefined {
    return record && !isExpired(record.expiresAt, now) ? record : undefined;
  }

  /**
   * What a consume or a rotation may spend: the live, unconsumed record, or the answer when
   * there is none (absent, expired, another client's or not matching: `not_found`; spent
   * before: `already_consumed` with a copy).
   */
  function unconsumed(
    kind: ConsumableKind,
    id: string,
    now: Timestamp,
    { clientId, match, cnfJkt }: Pick<ConsumeOptions, 'clientId' | 'match' | 'cnfJkt'>,
  ): { live: RecordOf[ConsumableKind] } | ConsumeResult<RecordOf[ConsumableKind]> {
    const record = visible(records.get(keyOf(kind, id)), now) as
      | RecordOf[ConsumableKind]
      | undefined;
    if (!record) return { status: 'not_found' };
    if (clientId !== undefined && record.clientId !== clientId) return { status: 'not_found' };
    if (!matches(record, match)) return { status: 'not_found' };
    if (!bindingAllows(record, cnfJkt)) return { status: 'not_found' };
    if (record.consumedAt !== undefined && record.consumedAt !== null) {
      return { status: 'already_consumed', record: copyRecord(record) };
    }
    return { live: record };
  }

  /** Extends the family's state to outlive `expiresAt`; `false` when the family is revoked. */
  function touchFamily(familyId: string, expiresAt: Timestamp | null, now: Timestamp): boolean {
    const key = keyOf('family', familyId);
    const family = records.get(key) as FamilyRecord | undefined;
    if (family?.revokedAt !== undefined) return false;
    const longest =
      family === undefined || expiresAt === null || family.expiresAt === null
        ? expiresAt
        : Math.max(family.expiresAt, expiresAt);
    records.set(key, { familyId, createdAt: family?.createdAt ?? now, expiresAt: longest });
    return true;
  }

  /** Purges as a side effect of writes, at most once a minute, so an idle store costs nothing. */
  function maybeSweep(): void {
    const wallClock = Date.now();
    if (wallClock - lastSweep > SWEEP_EVERY_MS) {
      lastSweep = wallClock;
      sweep(wallClock, retentionMs);
    }
  }

  return {
    async set(kind, id, record) {
      if (FAMILY_KINDS.has(kind)) {
        const { familyId, expiresAt, createdAt } = record as RecordOf['refresh_token'];
        if (!touchFamily(familyId, expiresAt, createdAt)) return false;
      }
      records.set(keyOf(kind, id), copyRecord(record));
      maybeSweep();
      return true;
    },

    async setMany(entries) {
      // One synchronous step: the marker is checked and every record written with no await between.
      for (const { record } of entries) {
        if (!touchFamily(record.familyId, record.expiresAt, record.createdAt)) return false;
      }
      for (const { kind, id, record } of entries) records.set(keyOf(kind, id), copyRecord(record));
      maybeSweep();
      return true;
    },

    async find<K extends RecordKind>(kind: K, id: string, findOptions: FindOptions = {}) {
      const record = records.get(keyOf(kind, id));
      const now = findOptions.now ?? Date.now();
      const found = findOptions.includeExpired ? record : visible(record, now);
      return found ? (copyRecord(found) as RecordOf[K]) : undefined;
    },

    async consume<K extends ConsumableKind>(
      kind: K,
      id: string,
      now: Timestamp,
      consumeOptions: ConsumeOptions = {},
    ): Promise<ConsumeResult<RecordOf[K]>> {
      const found = unconsumed(kind, id, now, consumeOptions);
      if (!('live' in found)) return found as ConsumeResult<RecordOf[K]>;
      const record = found.live as RecordOf[K];
      record.consumedAt = now;
      if (consumeOptions.successor !== undefined) {
        (record as RecordOf['refresh_token']).successor = consumeOptions.successor;
      }
      return { status: 'consumed', record: copyRecord(record) };
    },

    async rotate(request) {
      // One synchronous step: the consume, the marker check and both writes, with no await between.
      const { now } = request;
      const found = unconsumed(request.kind ?? 'refresh_token', request.id, now, request);
      if (!('live' in found)) return found as ConsumeResult<RecordOf['refresh_token']>;
      const record = found.live as RecordOf['refresh_token'];
      const family = records.get(keyOf('family', record.familyId)) as FamilyRecord | undefined;
      if (family?.revokedAt !== undefined) {
        return { status: 'family_revoked', record: copyRecord(record) };
      }
      record.consumedAt = now;
      if (request.successor !== undefined) record.successor = request.successor;
      const { refresh, access } = rotatedRecords(record, request);
      touchFamily(record.familyId, refresh.expiresAt, now);
      records.set(keyOf('refresh_token', request.refresh.id), copyRecord(refresh));
      if (access !== undefined && request.access !== undefined) {
        touchFamily(record.familyId, access.expiresAt, now);
        records.set(keyOf('access_token', request.access.id), copyRecord(access));
      }
      maybeSweep();
      return { status: 'consumed', record: copyRecord(record) };
    },

    async delete(kind, id) {
      return records.delete(keyOf(kind, id));
    },

    async revokeFamily(familyId, revokeOptions = {}) {
      const now = revokeOptions.now ?? Date.now();
      const key = keyOf('family', familyId);
      const family = records.get(key) as FamilyRecord | undefined;
      const floor = revokeOptions.retainUntil ?? now;
      records.set(key, {
        familyId,
        createdAt: family?.createdAt ?? now,
        expiresAt: family?.expiresAt === null ? null : Math.max(family?.expiresAt ?? floor, floor),
        revokedAt: family?.revokedAt ?? now,
      } satisfies FamilyRecord);
      let removed = 0;
      for (const [key, record] of records) {
        const kind = key.slice(0, key.indexOf(':')) as RecordKind;
        if (FAMILY_KINDS.has(kind) && (record as { familyId?: string }).familyId === familyId) {
          records.delete(key);
          if (kind === 'access_token') recordRevoked(key.slice(kind.length + 1), record, now);
          removed++;
        }
      }
      return removed;
    },

    async revokeAccessToken(id, now) {
      // One synchronous step: the delete and the feed entry.
      const key = keyOf('access_token', id);
      const record = records.get(key);
      if (record === undefined) return false;
      records.delete(key);
      recordRevoked(id, record, now);
      return true;
    },

    // A sort of every live entry (this adapter is for tests and demos).
    async listRevokedAccessTokens({ after, limit, now }) {
      const out: RevokedAccessToken[] = [];
      for (const entry of revoked.values()) {
        if (!isExpired(entry.expiresAt, now) && compareFeedPositions(entry, after) > 0) {
          out.push({ ...entry });
        }
      }
      return out.sort(compareFeedPositions).slice(0, limit);
    },

    // One synchronous step: the lookup and the write, with no await between.
    async remember(key, expiresAt, now) {
      const held = replay.get(key);
      if (held !== undefined && !isExpired(held, now)) return false;
      if (isExpired(expiresAt, now)) replay.delete(key);
      else replay.set(key, expiresAt);
      maybeSweep();
      return true;
    },

    async listByUser<K extends UserKind>(kind: K, userId: string, readOptions: ReadOptions = {}) {
      const now = readOptions.now ?? Date.now();
      const out: RecordOf[K][] = [];
      const prefix = `${kind}:`;
      for (const [key, record] of records) {
        if (
          key.startsWith(prefix) &&
          (record as { userId?: string }).userId === userId &&
          visible(record, now)
        ) {
          out.push(copyRecord(record) as RecordOf[K]);
        }
      }
      return out;
    },

    async list<K extends 'client' | 'signing_key'>(
      kind: K,
      listOptions: ReadOptions & { limit?: number } = {},
    ) {
      const now = listOptions.now ?? Date.now();
      const limit = listOptions.limit ?? 1000;
      const out: RecordOf[K][] = [];
      const prefix = `${kind}:`;
      for (const [key, record] of records) {
        if (out.length >= limit) break;
        if (key.startsWith(prefix) && visible(record, now)) {
          out.push(copyRecord(record) as RecordOf[K]);
        }
      }
      return out;
    },

    async purgeExpired(now = Date.now()) {
      return sweep(now, 0);
    },

    // One pass over the map (this adapter is for tests and demos), stopping at `limit`.
    async sweepExpiredClients(now, limit) {
      const out: string[] = [];
      for (const [key, record] of records) {
        if (out.length >= limit) break;
        if (key.startsWith('client:') && isExpired(record.expiresAt, now)) {
          records.delete(key);
          out.push(key.slice('client:'.length));
        }
      }
      return out;
    },

    async close() {
      records.clear();
      revoked.clear();
      replay.clear();
    },

    dump() {
      return copyRecord({
        ...Object.fromEntries(records),
        ...Object.fromEntries([...revoked].map(([id, entry]) => [`revoked:${id}`, entry])),
        ...Object.fromEntries([...replay].map(([key, expiresAt]) => [`replay:${key}`, expiresAt])),
      });
    },
  };
}
