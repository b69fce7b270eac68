import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixedWindow,
  type RateLimitAlgorithm,
  type StoreDecision,
  slidingWindow,
  tokenBucket,
} from '../src/index.js';
import { type PostgresStore, postgresStore } from '../src/postgres/index.js';
import { decisionStatement } from '../src/postgres/statements.js';
import { MS_EXACT_RATES } from './helpers.js';

// The decision statement with the server's clock replaced by a parameter ($5), so that a trace
// of times can be replayed against the TypeScript arithmetic the memory store runs.
const GIVEN_NOW = '(SELECT $5::numeric AS now OFFSET 0)';

const startArb = fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }); // µs
const traceArb = (maxGapUs: number, maxCost: number) =>
  fc.array(
    fc.record({ gap: fc.nat({ max: maxGapUs }), cost: fc.integer({ min: 1, max: maxCost }) }),
    { minLength: 1, maxLength: 15 },
  );

describe('the Postgres statements compute exactly what the memory store computes', () => {
  let db: PGlite;
  let store: PostgresStore;
  let run = 0;
  beforeAll(async () => {
    db = await PGlite.create();
    store = postgresStore(db);
    await store.migrate();
  }, 60_000);
  afterAll(() => db?.close());

  async function replay(
    algorithm: RateLimitAlgorithm,
    start: number,
    trace: { gap: number; cost: number }[],
  ) {
    const text = decisionStatement(store.table, algorithm.name, GIVEN_NOW);
    const key = `replay-${run++}`;
    const cells = new Float64Array(4);
    let now = start;
    for (const { gap, cost } of trace) {
      now += gap;
      const want = algorithm.apply(cells, 0, now, cost);
      const { rows } = await db.query<{
        ok: boolean;
        remaining: number | string;
        reset_us: number | string;
        retry_us: number | string;
      }>(text, [key, ...algorithm.args, cost, now]);
      const row = rows[0]!;
      const got: StoreDecision = {
        allowed: row.ok,
        remaining: Number(row.remaining),
        resetAfterUs: Number(row.reset_us),
        retryAfterUs: Number(row.retry_us),
      };
      expect(got, `at ${now} µs, cost ${cost}`).toEqual(want);
    }
  }

  it('sliding window', async () => {
    // Gaps up to a window, or a fraction of one, so that traces both stay in and cross windows.
    const caseArb = fc
      .tuple(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0.5, 1, 3, 60),
        fc.integer({ min: 1, max: 4 }),
      )
      .chain(([limit, windowSeconds, spread]) =>
        fc.tuple(
          fc.constant(limit),
          fc.constant(windowSeconds),
          traceArb(Math.floor((windowSeconds * 1e6) / spread), limit + 2),
        ),
      );
    await fc.assert(
      fc.asyncProperty(caseArb, startArb, async ([limit, windowSeconds, trace], start) => {
        await replay(slidingWindow(limit, windowSeconds), start, trace);
      }),
      { numRuns: 15 },
    );
  });

  it('token bucket (GCRA)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MS_EXACT_RATES, 0.5, 0.25),
        fc.integer({ min: 1, max: 12 }),
        startArb,
        traceArb(3_000_000, 6),
        async (rate, burst, start, trace) => {
          await replay(tokenBucket(rate, burst), start, trace);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('fixed window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(0.5, 1, 3, 60),
        startArb,
        traceArb(2_000_000, 5),
        async (limit, windowSeconds, start, trace) => {
          await replay(fixedWindow(limit, windowSeconds), start, trace);
        },
      ),
      { numRuns: 15 },
    );
  });
});
