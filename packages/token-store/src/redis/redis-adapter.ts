import type { Cluster, Redis } from 'ioredis';
import { ClientChangedError, StoreUnavailableError } from '../errors.js';
import { CodedTypeError, describe } from '../lib/errors.js';
import { isExpired } from '../lib/expiry.js';
import { sha256 } from '../lib/sha256.js';
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
  WritableKind,
} from '../types.js';
import { clusterAdmit, clusterIndex, clusterRevoke, clusterWrite } from './lua/cluster.js';
import { consume as consumeScript } from './lua/consume.js';
import { deleteRecord } from './lua/delete.js';
import { feedAdd, feedList, revokeAccessToken as revokeAccessTokenScript } from './lua/feed.js';
import { remember as rememberScript } from './lua/remember.js';
import { revokeFamily as revokeFamilyScript } from './lua/revoke-family.js';
import { rotate as rotateScript } from './lua/rotate.js';
import type { LuaScript } from './lua/script.js';
import { setRecord } from './lua/set.js';
import { setMany as setManyScript } from './lua/set-many.js';

export interface RedisAdapterOptions {
  /** Namespace of every key, so several apps can share one Redis. Default `portcullis:ts:`. */
  prefix?: string;
  /**
   * Longest wait for a reply, in ms, before the call rejects with `StoreUnavailableError`; a
   * backstop for clients configured to queue commands while disconnected. Default 2000.
   */
  commandTimeoutMs?: number;
  /** How long an expired record is kept (and reported as expired) before Redis drops it. Default 300. */
  expiredRetentionSeconds?: number;
}

/** A `StoreAdapter` on Redis, with the key prefix it writes under. */
export interface RedisAdapter extends StoreAdapter {
  readonly prefix: string;
}

type Reply = [string | null, string | null, string | null, string | null];
type Client = Redis | Cluster;
const FAMILY_KINDS = new Set<RecordKind>(['authorization_code', 'access_token', 'refresh_token']);
const INDEXED_KINDS = new Set<RecordKind>(['client', 'signing_key']);
// While ioredis reconnects, a queued command could wait for minutes; answer at once instead.
const DOWN = new Set(['reconnecting', 'close', 'end']);

/**
 * A `StoreAdapter` on Redis through an ioredis client. Each record is a hash under
 * `<prefix>r:<kind>:<id>` (`id` is the SHA-256 of the secret) with a native expiry; families,
 * users and kinds have index sets. Writes, consume, delete and family revocation are Lua
 * scripts (EVALSHA, EVAL on NOSCRIPT), so consume is atomic (exactly one concurrent caller
 * wins) and a write checks the family's revocation marker (`<prefix>x:<familyId>`) in the same
 * step as it stores. A down or slow Redis rejects with `StoreUnavailableError` quickly instead of queueing.
 * The adapter never closes the client it was given.
 *
 * On a Redis Cluster (an ioredis `Cluster`) no script touches keys of two slots: a family's set
 * and marker share the hash tag `{f:<familyId>}` (`<prefix>{f:<familyId>}s` / `…x`), a write
 * first admits the record into its family (refused when revoked, in one step with the check),
 * then stores it, and every read of a family's record checks the marker, so a record written
 * while its family was being revoked is never returned. Index sets are written before the
 * records they name and pruned on read.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
 * const store = createTokenStore({ adapter: redisAdapter(redis, { prefix: 'myapp:tokens:' }) });
 */
