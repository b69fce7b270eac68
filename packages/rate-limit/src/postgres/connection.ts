import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../errors.js';
import { assertPositiveInteger, CodedTypeError, describe } from '../lib/errors.js';
import { isQueryable, type NamedQuery, type Queryable, runScript } from './queryable.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** What the Postgres stores share: checked options, the lazy migration, queries with a deadline. */
export interface Connection {
  /** Runs the store's migration once (again after a failure). */
  migrate(): Promise<void>;
  /**
   * Runs one statement after the migration, within the deadline; any failure rejects as
   * `StoreUnavailableError`. With `name`, `pg` prepares it once per connection.
   */
  query(text: string, params: unknown[], name?: string): Promise<{ rows: unknown[] }>;
}

/** Checks `db`, `schema` and `tablePrefix` as every Postgres store of this package does. */
export function checkPostgresArgs(
  db: unknown,
  schema: string,
  prefix: string,
): asserts db is Queryable {
  if (!isQueryable(db)) {
    throw new CodedTypeError(
      `"db" must be a pg Pool/Client or a PGlite instance, received ${describe(db)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (!IDENTIFIER.test(schema) || !(prefix === '' || IDENTIFIER.test(prefix))) {
    throw new CodedTypeError(
      '"schema" and "tablePrefix" must be SQL identifiers: letters, digits and _, not starting with a digit',
      'ERR_INVALID_ARG_VALUE',
    );
  }
}

/** `purgeIntervalSeconds` (default 60) in ms, checked. */
export function purgeIntervalMs(seconds: number | undefined): number {
  const ms = (seconds ?? 60) * 1000;
  if (!(ms > 0)) {
    throw new CodedTypeError(
      `"purgeIntervalSeconds" must be a number above 0, received ${seconds}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return ms;
}

/**
 * Runs `purge` at most every `everyMs`, when called (by a store's operations): in the background
 * and best effort — a failed purge is tried again next interval, never surfaced.
 */
export function backgroundPurge(purge: () => Promise<unknown>, everyMs: number): () => void {
  let last = Date.now();
  let running = false;
  return () => {
    if (running || Date.now() - last < everyMs) return;
    running = true;
    last = Date.now();
    purge()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  };
}

/** A name for a statement `pg` prepares once per connection, unique to its text. */
export function statementName(prefix: string, text: string): string {
  return `${prefix}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/**
 * A store's way to Postgres: `migration` (a script run as one implicit transaction) before the
 * first query, every query bounded by `timeoutMs` (0: left to the driver), failures wrapped as
 * `StoreUnavailableError` naming `what`.
 */
export function connect(
  db: Queryable,
  options: { migration: string; timeoutMs: number; what: string },
): Connection {
  const { migration, timeoutMs, what } = options;
  if (timeoutMs !== 0) assertPositiveInteger(timeoutMs, 'timeoutMs');
  // A pg Pool emits 'error' when an idle connection dies (server restart); with no listener
  // Node would crash the process. The next query then fails as StoreUnavailableError instead.
  const emitter = db as {
    on?: (event: string, fn: () => void) => void;
    listenerCount?: (event: string) => number;
  };
  if (typeof emitter.on === 'function' && emitter.listenerCount?.('error') === 0) {
    emitter.on('error', () => undefined);
  }
  // PGlite runs one query at a time in this process and takes text only; `pg` takes a named
  // query, parsed and planned once per connection.
  const named = typeof db.exec !== 'function';
  let ready: Promise<void> | undefined;

  function migrate(): Promise<void> {
    ready ??= runScript(db, migration).catch((error: unknown) => {
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
        `Postgres ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  return { migrate, query };
}
