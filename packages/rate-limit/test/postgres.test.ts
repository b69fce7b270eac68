import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { serviceAvailable, TEST_DATABASE_URL } from '@portcullis/internal-testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  StoreUnavailableError,
  slidingWindow,
  tokenBucket,
} from '../src/index.js';
import { type PostgresStore, postgresStore, type Queryable } from '../src/postgres/index.js';
import { CONFORMANCE_ALGORITHMS, storeConformance } from './conformance.js';
import { exactAcrossProcesses } from './processes.js';

const YEAR = 365 * 24 * 3600;
// Generous for a busy shared machine: these tests are about answers, not speed.
const TIMEOUT_MS = 20_000;

describe('postgresStore arguments', () => {
  it('refuses what is not a pg Pool/Client or PGlite, and bad identifiers', () => {
    expect(() => postgresStore({} as Queryable)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    const db = { query: async () => ({ rows: [] }) };
    expect(() => postgresStore(db, { schema: 'a;drop' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => postgresStore(db, { timeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('an unreachable server is a store failure, answered per failMode, never an exception', async () => {
    const pool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    const errors: unknown[] = [];
    const limiter = createRateLimiter({
      algorithm: fixedWindow(5, 60),
      store: postgresStore(pool, { timeoutMs: TIMEOUT_MS }),
      onError: (error) => errors.push(error),
    });
    expect(await limiter.limit('k')).toMatchObject({
      success: false,
      reason: 'store_unavailable',
      retryAfter: 1,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
    await pool.end();
  });
});

describe('postgresStore on PGlite', () => {
  let db: PGlite;
  let store: PostgresStore;
  beforeAll(async () => {
    db = await PGlite.create();
    store = postgresStore(db, { timeoutMs: TIMEOUT_MS });
    await store.migrate();
  }, 60_000);
  afterAll(() => db?.close());

  describe('store conformance', () => {
    storeConformance(() => store);
  });
});

describe.runIf(await serviceAvailable('Postgres'))('postgresStore on Postgres (pg Pool)', () => {
  const schema = `rl_${randomBytes(6).toString('hex')}`;
  const prefix = `rltest-${randomBytes(4).toString('hex')}`;
  let pool: pg.Pool;
  let store: PostgresStore;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 6 });
    store = postgresStore(pool, { schema, timeoutMs: TIMEOUT_MS });
    await store.migrate();
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  describe('store conformance', () => {
    storeConformance(() => store);
  });

  it('one statement per decision: an INSERT … ON CONFLICT DO UPDATE … RETURNING', async () => {
    const texts: string[] = [];
    const counting = {
      query: (query: unknown, params?: unknown[]) => {
        texts.push(typeof query === 'string' ? query : (query as { text: string }).text);
        return pool.query(query as string, params);
      },
    };
    const counted = postgresStore(counting, { schema, timeoutMs: TIMEOUT_MS });
    await counted.migrate();
    texts.length = 0;
    for (const [, make] of CONFORMANCE_ALGORITHMS) {
      const limiter = createRateLimiter({ algorithm: make(2), store: counted, prefix });
      for (let i = 0; i < 3; i++) await limiter.limit('one-statement');
    }
    expect(texts).toHaveLength(9);
    for (const text of texts) {
      expect(text).toMatch(/^INSERT INTO .*\sON CONFLICT \(key\) DO UPDATE .*\sRETURNING /s);
      expect(text.split(';')).toHaveLength(1);
    }
  });

  it('takes the time from the server: instances whose clocks are an hour apart share one window', async () => {
    const algorithm = fixedWindow(4, 60);
    const skewed = (offsetMs: number) =>
      createRateLimiter({ algorithm, store, prefix, now: () => Date.now() + offsetMs });
    const [ahead, behind] = [skewed(3_600_000), skewed(-3_600_000)];
    const remaining = [];
    for (const limiter of [ahead, behind, ahead, behind, ahead]) {
      remaining.push((await limiter.limit('skew')).remaining);
    }
    expect(remaining.slice(0, 4)).toEqual([3, 2, 1, 0]);
    // A window edge may fall between calls; then the count restarts, never exceeds the limit.
    expect(remaining[4]).toBeLessThanOrEqual(3);
  });

  // A hand-made interleaving: a decision holds the row (its transaction still open) while
  // another is made on the same key from the pool, which must wait for the row and then decide
  // on what the first left, committed or rolled back.
  for (const [name, algorithm] of [
    ['sliding-window', slidingWindow(1, YEAR)],
    ['token-bucket', tokenBucket(1 / YEAR, 1)],
    ['fixed-window', fixedWindow(1, YEAR)],
  ] as const) {
    for (const [ending, secondAdmitted] of [
      ['COMMIT', false],
      ['ROLLBACK', true],
    ] as const) {
      it(`${name}: a decision waits for one holding the key, then sees its ${ending}`, async () => {
        const key = `held-${name}-${ending}`;
        const holder = await pool.connect();
        try {
          await holder.query('BEGIN');
          const held = createRateLimiter({
            algorithm,
            store: postgresStore(holder, { schema, timeoutMs: TIMEOUT_MS }),
            prefix,
          });
          expect((await held.limit(key)).success).toBe(true); // row inserted, not yet committed
          const limiter = createRateLimiter({ algorithm, store, prefix });
          const second = limiter.limit(key);
          await waitForLockWait(pool, schema);
          await holder.query(ending);
          const result = await second;
          expect(result.reason).toBeUndefined();
          expect(result.success).toBe(secondAdmitted);
        } finally {
          holder.release();
        }
      });
    }
  }

  describe('across processes', () => {
    exactAcrossProcesses(
      () => `${TEST_DATABASE_URL}#${schema}`,
      () => prefix,
    );
  });
});

/** Resolves once a statement on the schema's table is blocked on a lock (bounded polling). */
async function waitForLockWait(pool: pg.Pool, schema: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE $1`,
      [`%"${schema}"."portcullis_rate_limits"%`],
    );
    if ((rows[0] as { n: number }).n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the second decision never waited for the row');
}
