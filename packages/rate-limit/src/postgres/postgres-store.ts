import { StoreUnavailableError } from '../errors.js';
import type {
  RateLimitAlgorithm,
  RateLimitAlgorithmName,
  RateLimitStore,
  StoreDecision,
} from '../types.js';
import {
  backgroundPurge,
  checkPostgresArgs,
  connect,
  purgeIntervalMs,
  statementName,
} from './connection.js';
import type { Queryable } from './queryable.js';
import { createStatements, decisionStatement } from './statements.js';

/** Options of `postgresStore`. */
export interface PostgresStoreOptions {
  /** Schema that holds the table; created when missing. Default `public`. */
  schema?: string;
  /** Prefix of the table name (`<prefix>rate_limits`). Default `portcullis_`. */
  tablePrefix?: string;
  /**
   * Longest wait for Postgres before the decision counts as a store failure (answered per
   * `failMode`). Default 2000 ms; 0 leaves it to the driver.
   */
  timeoutMs?: number;
  /** Seconds between deletions of idle rows, run in the background by decisions. Default 60. */
  purgeIntervalSeconds?: number;
}

/** A `RateLimitStore` on Postgres or PGlite, with the table it writes. */
export interface PostgresStore extends RateLimitStore {
  /** The quoted, schema-qualified table, e.g. `"public"."portcullis_rate_limits"`. */
  readonly table: string;
  /** Creates the table now (otherwise done on first use); safe to call again. */
  migrate(): Promise<void>;
}

interface DecisionRow {
  ok: boolean;
  remaining: string | number | bigint;
  reset_us: string | number | bigint;
  retry_us: string | number | bigint;
}

/**
 * Store on Postgres, through a `pg` Pool/Client or a PGlite instance (the same SQL on both):
 * shared by every instance on one database. Each decision is ONE statement — `INSERT … ON
 * CONFLICT (key) DO UPDATE … RETURNING` — that decides and updates under the row's lock, so
 * concurrent decisions on a key from any number of processes are exact. The time is the
 * server's, so instances whose clocks disagree share one window. On `pg` each connection
 * prepares the statement once. The table is created on first use; idle rows are deleted in the
 * background every `purgeIntervalSeconds`. Driver errors and timeouts reject as
 * `StoreUnavailableError` (the limiter answers per `failMode`). The store never closes `db`.
 * Node.js only.
 *
 * @example
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600), store: postgresStore(pool) });
 */
export function postgresStore(db: Queryable, options: PostgresStoreOptions = {}): PostgresStore {
  const schema = options.schema ?? 'public';
  const prefix = options.tablePrefix ?? 'portcullis_';
  checkPostgresArgs(db, schema, prefix);
  const purgeEveryMs = purgeIntervalMs(options.purgeIntervalSeconds);
  const table = `"${schema}"."${prefix}rate_limits"`;
  const { migrate, query } = connect(db, {
    migration: createStatements(`"${schema}"`, table),
    timeoutMs: options.timeoutMs ?? 2000,
    what: 'rate-limit store',
  });
  const statements = new Map<RateLimitAlgorithmName, { name: string; text: string }>();

  function statement(algorithm: RateLimitAlgorithmName) {
    let found = statements.get(algorithm);
    if (!found) {
      const text = decisionStatement(table, algorithm);
      found = { name: statementName('portcullis_rl', text), text };
      statements.set(algorithm, found);
    }
    return found;
  }

  const maybePurge = backgroundPurge(
    () =>
      query(
        `DELETE FROM ${table} WHERE expires_at < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`,
        [],
      ),
    purgeEveryMs,
  );

  return {
    table,
    migrate,
    async consume(
      key: string,
      algorithm: RateLimitAlgorithm,
      cost: number,
    ): Promise<StoreDecision> {
      const { name, text } = statement(algorithm.name);
      const { rows } = await query(text, [key, ...algorithm.args, cost], name);
      maybePurge();
      const row = rows[0] as DecisionRow | undefined;
      if (!row) throw new StoreUnavailableError(`the ${algorithm.name} statement returned no row`);
      return {
        allowed: row.ok === true,
        remaining: Number(row.remaining),
        resetAfterUs: Number(row.reset_us),
        retryAfterUs: Number(row.retry_us),
      };
    },
    async clear(key: string): Promise<void> {
      await query(`DELETE FROM ${table} WHERE key = $1`, [key]);
    },
  };
}