export function redisAdapter(
  client: Redis | Cluster,
  options: RedisAdapterOptions = {},
): RedisAdapter {
  const redis = client as Client;
  if (typeof redis !== 'object' || redis === null || typeof redis.evalsha !== 'function') {
    throw new CodedTypeError(
      `"redis" must be an ioredis client, received ${describe(redis)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (redis.options?.keyPrefix) {
    throw new CodedTypeError(
      'the ioredis client has a keyPrefix: pass the prefix to redisAdapter(redis, { prefix }) instead, so the Lua scripts see the same keys',
      'ERR_INVALID_ARG_VALUE',
    );
  }
  const prefix = options.prefix ?? 'portcullis:ts:';
  const cluster = (redis as { isCluster?: boolean }).isCluster === true;
  if (cluster && /[{}]/.test(prefix)) {
    throw new CodedTypeError(
      'on a Redis Cluster the prefix must not contain { or }: the adapter sets the hash tags itself',
      'ERR_INVALID_ARG_VALUE',
    );
  }
  const timeoutMs = options.commandTimeoutMs ?? 2000;
  const retentionMs = (options.expiredRetentionSeconds ?? 300) * 1000;

  const recordKey = (kind: RecordKind, id: string) => `${prefix}r:${kind}:${id}`;
  const familyKey = (familyId: string) =>
    cluster ? `${prefix}{f:${familyId}}s` : `${prefix}f:${familyId}`;
  const userKey = (kind: RecordKind, userId: string) => `${prefix}u:${kind}:${userId}`;
  const kindKey = (kind: RecordKind) => `${prefix}k:${kind}`;
  // Client ids by expiry time (ms), for sweepExpiredClients: a hint, checked against the record.
  const clientExpiryKey = `${prefix}ce:client`;
  const markerKey = (familyId: string) =>
    cluster ? `${prefix}{f:${familyId}}x` : `${prefix}x:${familyId}`;
  // The revocation feed (see lua/feed.ts): an order set and an expiry set, in one slot.
  const feedKeys = cluster
    ? [`${prefix}{rv}o`, `${prefix}{rv}e`]
    : [`${prefix}rv:o`, `${prefix}rv:e`];
  const accessTokenKeys = recordKey('access_token', '');
  // A once-only entry: named by the SHA-256 of its key, so a caller's braces never pick a
  // Cluster hash tag, and entries spread over every slot.
  const replayKey = async (key: string) => `${prefix}p:${await sha256(key)}`;
  /** A feed member: the position's revokedAt as 15 digits, then the id (bytewise order). */
  const digits = (revokedAt: Timestamp) => String(Math.trunc(revokedAt)).padStart(15, '0');
  const feedMember = (revokedAt: Timestamp, id: string) => `${digits(revokedAt)}:${id}`;

  /**
   * Cluster only: lists the unexpired access tokens among `keys` (record keys, in other slots
   * than the feed) in the feed, at `now`.
   */
  async function feedInCluster(keys: string[], now: Timestamp): Promise<void> {
    const args: (string | number)[] = [now];
    for (const key of keys) {
      if (!key.startsWith(accessTokenKeys)) continue;
      const expires = await redis.hget(key, 'e');
      if (expires && Number(expires) > now) {
        args.push(feedMember(now, key.slice(accessTokenKeys.length)), expires);
      }
    }
    if (args.length > 1) await runScript(feedAdd, feedKeys, args);
  }

  /** The physical TTL (ms) of a record: its lifetime by the store's clock, plus the retention. */
  function physicalTtl(record: { createdAt: Timestamp; expiresAt: Timestamp | null }) {
    // By the store's clock (which tests may inject), plus a little, so a late caller hears
    // "expired", not "unknown"; the logical expiry is the hash field `e`.
    return record.expiresAt === null
      ? ''
      : Math.max(1, Math.ceil(record.expiresAt - record.createdAt)) + retentionMs;
  }

  /** Cluster only: whether the family of a record read from Redis is revoked. */
  async function revoked(kind: RecordKind, familyId: string | null | undefined) {
    if (!FAMILY_KINDS.has(kind) || !familyId) return false;
    return (await redis.exists(markerKey(familyId))) === 1;
  }

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (DOWN.has(redis.status)) {
      throw new StoreUnavailableError(
        `Redis token store is unavailable (connection ${redis.status})`,
      );
    }
    const pending = run();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply from Redis within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (cause) {
      if (cause instanceof ClientChangedError) throw cause; // an answer, not a failure
      pending.catch(() => undefined); // a late failure of the abandoned command is expected
      throw new StoreUnavailableError(
        `Redis token store failed (${what}): ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async function runScript(script: LuaScript, keys: string[], args: (string | number)[]) {
    try {
      return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return redis.eval(script.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }

  function toRecord<T>(data: string, consumedAt: string | null, successor: string | null): T {
    const record = JSON.parse(data) as Record<string, unknown>;
    if (consumedAt !== null) record.consumedAt = Number(consumedAt);
    if (successor) record.successor = successor;
    return record as T;
  }

  function visible<T>(reply: Reply, now: Timestamp, includeExpired = false): T | undefined {
    const [data, expires, consumedAt, successor] = reply;
    if (data === null) return undefined;
    const expiresAt = expires ? Number(expires) : null;
    if (!includeExpired && isExpired(expiresAt, now)) return undefined;
    return toRecord<T>(data, consumedAt, successor);
  }

  /** A family's state: the revocation marker when there is one, else its live family set. */
  async function findFamily(familyId: string, now: Timestamp): Promise<FamilyRecord | undefined> {
    const replies = ((await redis
      .multi()
      .get(markerKey(familyId))
      .pttl(markerKey(familyId))
      .pttl(familyKey(familyId))
      .exec()) ?? []) as [unknown, unknown][];
    const [revokedAt, markerTtl, setTtl] = replies.map(([, reply]) => reply) as [
      string | null,
      number,
      number,
    ];
    const ttl = Number(revokedAt === null ? setTtl : markerTtl);
    if (ttl === -2) return undefined;
    const record: FamilyRecord = {
      familyId,
      createdAt: revokedAt === null ? now : Number(revokedAt),
      expiresAt: ttl === -1 ? null : now + ttl,
    };
    if (revokedAt !== null) record.revokedAt = Number(revokedAt);
    return record;
  }

  /** Reads the records an index set names, dropping (and unindexing) the ones that are gone. */
  async function readIndexed<T>(
    setKey: string,
    kind: RecordKind,
    now: Timestamp,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<T[]> {
    const ids = await redis.smembers(setKey);
    if (ids.length === 0) return [];
    let replies: [Error | null, unknown][];
    if (cluster) {
      // The records live in other slots: one read each (ioredis sends them together), and a
      // record whose family is revoked reads as gone.
      replies = await Promise.all(
        ids.map(async (id): Promise<[null, Reply]> => {
          const [d, e, c, s, f] = await redis.hmget(recordKey(kind, id), 'd', 'e', 'c', 's', 'f');
          if (d !== null && (await revoked(kind, f))) return [null, [null, null, null, null]];
          return [null, [d ?? null, e ?? null, c ?? null, s ?? null]];
        }),
      );
    } else {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hmget(recordKey(kind, id), 'd', 'e', 'c', 's');
      replies = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    }
    const out: T[] = [];
    const gone: string[] = [];
    replies.forEach(([error, reply], i) => {
      if (error) throw error;
      const record = visible<T>(reply as Reply, now);
      if (record) out.push(record);
      else if ((reply as Reply)[0] === null) gone.push(ids[i]!);
    });
    if (gone.length > 0) await redis.srem(setKey, ...gone);
    out.sort(
      (a, b) => (a as { createdAt: number }).createdAt - (b as { createdAt: number }).createdAt,
    );
    return out.slice(0, limit);
  }

  /** Cluster only: deletes a record, then its index entries (each in its own slot). */
  async function deleteInCluster(kind: RecordKind, id: string): Promise<boolean> {
    const key = recordKey(kind, id);
    const [familyId, userId] = await redis.hmget(key, 'f', 'u');
    if ((await redis.del(key)) === 0) return false;
    if (familyId) await redis.srem(familyKey(familyId), key);
    if (userId) await redis.srem(userKey(kind, userId), id);
    await redis.srem(kindKey(kind), id);
    return true;
  }

  /**
   * The set script on one Redis; with `readKey`, it also reads that record's fields in the same
   * step and returns `[stored, d, e, c, s]`.
   */
  function setScript<K extends WritableKind>(
    kind: K,
    id: string,
    record: RecordOf[K],
    readKey?: string,
  ): Promise<unknown> {
    const { consumedAt, ...data } = record as typeof record & { consumedAt?: Timestamp };
    const familyId = (record as { familyId?: string }).familyId ?? '';
    const userId = (record as { userId?: string }).userId ?? '';
    return runScript(
      setRecord,
      [
        recordKey(kind, id),
        familyKey(familyId),
        userKey(kind, userId),
        kindKey(kind),
        markerKey(familyId),
        ...(readKey === undefined ? [] : [readKey]),
      ],
      [
        JSON.stringify(data),
        record.expiresAt === null ? '' : String(record.expiresAt),
        consumedAt === undefined || consumedAt === null ? '' : String(consumedAt),
        familyId,
        userId,
        physicalTtl(record),
        id,
        INDEXED_KINDS.has(kind) ? '1' : '0',
      ],
    );
  }

  const adapter: RedisAdapter = {
    prefix,
    // On a cluster a client lives in another slot than the records a grant step touches.
    checksClients: !cluster,

    set(kind, id, record) {
      return call('set', async () => {
        const { consumedAt, ...data } = record as typeof record & { consumedAt?: Timestamp };
        const familyId = (record as { familyId?: string }).familyId ?? '';
        const userId = (record as { userId?: string }).userId ?? '';
        const ttl = physicalTtl(record);
        if (cluster) {
          const key = recordKey(kind, id);
          if (familyId !== '') {
            const admitted = await runScript(
              clusterAdmit,
              [familyKey(familyId), markerKey(familyId)],
              [key, ttl],
            );
            if (Number(admitted) !== 1) return false;
          }
          if (userId !== '') await runScript(clusterIndex, [userKey(kind, userId)], [id, ttl]);
          if (INDEXED_KINDS.has(kind)) await runScript(clusterIndex, [kindKey(kind)], [id, ttl]);
          await runScript(
            clusterWrite,
            [key],
            [
              JSON.stringify(data),
              record.expiresAt === null ? '' : String(record.expiresAt),
              consumedAt === undefined || consumedAt === null ? '' : String(consumedAt),
              familyId,
              userId,
              ttl,
            ],
          );
          // Revoked between admission and write: the record is unreadable already; remove it.
          if (await revoked(kind, familyId)) {
            await redis.del(key);
            return false;
          }
          return true;
        }
        const stored = await setScript(kind, id, record);
        return !FAMILY_KINDS.has(kind) || Number(stored) === 1;
      });
    },

    setAndFind(kind, id, record, also) {
      if (also.kind === 'family' || !FAMILY_KINDS.has(kind)) {
        // The family's own read (not a hash): a write, then a read. The same for a record of
        // a kind other than a family's, which `set` may treat apart (a client's expiry entry):
        // the one script is for an authorization's code.
        return (async () => ({
          written: await adapter.set(kind, id, record),
          found: await adapter.find(also.kind, also.id, { now: also.now }),
        }))();
      }
      return call('set', async () => {
        const [stored, ...reply] = (await setScript(
          kind,
          id,
          record,
          recordKey(also.kind, also.id),
        )) as [number, ...Reply];
        return {
          written: !FAMILY_KINDS.has(kind) || Number(stored) === 1,
          found: visible<RecordOf[typeof also.kind]>(reply, also.now, false),
        };
      });
    },

    sweepExpiredClients(now, limit) {
      return call('sweepExpiredClients', async () => {
        const ids = await redis.zrangebyscore(clientExpiryKey, '-inf', now, 'LIMIT', 0, limit);
        const out: string[] = [];
        for (const id of ids) {
          // Taking the entry out is the claim: of concurrent sweeps (and a delete), one wins.
          if ((await redis.zrem(clientExpiryKey, id)) !== 1) continue;
          const key = recordKey('client', id);
          const expires = await redis.hget(key, 'e');
          if (expires === null) {
            // Gone by its own expiry (a delete takes the entry out first).
            await redis.srem(kindKey('client'), id);
            out.push(id);
          } else if (expires !== '' && Number(expires) <= now) {
            const removed = cluster
              ? await deleteInCluster('client', id)
              : (await runScript(deleteRecord, [key], [prefix, 'client', id])) === 1;
            if (removed) out.push(id);
          } else if (expires !== '') {
            // Saved again with a later expiry meanwhile: keep it indexed.
            await redis.zadd(clientExpiryKey, Number(expires), id);
          }
        }
        return out;
      });
    },

    setMany(entries) {
      // On a cluster the records live in other slots than their family: each is admitted and
      // written on its own (a revoked family refuses every one of them).
      if (cluster) {
        return Promise.all(entries.map((e) => adapter.set(e.kind, e.id, e.record))).then((stored) =>
          stored.every(Boolean),
        );
      }
      return call('setMany', async () => {
        const first = entries[0];
        if (first === undefined) return true;
        const familyId = first.record.familyId;
        const keys = [markerKey(familyId), familyKey(familyId)];
        const args: (string | number)[] = [familyId];
        for (const { kind, id, record } of entries) {
          const { consumedAt, ...data } = record as typeof record & { consumedAt?: Timestamp };
          keys.push(recordKey(kind, id), userKey(kind, record.userId ?? ''));
          args.push(
            JSON.stringify(data),
            record.expiresAt === null ? '' : String(record.expiresAt),
            consumedAt === undefined || consumedAt === null ? '' : String(consumedAt),
            record.userId ?? '',
            physicalTtl(record),
            id,
          );
        }
        return Number(await runScript(setManyScript, keys, args)) === 1;
      });
    },

    find<K extends RecordKind>(kind: K, id: string, findOptions: FindOptions = {}) {
      return call('find', async () => {
        if (kind === 'family') {
          return (await findFamily(id, findOptions.now ?? Date.now())) as RecordOf[K] | undefined;
        }
        if (cluster) {
          const [d, e, c, s, f] = await redis.hmget(recordKey(kind, id), 'd', 'e', 'c', 's', 'f');
          if (d === null || d === undefined || (await revoked(kind, f))) return undefined;
          return visible<RecordOf[K]>(
            [d, e ?? null, c ?? null, s ?? null],
            findOptions.now ?? Date.now(),
            findOptions.includeExpired,
          );
        }
        const reply = (await redis.hmget(recordKey(kind, id), 'd', 'e', 'c', 's')) as Reply;
        return visible<RecordOf[K]>(
          reply,
          findOptions.now ?? Date.now(),
          findOptions.includeExpired,
        );
      });
    },

    consume<K extends ConsumableKind>(
      kind: K,
      id: string,
      now: Timestamp,
      consumeOptions: ConsumeOptions = {},
    ): Promise<ConsumeResult<RecordOf[K]>> {
      return call('consume', async () => {
        const check = cluster ? undefined : consumeOptions.client;
        const reply = (await runScript(
          consumeScript,
          check === undefined
            ? [recordKey(kind, id)]
            : [recordKey(kind, id), recordKey('client', check.id)],
          [
            now,
            consumeOptions.successor ?? '',
            consumeOptions.clientId ?? '',
            consumeOptions.match === undefined ? '' : JSON.stringify(consumeOptions.match),
            check === undefined ? '' : check.data,
            consumeOptions.cnfJkt === undefined ? '' : JSON.stringify(consumeOptions.cnfJkt),
          ],
        )) as [number, string, string, string] | null;
        if (!reply) return { status: 'not_found' };
        if (reply[0] === -1) throw new ClientChangedError(check!.id);
        const [won, data, consumedAt, successor] = reply;
        const record = toRecord<RecordOf[K]>(data, consumedAt, successor);
        if (cluster && (await revoked(kind, (record as { familyId?: string }).familyId))) {
          return { status: 'not_found' };
        }
        return won === 1 ? { status: 'consumed', record } : { status: 'already_consumed', record };
      });
    },

    rotate(request) {
      return call('rotate', async () => {
        const { now } = request;
        const { access } = request;
        const reply = (await runScript(
          rotateScript,
          [
            recordKey(request.kind ?? 'refresh_token', request.id),
            recordKey('refresh_token', request.refresh.id),
            ...(access === undefined ? [] : [recordKey('access_token', access.id)]),
            ...(request.client === undefined ? [] : [recordKey('client', request.client.id)]),
          ],
          [
            prefix,
            now,
            request.successor ?? '',
            request.clientId ?? '',
            now + request.grantTtlMs,
            now + request.refresh.ttlMs,
            request.refresh.id,
            access === undefined ? '' : now + access.ttlMs,
            access?.id ?? '',
            access?.extra === undefined ? '' : JSON.stringify(access.extra),
            retentionMs,
            request.client?.data ?? '',
            request.match === undefined ? '' : JSON.stringify(request.match),
            request.resource === undefined ? '' : JSON.stringify(request.resource),
            (request.kind ?? 'refresh_token') === 'refresh_token' ? '1' : '0',
            request.cnfJkt === undefined ? '' : JSON.stringify(request.cnfJkt),
            request.refreshExtra === undefined ? '' : JSON.stringify(request.refreshExtra),
          ],
        )) as [number, string, string, string] | null;
        if (!reply) return { status: 'not_found' };
        if (reply[0] === -1) throw new ClientChangedError(request.client!.id);
        const [status, data, consumedAt, successor] = reply;
        const record = toRecord<RecordOf['refresh_token'] | RecordOf['authorization_code']>(
          data,
          consumedAt,
          successor,
        );
        if (status === 1) return { status: 'consumed', record };
        if (status === 2) return { status: 'family_revoked', record };
        return { status: 'already_consumed', record };
      });
    },

    delete(kind, id) {
      return call('delete', async () => {
        // The expiry entry first: a sweep that has not claimed it yet will not; one that has
        // finds the record gone and reports an expiry that this delete overtook.
        if (kind === 'client') await redis.zrem(clientExpiryKey, id);
        if (cluster) return deleteInCluster(kind, id);
        const removed = await runScript(deleteRecord, [recordKey(kind, id)], [prefix, kind, id]);
        return removed === 1;
      });
    },

    revokeFamily(familyId, revokeOptions = {}) {
      return call('revokeFamily', async () => {
        const now = revokeOptions.now ?? Date.now();
        const retainMs = Math.max(1, (revokeOptions.retainUntil ?? now) - now) + retentionMs;
        if (cluster) {
          // The feed lives in another slot than the family: its access tokens are listed before
          // the marker is set (a failure after leaves them listed, never unlisted and revoked),
          // and those admitted meanwhile right after; then the records are deleted.
          const before = await redis.smembers(familyKey(familyId));
          await feedInCluster(before, now);
          const members = (await runScript(
            clusterRevoke,
            [familyKey(familyId), markerKey(familyId)],
            [now, retainMs],
          )) as string[];
          const listed = new Set(before);
          await feedInCluster(
            members.filter((key) => !listed.has(key)),
            now,
          );
          const removed = await Promise.all(members.map((key) => redis.del(key)));
          return removed.reduce((sum: number, n) => sum + Number(n), 0);
        }
        return Number(
          await runScript(
            revokeFamilyScript,
            [familyKey(familyId), markerKey(familyId), ...feedKeys],
            [now, retainMs, digits(now), accessTokenKeys],
          ),
        );
      });
    },

    revokeAccessToken(id, now) {
      return call('revokeAccessToken', async () => {
        if (cluster) {
          // Listed first (another slot), then deleted: a failure between leaves it listed.
          await feedInCluster([recordKey('access_token', id)], now);
          return deleteInCluster('access_token', id);
        }
        const removed = await runScript(
          revokeAccessTokenScript,
          [recordKey('access_token', id), ...feedKeys],
          [prefix, id, now, digits(now), accessTokenKeys],
        );
        return Number(removed) === 1;
      });
    },

    listRevokedAccessTokens({ after, limit, now }) {
      return call('listRevokedAccessTokens', async () => {
        const reply = (await runScript(feedList, feedKeys, [
          `(${feedMember(after.revokedAt, after.id)}`,
          now,
          limit,
        ])) as string[];
        const out: RevokedAccessToken[] = [];
        for (let i = 0; i < reply.length; i += 2) {
          const member = reply[i]!;
          out.push({
            id: member.slice(16),
            revokedAt: Number(member.slice(0, 15)),
            expiresAt: Number(reply[i + 1]),
          });
        }
        return out;
      });
    },

    remember(key, expiresAt, now) {
      return call('remember', async () => {
        const reply = await runScript(rememberScript, [await replayKey(key)], [expiresAt, now]);
        return Number(reply) === 1;
      });
    },

    listByUser<K extends UserKind>(kind: K, userId: string, readOptions: ReadOptions = {}) {
      return call('listByUser', () =>
        readIndexed<RecordOf[K]>(userKey(kind, userId), kind, readOptions.now ?? Date.now()),
      );
    },

    list<K extends 'client' | 'signing_key'>(
      kind: K,
      listOptions: ReadOptions & { limit?: number } = {},
    ) {
      return call('list', () =>
        readIndexed<RecordOf[K]>(
          kindKey(kind),
          kind,
          listOptions.now ?? Date.now(),
          listOptions.limit ?? 1000,
        ),
      );
    },

    purgeExpired(now = Date.now()) {
      // Redis drops keys on its own; this only removes the ones still in their retention time.
      return call('purgeExpired', async () => {
        // The feed's expired entries, a thousand per script call (a page of nothing).
        while ((await redis.zcount(feedKeys[1]!, '-inf', now)) > 0) {
          await runScript(feedList, feedKeys, ['[~', now, 0]);
        }
        let removed = 0;
        const nodes = cluster ? (redis as Cluster).nodes('master') : [redis as Redis];
        for (const node of nodes) {
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}r:*`, 'COUNT', 500);
            cursor = next;
            for (const key of keys) {
              const expires = await redis.hget(key, 'e');
              if (expires && Number(expires) <= now) {
                const [, kind, ...rest] = key.slice(prefix.length).split(':');
                removed += cluster
                  ? Number(await deleteInCluster(kind as RecordKind, rest.join(':')))
                  : Number(await runScript(deleteRecord, [key], [prefix, kind!, rest.join(':')]));
              }
            }
          } while (cursor !== '0');
        }
        return removed;
      });
    },

    async close() {},
  };
  // A rotation touches its record, the successor's, the family's keys and the user sets, and
  // setAndFind two records: keys of several slots, so on a cluster the facade takes separate
  // steps instead.
  if (cluster) {
    delete adapter.rotate;
    delete adapter.setAndFind;
  }
  const storeRecord = adapter.set;
  adapter.set = (kind, id, record) => {
    const stored = storeRecord(kind, id, record);
    if (kind !== 'client') return stored;
    return stored.then(async (done) => {
      // After the record: an entry never names a client that was not stored. Written apart
      // from it, so the sweep reads the record before it reports or deletes anything.
      await call('set', () =>
        record.expiresAt === null
          ? redis.zrem(clientExpiryKey, id)
          : redis.zadd(clientExpiryKey, record.expiresAt, id),
      );
      return done;
    });
  };
  return adapter;
}
