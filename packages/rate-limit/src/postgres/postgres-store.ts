import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../errors.js';
import { assertPositiveInteger, CodedTypeError, describe } from '../lib/errors.js';
import type {
  RateLimitAlgorithm,
  RateLimitAlgorithmName,
  RateLimitStore,
  StoreDecision,
} from '../types.js';
import { isQueryable, type NamedQuery, type Queryable, runScript } from './queryable.js';
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

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

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
  const timeoutMs = options.timeoutMs ?? 2000;
  if (timeoutMs !== 0) assertPositiveInteger(timeoutMs, 'timeoutMs');
  const purgeEveryMs = (options.purgeIntervalSeconds ?? 60) * 1000;
  if (!(purgeEveryMs > 0)) {
    throw new CodedTypeError(
      `"purgeIntervalSeconds" must be a number above 0, received ${options.purgeIntervalSeconds}`,
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
  const table = `"${schema}"."${prefix}rate_limits"`;
  // PGlite runs one query at a time in this process and takes text only; `pg` takes a named
  // query, parsed and planned once per connection.
  const named = typeof db.exec !== 'function';
  const statements = new Map<RateLimitAlgorithmName, { name: string; text: string }>();
  let ready: Promise<void> | undefined;
  let lastPurge = Date.now();
  let purging = false;

  function statement(algorithm: RateLimitAlgorithmName) {
    let found = statements.get(algorithm);
    if (!found) {
      const text = decisionStatement(table, algorithm);
      const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
      found = { name: `portcullis_rl_${hash}`, text };
      statements.set(algorithm, found);
    }
    return found;
  }

  function migrate(): Promise<void> {
    ready ??= runScript(db, createStatements(`"${schema}"`, table)).catch((error: unknown) => {
      ready = undefined; // try again on the next call, e.g. once the server is back
      throw error;
    });
    return ready;
  }

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    if (timeoutMs === 0) return promise;
    let timer: ReturnType<typeof setTimeout>;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StoreUnavailableError(`Postgres did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async function query(text: string, params: unknown[], name?: string) {
    try {
      return await withTimeout(
        (async () => {
          await migrate();
          if (name === undefined || !named) return db.query(text, params);
          const config: NamedQuery = { name, text, values: params };
          return (db.query as unknown as (query: NamedQuery) => Promise<{ rows: unknown[] }>)(
            config,
          );
        })(),
      );
    } catch (cause) {
      if (cause instanceof StoreUnavailableError) throw cause;
      throw new StoreUnavailableError(
        `Postgres rate-limit store failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  function maybePurge(): void {
    if (purging || Date.now() - lastPurge < purgeEveryMs) return;
    purging = true;
    lastPurge = Date.now();
    // Background and best effort: a failed purge is tried again next interval, never surfaced.
    query(
      `DELETE FROM ${table} WHERE expires_at < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`,
      [],
    )
      .catch(() => undefined)
      .finally(() => {
        purging = false;
      });
  }

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
