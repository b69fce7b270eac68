import { ClientChangedError, StoreUnavailableError } from '../errors.js';
import { CodedTypeError, describe } from '../lib/errors.js';
import { isExpired } from '../lib/expiry.js';
import { bindingAllows, matches } from '../lib/matches.js';
import { rotatedRecords } from '../lib/rotation.js';
import { sha256Now } from '../lib/sha256.js';
import type {
  ConsumableKind,
  ConsumeOptions,
  ConsumeResult,
  FamilyRecord,
  FindOptions,
  ReadOptions,
  RecordKind,
  RecordOf,
  StoreAdapter,
  Timestamp,
  UserKind,
  WritableKind,
} from '../types.js';
import { clientCacheFor } from './client-cache.js';
import { IDENTIFIER, migrate, type Tables, tablesFor } from './migrations.js';
import { hasRawProtocol, pgliteQueryable } from './pglite-protocol.js';
import { changedRows, isQueryable, type Queryable } from './queryable.js';

export interface PostgresAdapterOptions {
  /** Schema that holds the tables; created when missing. Default `public`. */
  schema?: string;
  /** Prefix of the table names (`<prefix>records`, `<prefix>migrations`). Default `portcullis_`. */
  tablePrefix?: string;
  /** How long an expired record is kept (and reported as expired) before the automatic purge. Default 300. */
  expiredRetentionSeconds?: number;
  /** Seconds between automatic purges, run as a side effect of writes. Default 60. */
  purgeIntervalSeconds?: number;
  /**
   * Send the adapter's queries as named prepared statements, parsed and planned once per
   * connection. Default `true` for a `pg` Pool or Client and for PGlite (through its
   * `execProtocolRaw`, one call into its backend per statement). Set `false` behind a pooler that
   * cannot carry prepared statements across transactions (PgBouncer in transaction mode before
   * 1.21), or to send PGlite its statements through its own `query`.
   */
  preparedStatements?: boolean;
  /**
   * Serve client records from memory, kept exact by this process's writes (see README). Default
   * `true` on PGlite, which one process owns, and `false` on a `pg` Pool or Client: never turn it
   * on for a database that another process or anything but this adapter writes.
   */
  cacheClients?: boolean;
}

/** A `StoreAdapter` on Postgres or PGlite, with the name of the table it writes, for tests and tools. */
export interface PostgresAdapter extends StoreAdapter {
  /** The quoted, schema-qualified records table, e.g. `"public"."portcullis_records"`. */
  readonly table: string;
  /** Applies the migrations now (otherwise done on first use); safe to call again. */
  migrate(): Promise<void>;
}

interface NamedQueryable {
  query(config: { name: string; text: string; values: unknown[] }): ReturnType<Queryable['query']>;
}

interface Row {
  data: Record<string, unknown>;
  expires_at: string | number | bigint | null;
  consumed_at: string | number | bigint | null;
}

const FAMILY_KINDS = ['authorization_code', 'access_token', 'refresh_token'];

/**
 * How long a family's row is kept for a record of it: to the grant's end when the record knows
 * it (never before the record's own expiry). Every token of a grant ends by then, so the row's
 * expiry is set at its birth and the later writes of the grant leave it unchanged: its update
 * then touches no indexed column and stays on its page (a HOT update, no index entries).
 */
function familyExpiry(record: { expiresAt: Timestamp | null; grantExpiresAt?: Timestamp }) {
  const { expiresAt, grantExpiresAt } = record;
  if (expiresAt === null) return null;
  return grantExpiresAt === undefined ? expiresAt : Math.max(expiresAt, grantExpiresAt);
}

/**
 * A `StoreAdapter` on Postgres, through either a `pg` Pool/Client or a PGlite instance: the
 * same SQL on both. The schema is migrated idempotently on first use. Lookup is by primary key
 * `(kind, id)` where `id` is the SHA-256 of the secret; consuming is a single
 * `UPDATE … WHERE consumed_at IS NULL RETURNING`, so exactly one concurrent caller wins. A
 * family (grant) has a row of its own (`kind = 'family'`, `consumed_at` = revoked at): every
 * write of a code or token upserts it in the same statement and proceeds only while it is not
 * revoked, holding its row lock until commit; revocation updates that row (waiting for those
 * locks), then deletes the family's records in a new statement that sees every write that got
 * in first. So no interleaving leaves a record of a revoked family stored.
 * Every driver error rejects as `StoreUnavailableError`. The adapter never closes the `db`
 * it was given.
 *
 * @example
 * import { PGlite } from '@electric-sql/pglite';
 * const store = createTokenStore({ adapter: postgresAdapter(new PGlite('.data/tokens')) });
 * // or: postgresAdapter(new pg.Pool({ connectionString: process.env.DATABASE_URL }))
 */
