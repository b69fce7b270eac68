import { assertReplayArgs } from '../lib/replay-args.js';
import type { ReplayStore } from '../replay.js';
import {
  backgroundPurge,
  checkPostgresArgs,
  connect,
  purgeIntervalMs,
  statementName,
} from './connection.js';
import type { Queryable } from './queryable.js';

/** Options of `postgresReplayStore`. */
export interface PostgresReplayStoreOptions {
  /** Schema that holds the table; created when missing. Default `public`. */
  schema?: string;
  /** Prefix of the table name (`<prefix>replay`). Default `portcullis_`. */
  tablePrefix?: string;
  /** Longest wait for Postgres before `remember` rejects. Default 2000 ms; 0 leaves it to the driver. */
  timeoutMs?: number;
  /** Seconds between deletions of expired keys, run in the background. Default 60. */
  purgeIntervalSeconds?: number;
}

/** A `ReplayStore` on Postgres or PGlite, with the table it writes. */
export interface PostgresReplayStore extends ReplayStore {
  /** The quoted, schema-qualified table, e.g. `"public"."portcullis_replay"`. */
  readonly table: string;
  /** Creates the table now (otherwise done on first use); safe to call again. */
  migrate(): Promise<void>;
}

/** The database's clock in epoch ms: one clock for every instance, as Redis `PXAT` has. */
const NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * Replay store on Postgres or PGlite, shared by every instance on the database: each `remember`
 * is ONE statement — an insert that, on a held key, replaces it only if it has expired — so of
 * any number of concurrent calls for a key exactly one gets `true`. Expiry is judged by the
 * database's clock. Expired keys are deleted in the background every `purgeIntervalSeconds`,
 * so the table holds about (keys per second × their lifetime). Failures and timeouts reject as
 * `StoreUnavailableError`: refuse the request (503), never accept it. Node.js only.
 *
 * @example
 * import pg from 'pg';
 * import { postgresReplayStore } from '@portcullis/rate-limit/postgres';
 * const replay = postgresReplayStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * await verifyProof(proof, { ...checks, replay }); // @portcullis/dpop
 */
export function postgresReplayStore(
  db: Queryable,
  options: PostgresReplayStoreOptions = {},
): PostgresReplayStore {
  const schema = options.schema ?? 'public';
  const prefix = options.tablePrefix ?? 'portcullis_';
  checkPostgresArgs(db, schema, prefix);
  const purgeEveryMs = purgeIntervalMs(options.purgeIntervalSeconds);
  const table = `"${schema}"."${prefix}replay"`;
  const lock = `hashtext('portcullis-replay:' || '${table.replaceAll("'", "''")}')`;
  const { migrate, query } = connect(db, {
    migration: `SELECT pg_advisory_xact_lock(${lock});
${schema === 'public' ? '' : `CREATE SCHEMA IF NOT EXISTS "${schema}";`}
CREATE TABLE IF NOT EXISTS ${table} (
  key        text   PRIMARY KEY,
  expires_at bigint NOT NULL
);`,
    timeoutMs: options.timeoutMs ?? 2000,
    what: 'replay store',
  });
  const remember = `INSERT INTO ${table} AS r (key, expires_at) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE r.expires_at <= ${NOW_MS}
RETURNING 1 AS fresh`;
  const rememberName = statementName('portcullis_replay', remember);

  const maybePurge = backgroundPurge(
    () => query(`DELETE FROM ${table} WHERE expires_at <= ${NOW_MS}`, []),
    purgeEveryMs,
  );

  return {
    table,
    migrate,
    async remember(key, expiresAtMs) {
      assertReplayArgs(key, expiresAtMs);
      const { rows } = await query(remember, [key, expiresAtMs], rememberName);
      maybePurge();
      return rows.length === 1;
    },
  };
}