export function postgresAdapter(
  db: Queryable,
  options: PostgresAdapterOptions = {},
): PostgresAdapter {
  if (!isQueryable(db)) {
    throw new CodedTypeError(
      `"db" must be a pg Pool/Client or a PGlite instance, received ${describe(db)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const schema = options.schema ?? 'public';
  const prefix = options.tablePrefix ?? 'portcullis_';
  if (!IDENTIFIER.test(schema) || !(prefix === '' || IDENTIFIER.test(prefix))) {
    throw new CodedTypeError(
      '"schema" and "tablePrefix" must be SQL identifiers: letters, digits and _, not starting with a digit',
      'ERR_INVALID_ARG_VALUE',
    );
  }
  // A pg Pool emits 'error' when an idle connection dies (server restart); with no listener
  // Node would crash the process. The next query then fails as StoreUnavailableError instead.
  const emitter = db as {
    on?: (event: string, fn: () => void) => void;
    listenerCount?: (event: string) => number;
  };
  if (typeof emitter.on === 'function' && emitter.listenerCount?.('error') === 0) {
    emitter.on('error', () => undefined);
  }
  const t: Tables = tablesFor(schema, prefix);
  const retentionMs = (options.expiredRetentionSeconds ?? 300) * 1000;
  // Whether the client a grant step was given (`ClientCheck`, in the statement's parameters
  // named here) is stored unchanged and unexpired, as of the statement's snapshot.
  const clientUnchanged = (idParam: string, dataParam: string, nowParam: string) =>
    `SELECT ${idParam}::text IS NULL OR EXISTS (SELECT 1 FROM ${t.records} c WHERE c.kind = 'client'
       AND c.id = ${idParam}::text AND c.data = ${dataParam}::jsonb
       AND (c.expires_at IS NULL OR c.expires_at > ${nowParam}::bigint))`;
  const CLIENT_UNCHANGED = clientUnchanged('$8', '$9', '$3');
  const purgeEveryMs = (options.purgeIntervalSeconds ?? 60) * 1000;
  let ready: Promise<void> | undefined;
  let lastPurge = Date.now();
  let purging: Promise<unknown> | undefined;
  const clients =
    (options.cacheClients ?? hasRawProtocol(db)) ? clientCacheFor(db, t.records) : undefined;

  // node-postgres (and pg-compatible pools such as Neon's) take `{ name, text, values }`; a name
  // derived from the text names each statement once, whatever schema or prefix it uses.
  const prepared =
    options.preparedStatements ?? ('totalCount' in db || 'connectionParameters' in db);
  const names = new Map<string, string | undefined>();
  // PGlite (or a proxy of one): prepared statements through its raw protocol entry.
  const direct =
    options.preparedStatements !== false && hasRawProtocol(db) ? pgliteQueryable(db) : undefined;
  function send(text: string, params: unknown[]) {
    if (direct) return direct.query(text, params);
    if (!prepared) return db.query(text, params);
    let name = names.get(text);
    if (!names.has(text)) {
      const digest = sha256Now(text);
      name = digest === undefined ? undefined : `portcullis_${digest.slice(0, 24)}`;
      names.set(text, name);
    }
    if (name === undefined) return db.query(text, params);
    return (db as unknown as NamedQueryable).query({ name, text, values: params });
  }

  async function query(text: string, params: unknown[] = []) {
    try {
      ready ??= migrate(db, t).catch((error: unknown) => {
        ready = undefined; // try again on the next call, e.g. once the server is back
        throw error;
      });
      await ready;
      return await send(text, params);
    } catch (cause) {
      throw new StoreUnavailableError(
        `Postgres token store failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  function familyOf(row: Row): FamilyRecord {
    const record: FamilyRecord = {
      familyId: String(row.data.familyId),
      createdAt: Number(row.data.createdAt),
      expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    };
    if (row.consumed_at !== null) record.revokedAt = Number(row.consumed_at);
    return record;
  }

  function toRecord<T>(row: Row): T {
    const record = { ...row.data };
    if (row.consumed_at !== null) record.consumedAt = Number(row.consumed_at);
    return record as T;
  }

  function maybePurge(): void {
    const wallClock = Date.now();
    if (purging || wallClock - lastPurge < purgeEveryMs) return;
    lastPurge = wallClock;
    // Background and best effort: a failed purge is retried next interval, never surfaced.
    purging = query(
      `WITH feed AS (DELETE FROM ${t.revocations} WHERE expires_at <= $2),
       replay AS (DELETE FROM ${t.replay} WHERE expires_at <= $2)
       DELETE FROM ${t.records} WHERE expires_at <= $1`,
      [wallClock - retentionMs, wallClock],
    )
      .catch(() => undefined)
      .finally(() => {
        purging = undefined;
      });
  }

  /**
   * Writes a record; with `also` (a family kind's record only), reads the row `also` names in
   * the same statement: `{ written, row }` then.
   */
  async function write<K extends WritableKind>(
    kind: K,
    id: string,
    record: RecordOf[K],
    also: { kind: RecordKind; id: string },
  ): Promise<{ written: boolean; row: Row | undefined }>;
  async function write<K extends WritableKind>(
    kind: K,
    id: string,
    record: RecordOf[K],
  ): Promise<boolean>;
  async function write<K extends WritableKind>(
    kind: K,
    id: string,
    record: RecordOf[K],
    also?: { kind: RecordKind; id: string },
  ): Promise<boolean | { written: boolean; row: Row | undefined }> {
    const { consumedAt, ...data } = record as typeof record & { consumedAt?: Timestamp };
    const params = [
      kind,
      id,
      (record as { familyId?: string }).familyId ?? null,
      (record as { userId?: string }).userId ?? null,
      record.createdAt,
      record.expiresAt,
      consumedAt ?? null,
      JSON.stringify(data),
    ];
    const upsert = `INSERT INTO ${t.records} (kind, id, family_id, user_id, created_at, expires_at, consumed_at, data)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8::jsonb`;
    const replace = `ON CONFLICT (kind, id) DO UPDATE SET family_id = EXCLUDED.family_id, user_id = EXCLUDED.user_id,
         created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
         consumed_at = EXCLUDED.consumed_at, data = EXCLUDED.data`;
    if (!FAMILY_KINDS.includes(kind)) {
      await query(`${upsert} ${replace}`, params);
      maybePurge();
      return true;
    }
    // The family row is inserted or locked first (ON CONFLICT DO UPDATE sees its latest
    // version and keeps the lock to commit); the record is written only if it is not revoked.
    const family = `family AS (
         INSERT INTO ${t.records} AS r (kind, id, family_id, created_at, expires_at, data)
         VALUES ('family', $3::text, $3::text, $5, $9,
                 jsonb_build_object('familyId', $3::text, 'createdAt', $5::bigint))
         ON CONFLICT (kind, id) DO UPDATE SET expires_at =
           CASE WHEN r.expires_at IS NULL OR EXCLUDED.expires_at IS NULL THEN NULL
                ELSE GREATEST(r.expires_at, EXCLUDED.expires_at) END
         WHERE r.consumed_at IS NULL
         RETURNING 1
       )`;
    if (also !== undefined) {
      // Another key's row, read in the same statement (its snapshot: the write is not in it).
      const { rows } = await query(
        `WITH ${family}, written AS (${upsert} FROM family ${replace} RETURNING 1)
         SELECT (SELECT count(*) FROM written)::int AS written, r.data, r.expires_at, r.consumed_at
         FROM (SELECT 1) AS one LEFT JOIN ${t.records} r ON r.kind = $10 AND r.id = $11`,
        [...params, familyExpiry(record), also.kind, also.id],
      );
      maybePurge();
      const row = rows[0] as Row & { written: number };
      return { written: row.written > 0, row: row.data === null ? undefined : row };
    }
    const { rows } = await query(
      `WITH ${family}
       ${upsert} FROM family ${replace}
       RETURNING 1`,
      [...params, familyExpiry(record)],
    );
    maybePurge();
    return rows.length > 0;
  }

  async function read<K extends RecordKind>(kind: K, id: string, findOptions: FindOptions) {
    const { rows } = await query(
      `SELECT data, expires_at, consumed_at FROM ${t.records} WHERE kind = $1 AND id = $2`,
      [kind, id],
    );
    return recordOfRow(kind, rows[0] as Row | undefined, findOptions);
  }

  function recordOfRow<K extends RecordKind>(
    kind: K,
    row: Row | undefined,
    findOptions: FindOptions,
  ): RecordOf[K] | undefined {
    if (!row) return undefined;
    const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
    if (!findOptions.includeExpired && isExpired(expiresAt, findOptions.now ?? Date.now())) {
      return undefined;
    }
    if (kind === 'family') return familyOf(row) as RecordOf[K];
    return toRecord<RecordOf[K]>(row);
  }

  const adapter: PostgresAdapter = {
    table: t.records,
    // Where clients are cached exactly (PGlite), a grant step need not check them.
    checksClients: clients === undefined,

    async migrate() {
      await query('SELECT 1');
    },

    set(kind, id, record) {
      if (kind === 'client' && clients) return clients.write(id, () => write(kind, id, record));
      return write(kind, id, record);
    },

    async setAndFind(kind, id, record, also) {
      // On PGlite (no round trip to save) the two plain statements cost less than the one (measured).
      if (direct || !FAMILY_KINDS.includes(kind) || also.kind === 'client') {
        const written = await adapter.set(kind, id, record);
        return { written, found: await adapter.find(also.kind, also.id, { now: also.now }) };
      }
      const { written, row } = await write(kind, id, record, also);
      return { written, found: recordOfRow(also.kind, row, { now: also.now }) };
    },

    async find<K extends RecordKind>(kind: K, id: string, findOptions: FindOptions = {}) {
      if (kind !== 'client' || !clients || findOptions.includeExpired) {
        return read(kind, id, findOptions);
      }
      const now = findOptions.now ?? Date.now();
      return (clients.get(id, now) ??
        (await clients.fill(id, () => read('client', id, findOptions)))) as RecordOf[K] | undefined;
    },

    async setMany(entries) {
      const first = entries[0];
      if (first === undefined) return true;
      const familyId = first.record.familyId;
      let createdAt = first.record.createdAt;
      let expiresAt: number | null = familyExpiry(first.record);
      const rows = entries.map(({ kind, id, record }) => {
        const { consumedAt, ...data } = record as typeof record & { consumedAt?: Timestamp };
        createdAt = Math.min(createdAt, record.createdAt);
        const until = familyExpiry(record);
        expiresAt = expiresAt === null || until === null ? null : Math.max(expiresAt, until);
        return {
          kind,
          id,
          user_id: record.userId ?? null,
          created_at: record.createdAt,
          expires_at: record.expiresAt,
          consumed_at: consumedAt ?? null,
          data,
        };
      });
      // One statement, so one implicit transaction and one round trip: the family row is
      // upserted (and locked) as in `set`, and the records are written only if it is not revoked.
      const { rows: written } = await query(
        `WITH family AS (
           INSERT INTO ${t.records} AS r (kind, id, family_id, created_at, expires_at, data)
           VALUES ('family', $1::text, $1::text, $2, $3,
                   jsonb_build_object('familyId', $1::text, 'createdAt', $2::bigint))
           ON CONFLICT (kind, id) DO UPDATE SET expires_at =
             CASE WHEN r.expires_at IS NULL OR EXCLUDED.expires_at IS NULL THEN NULL
                  ELSE GREATEST(r.expires_at, EXCLUDED.expires_at) END
           WHERE r.consumed_at IS NULL
           RETURNING 1
         )
         INSERT INTO ${t.records} (kind, id, family_id, user_id, created_at, expires_at, consumed_at, data)
         SELECT v.kind, v.id, $1::text, v.user_id, v.created_at, v.expires_at, v.consumed_at, v.data
         FROM family, jsonb_to_recordset($4::jsonb) AS v(kind text, id text, user_id text,
           created_at bigint, expires_at bigint, consumed_at bigint, data jsonb)
         ON CONFLICT (kind, id) DO UPDATE SET family_id = EXCLUDED.family_id, user_id = EXCLUDED.user_id,
           created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
           consumed_at = EXCLUDED.consumed_at, data = EXCLUDED.data
         RETURNING 1`,
        [familyId, createdAt, expiresAt, JSON.stringify(rows)],
      );
      maybePurge();
      return written.length > 0;
    },

    async consume<K extends ConsumableKind>(
      kind: K,
      id: string,
      now: Timestamp,
      consumeOptions: ConsumeOptions = {},
    ): Promise<ConsumeResult<RecordOf[K]>> {
      // Under READ COMMITTED a concurrent UPDATE waits for the winner, then re-checks the WHERE
      // on the new row version and matches nothing: exactly one caller gets the row back.
      const clientId = consumeOptions.clientId ?? null;
      const match = consumeOptions.match;
      const update = `UPDATE ${t.records} SET consumed_at = $3,
           data = CASE WHEN $4::text IS NULL THEN data ELSE jsonb_set(data, '{successor}', to_jsonb($4::text)) END
         WHERE kind = $1 AND id = $2 AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
           AND ($5::text IS NULL OR data->>'clientId' = $5::text)
           AND ($6::jsonb IS NULL OR data @> $6::jsonb) AND ${bindingAllowsSql('$7')}`;
      const params = [
        kind,
        id,
        now,
        consumeOptions.successor ?? null,
        clientId,
        match === undefined ? null : JSON.stringify(match),
        cnfJktParam(consumeOptions.cnfJkt),
      ];
      const check = consumeOptions.client;
      const { rows } = await (check === undefined
        ? query(`${update} RETURNING data, expires_at, consumed_at`, params)
        : // The client as the caller read it, checked in the same statement (its snapshot).
          query(
            `WITH client AS (${CLIENT_UNCHANGED} AS ok),
             spent AS (${update} AND (SELECT ok FROM client) RETURNING data, expires_at, consumed_at)
             SELECT c.ok AS client_ok, s.* FROM client c LEFT JOIN spent s ON true`,
            [...params, check.id, check.data],
          ));
      const first = rows[0] as (Row & { client_ok?: boolean }) | undefined;
      if (first?.client_ok === false) throw new ClientChangedError(check!.id);
      if (first?.data === null) rows.length = 0;
      if (rows[0]) return { status: 'consumed', record: toRecord<RecordOf[K]>(rows[0] as Row) };
      const record = await adapter.find(kind, id, { now });
      if (clientId !== null && record?.clientId !== clientId) return { status: 'not_found' };
      if (record === undefined || !matches(record, match)) return { status: 'not_found' };
      if (!bindingAllows(record, consumeOptions.cnfJkt)) return { status: 'not_found' };
      if (record.consumedAt !== undefined) return { status: 'already_consumed', record };
      return { status: 'not_found' };
    },

    async rotate(request) {
      const { now } = request;
      const kind = request.kind ?? 'refresh_token';
      if (direct && kind === 'authorization_code') {
        // On PGlite (no round trip to save) a code's consume and write as two statements cost
        // less than the one (measured); the family marker keeps the pair safe, as in the facade.
        // A RotateRequest carries every ConsumeOptions field (a code's has no successor).
        const consumed = await adapter.consume(kind, request.id, now, request);
        if (consumed.status !== 'consumed') return consumed;
        const { refresh, access } = rotatedRecords(consumed.record, request);
        const written = await adapter.setMany!([
          { kind: 'refresh_token', id: request.refresh.id, record: refresh },
          ...(access === undefined || request.access === undefined
            ? []
            : [{ kind: 'access_token' as const, id: request.access.id, record: access }]),
        ]);
        return written ? consumed : { status: 'family_revoked', record: consumed.record };
      }
      // One statement, so one implicit transaction and one round trip. `spent` is `consume`'s
      // UPDATE (under READ COMMITTED a concurrent one waits for the winner, re-checks its WHERE on
      // the new row version and matches nothing: exactly one caller wins); `family` upserts and
      // locks the family row as `set` does and yields nothing when the family is revoked;
      // `written` stores the successor and the access token only then. The new records are
      // `rotatedRecords` in SQL. A caller that did not win gets the row as its snapshot saw it.
      const { rows } = await query(
        `WITH client AS (${clientUnchanged('$11', '$12', '$2')} AS ok),
         spent AS (
           UPDATE ${t.records} SET consumed_at = $2,
             data = CASE WHEN $3::text IS NULL THEN data ELSE jsonb_set(data, '{successor}', to_jsonb($3::text)) END
           WHERE kind = $13::text AND id = $1 AND consumed_at IS NULL
             AND (expires_at IS NULL OR expires_at > $2) AND ($4::text IS NULL OR data->>'clientId' = $4::text)
             AND ($14::jsonb IS NULL OR data @> $14::jsonb) AND ${bindingAllowsSql('$16')}
             AND (SELECT ok FROM client)
           RETURNING family_id, user_id, data, expires_at, consumed_at,
             COALESCE((data->>'grantExpiresAt')::bigint, $2::bigint + $5::bigint) AS grant_end,
             COALESCE(NULLIF(data->'resource', 'null'::jsonb), to_jsonb($15::text)) AS resource
         ),
         fresh AS (
           SELECT v.kind, v.id, s.family_id, s.user_id, LEAST($2::bigint + v.ttl, s.grant_end) AS expires_at,
             jsonb_build_object('familyId', s.data->'familyId', 'grantExpiresAt', s.grant_end,
               'clientId', s.data->'clientId', 'userId', s.data->'userId', 'scopes', s.data->'scopes',
               'createdAt', $2::bigint, 'expiresAt', LEAST($2::bigint + v.ttl, s.grant_end))
             || CASE WHEN s.resource IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('resource', s.resource) END
             || CASE WHEN v.kind = 'access_token'
                  THEN CASE WHEN $10::jsonb IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('extra', $10::jsonb) END
                  WHEN $13::text = 'refresh_token' THEN CASE WHEN s.data ? 'extra'
                    THEN jsonb_build_object('extra', s.data->'extra') ELSE '{}'::jsonb END
                  WHEN $17::jsonb IS NOT NULL THEN jsonb_build_object('extra', $17::jsonb)
                  ELSE '{}'::jsonb END AS data
           FROM spent s, (VALUES ('refresh_token', $6::text, $7::bigint),
                                 ('access_token', $8::text, $9::bigint)) AS v(kind, id, ttl)
           WHERE v.id IS NOT NULL
         ),
         family AS (
           INSERT INTO ${t.records} AS r (kind, id, family_id, created_at, expires_at, data)
           SELECT 'family', s.family_id, s.family_id, $2, s.grant_end,
                  jsonb_build_object('familyId', s.family_id, 'createdAt', $2::bigint)
           FROM spent s
           ON CONFLICT (kind, id) DO UPDATE SET expires_at =
             CASE WHEN r.expires_at IS NULL OR EXCLUDED.expires_at IS NULL THEN NULL
                  ELSE GREATEST(r.expires_at, EXCLUDED.expires_at) END
           WHERE r.consumed_at IS NULL
           RETURNING 1
         ),
         written AS (
           INSERT INTO ${t.records} (kind, id, family_id, user_id, created_at, expires_at, consumed_at, data)
           SELECT f.kind, f.id, f.family_id, f.user_id, $2, f.expires_at, NULL, f.data FROM family, fresh f
           ON CONFLICT (kind, id) DO UPDATE SET family_id = EXCLUDED.family_id, user_id = EXCLUDED.user_id,
             created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
             consumed_at = EXCLUDED.consumed_at, data = EXCLUDED.data
           RETURNING 1
         )
         SELECT c.ok AS client_ok, x.* FROM client c LEFT JOIN (
           SELECT s.data, s.expires_at, s.consumed_at, (SELECT count(*) FROM written)::int AS written
           FROM spent s
           UNION ALL
           SELECT r.data, r.expires_at, r.consumed_at, -1 FROM ${t.records} r
           WHERE r.kind = $13::text AND r.id = $1 AND NOT EXISTS (SELECT 1 FROM spent)
         ) x ON true`,
        [
          request.id,
          now,
          request.successor ?? null,
          request.clientId ?? null,
          request.grantTtlMs,
          request.refresh.id,
          request.refresh.ttlMs,
          request.access?.id ?? null,
          request.access?.ttlMs ?? null,
          request.access?.extra === undefined ? null : JSON.stringify(request.access.extra),
          request.client?.id ?? null,
          request.client?.data ?? null,
          kind,
          request.match === undefined ? null : JSON.stringify(request.match),
          request.resource ?? null,
          cnfJktParam(request.cnfJkt),
          request.refreshExtra === undefined ? null : JSON.stringify(request.refreshExtra),
        ],
      );
      maybePurge();
      const row = rows[0] as (Row & { written: number | null; client_ok: boolean }) | undefined;
      if (row?.client_ok === false) throw new ClientChangedError(request.client!.id);
      if (row === undefined || row.data === null || row.written === null) {
        return { status: 'not_found' };
      }
      const record = toRecord<RecordOf['refresh_token'] | RecordOf['authorization_code']>(row);
      if (row.written >= 0) {
        return row.written > 0
          ? { status: 'consumed', record }
          : { status: 'family_revoked', record };
      }
      // Not ours: another client's, expired, spent before, or spent by a concurrent winner after
      // this statement's snapshot was taken (then read again, in a new snapshot).
      const seen =
        row.consumed_at !== null ? record : await adapter.find(kind, request.id, { now });
      if (seen === undefined || seen.consumedAt === undefined || isExpired(seen.expiresAt, now)) {
        return { status: 'not_found' };
      }
      if (!matches(seen, request.match)) return { status: 'not_found' };
      if (request.clientId !== undefined && seen.clientId !== request.clientId) {
        return { status: 'not_found' };
      }
      if (!bindingAllows(seen, request.cnfJkt)) return { status: 'not_found' };
      return { status: 'already_consumed', record: seen };
    },

    delete(kind, id) {
      const remove = async () =>
        changedRows(
          await query(`DELETE FROM ${t.records} WHERE kind = $1 AND id = $2`, [kind, id]),
        ) > 0;
      return kind === 'client' && clients ? clients.write(id, remove) : remove();
    },

    async revokeFamily(familyId, revokeOptions = {}) {
      const now = revokeOptions.now ?? Date.now();
      // First the marker: this waits for every write of the family that holds the family row,
      // and every later write sees it. Then, in a new statement (a new snapshot), the records.
      await query(
        `INSERT INTO ${t.records} AS r (kind, id, family_id, created_at, expires_at, consumed_at, data)
         VALUES ('family', $1::text, $1::text, $2, $3, $2,
                 jsonb_build_object('familyId', $1::text, 'createdAt', $2::bigint))
         ON CONFLICT (kind, id) DO UPDATE SET
           consumed_at = COALESCE(r.consumed_at, EXCLUDED.consumed_at),
           expires_at = CASE WHEN r.expires_at IS NULL THEN NULL
                             ELSE GREATEST(r.expires_at, EXCLUDED.expires_at) END`,
        [familyId, now, revokeOptions.retainUntil ?? now],
      );
      // The unexpired access tokens it deletes enter the revocation feed in the same statement.
      const { rows } = await query(
        `WITH gone AS (
           DELETE FROM ${t.records} WHERE family_id = $1
             AND kind IN ('authorization_code', 'access_token', 'refresh_token')
           RETURNING kind, id, expires_at
         ),
         fed AS (
           INSERT INTO ${t.revocations} (id, expires_at, revoked_at)
           SELECT id, expires_at, $2 FROM gone
           WHERE kind = 'access_token' AND expires_at > $2
           ON CONFLICT (id) DO NOTHING
         )
         SELECT count(*)::int AS n FROM gone`,
        [familyId, now],
      );
      return Number((rows[0] as { n: number }).n);
    },

    async revokeAccessToken(id, now) {
      const { rows } = await query(
        `WITH gone AS (
           DELETE FROM ${t.records} WHERE kind = 'access_token' AND id = $1 RETURNING id, expires_at
         ),
         fed AS (
           INSERT INTO ${t.revocations} (id, expires_at, revoked_at)
           SELECT id, expires_at, $2 FROM gone WHERE expires_at > $2
           ON CONFLICT (id) DO NOTHING
         )
         SELECT count(*)::int AS n FROM gone`,
        [id, now],
      );
      return Number((rows[0] as { n: number }).n) > 0;
    },

    async listRevokedAccessTokens({ after, limit, now }) {
      // A row comparison on the (revoked_at, id) index; ids compare bytewise (COLLATE "C").
      const { rows } = await query(
        `SELECT id, expires_at, revoked_at FROM ${t.revocations}
         WHERE (revoked_at, id) > ($1::bigint, $2::text) AND expires_at > $3
         ORDER BY revoked_at, id LIMIT $4`,
        [after.revokedAt, after.id, now, limit],
      );
      return (rows as { id: string; expires_at: unknown; revoked_at: unknown }[]).map((row) => ({
        id: row.id,
        expiresAt: Number(row.expires_at),
        revokedAt: Number(row.revoked_at),
      }));
    },

    async listByUser<K extends UserKind>(kind: K, userId: string, readOptions: ReadOptions = {}) {
      const { rows } = await query(
        `SELECT data, expires_at, consumed_at FROM ${t.records}
         WHERE kind = $1 AND user_id = $2 AND (expires_at IS NULL OR expires_at > $3)
         ORDER BY created_at`,
        [kind, userId, readOptions.now ?? Date.now()],
      );
      return (rows as Row[]).map((row) => toRecord<RecordOf[K]>(row));
    },

    async list<K extends 'client' | 'signing_key'>(
      kind: K,
      listOptions: ReadOptions & { limit?: number } = {},
    ) {
      const { rows } = await query(
        `SELECT data, expires_at, consumed_at FROM ${t.records}
         WHERE kind = $1 AND (expires_at IS NULL OR expires_at > $2)
         ORDER BY created_at LIMIT $3`,
        [kind, listOptions.now ?? Date.now(), listOptions.limit ?? 1000],
      );
      return (rows as Row[]).map((row) => toRecord<RecordOf[K]>(row));
    },

    async sweepExpiredClients(now, limit) {
      // Oldest expiry first, through the expires_at index; rows another sweep holds are skipped,
      // and DELETE … RETURNING names only the rows this statement removed. The pick is
      // materialized, read once: as an IN (subquery) the planner may run it again per row
      // (seen on PGlite), each run taking the next `limit` rows.
      const { rows } = await query(
        `WITH picked AS MATERIALIZED (
           SELECT id FROM ${t.records} WHERE kind = 'client' AND expires_at <= $1
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         DELETE FROM ${t.records} WHERE kind = 'client' AND id IN (SELECT id FROM picked)
         RETURNING id`,
        [now, limit],
      );
      return (rows as { id: string }[]).map((row) => row.id);
    },

    async purgeExpired(now = Date.now()) {
      const { rows } = await query(
        `WITH feed AS (DELETE FROM ${t.revocations} WHERE expires_at <= $1),
         replay AS (DELETE FROM ${t.replay} WHERE expires_at <= $1 RETURNING 1),
         records AS (DELETE FROM ${t.records} WHERE expires_at <= $1 RETURNING 1)
         SELECT (SELECT count(*) FROM replay)::int + (SELECT count(*) FROM records)::int AS n`,
        [now],
      );
      return Number((rows[0] as { n: number }).n);
    },

    async remember(key, expiresAt, now) {
      // One statement: a new key is inserted; a held one is replaced only when its entry has
      // expired. Concurrent inserts of one key wait for the first to commit, then see its row
      // (unexpired: no row returned), so exactly one caller gets a row back.
      const { rows } = await query(
        `INSERT INTO ${t.replay} AS r (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE r.expires_at <= $3
         RETURNING 1`,
        [key, expiresAt, now],
      );
      maybePurge();
      return rows.length > 0;
    },

    async close() {
      await purging;
    },
  };
  // PGlite without prepared statements parses and plans every statement anew: there the one
  // rotation statement costs more than the two small ones it replaces (and no round trip is saved).
  if (hasRawProtocol(db) && !direct) delete adapter.rotate;
  return adapter;
}

/**
 * `ConsumeOptions.cnfJkt` in SQL, its value the parameter `param` (`cnfJktParam`): no check
 * (NULL), or the record's `extra.cnf.jkt` is not a string, or equals it (a JSON string; JSON
 * null names no key and equals no string).
 */
function bindingAllowsSql(param: string): string {
  return `(${param}::jsonb IS NULL OR jsonb_typeof(data #> '{extra,cnf,jkt}') IS DISTINCT FROM 'string'
    OR data #> '{extra,cnf,jkt}' = ${param}::jsonb)`;
}

/** The parameter of `bindingAllowsSql`: SQL NULL (no check), JSON null (no key) or the key. */
function cnfJktParam(cnfJkt: string | null | undefined): string | null {
  return cnfJkt === undefined ? null : JSON.stringify(cnfJkt);
}
