import { serviceAvailable, TEST_DATABASE_URL } from '@portcullis/internal-testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, FamilyRevokedError, hashSecret } from '../src/index.js';
import { postgresAdapter } from '../src/postgres/index.js';
import { conformance } from './support/conformance.js';
import { dumpPostgres, randomSchema } from './support/dump.js';

describe.runIf(await serviceAvailable('Postgres'))('Postgres (pg Pool)', () => {
  // Shared server: this file's own schema, a table prefix per test, dropped at the end.
  const schema = randomSchema();
  let pool: pg.Pool;
  let n = 0;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 10 });
  });

  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  conformance('Postgres', async () => {
    const adapter = postgresAdapter(pool, { schema, tablePrefix: `t${++n}_` });
    return {
      adapter,
      dump: () => dumpPostgres(pool, adapter.table),
      close: () => adapter.close(),
    };
  });

  it('rotate lands between revokeFamily’s marker and its delete (by hand): refused, nothing of the family stored', async () => {
    const tablePrefix = `g${++n}_`;
    let between: (() => Promise<unknown>) | undefined;
    // revokeFamily sets the marker in one statement, then deletes the records in another: the
    // rotation runs in that gap, when the family is revoked but its refresh token still stored.
    const spy = Object.assign(Object.create(pool) as pg.Pool, {
      query: async (...args: unknown[]) => {
        const result = await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
        if (between && text.includes('consumed_at = COALESCE(r.consumed_at')) {
          const step = between;
          between = undefined;
          await step();
        }
        return result;
      },
    });
    const store = createTokenStore({
      adapter: postgresAdapter(pool, { schema, tablePrefix }),
      production: false,
    });
    const revoking = createTokenStore({
      adapter: postgresAdapter(spy, { schema, tablePrefix }),
      production: false,
    });
    const issued = await store.issueTokens(
      { clientId: 'c', userId: 'u', scopes: ['read'] },
      { refreshToken: {} },
    );
    let refused: unknown;
    between = () =>
      store.refreshTokens
        .rotate(issued.refreshToken!.token, { clientId: 'c', accessToken: {} })
        .catch((error: unknown) => {
          refused = error;
        });
    expect(await revoking.revokeFamily(issued.accessToken.record.familyId)).toBe(2);
    expect(between).toBeUndefined();
    expect(refused).toBeInstanceOf(FamilyRevokedError);
    expect(await store.tokensByUser('u')).toEqual({ accessTokens: [], refreshTokens: [] });
  });

  it('revocation feed: a revocation committed after the reader read past its position is still seen', async () => {
    const tablePrefix = `l${++n}_`;
    const adapter = postgresAdapter(pool, { schema, tablePrefix });
    const store = createTokenStore({ adapter, production: false });
    const held = await pool.connect();
    try {
      // The late writer's revocation is positioned (its clock) before the one the reader sees,
      // and its transaction is held open until the reader has read past it.
      const lateAdapter = postgresAdapter(held, { schema, tablePrefix });
      await lateAdapter.migrate();
      const late = createTokenStore({
        adapter: lateAdapter,
        production: false,
        now: () => Date.now() - 1000,
      });
      const data = { clientId: 'c', userId: 'u', scopes: ['read'] };
      const slow = await store.accessTokens.issue(data);
      const quick = await store.accessTokens.issue(data);
      const start = await store.revocations.list();
      await held.query('BEGIN');
      await late.revokeFamily(slow.record.familyId);
      await store.revokeFamily(quick.record.familyId);
      const read = await store.revocations.list({ cursor: start.cursor });
      const blind = await store.revocations.list({ cursor: start.cursor, overlapSeconds: 0 });
      const quickId = await hashSecret(quick.token);
      const slowId = await hashSecret(slow.token);
      expect(read.revoked.map((e) => e.id)).toEqual([quickId]);
      expect(blind.revoked.map((e) => e.id)).toEqual([quickId]);
      await held.query('COMMIT');
      const after = await store.revocations.list({ cursor: read.cursor });
      expect(after.revoked.map((e) => e.id)).toContain(slowId);
      // A cursor without the overlap has passed it for good: the interleaving is real.
      const missed = await store.revocations.list({ cursor: blind.cursor, overlapSeconds: 0 });
      expect(missed.revoked.map((e) => e.id)).not.toContain(slowId);
    } finally {
      await held.query('ROLLBACK').catch(() => undefined);
      held.release();
    }
  });

  it('sends the queries as named prepared statements on pg, and plain text when told not to', async () => {
    for (const preparedStatements of [undefined, false]) {
      const sent: unknown[] = [];
      const spy = Object.assign(Object.create(pool) as pg.Pool, {
        query: (...args: Parameters<pg.Pool['query']>) => {
          sent.push(args[0]);
          return (pool.query as (...a: unknown[]) => unknown)(...args);
        },
      });
      const adapter = postgresAdapter(spy, {
        schema,
        tablePrefix: `p${++n}_`,
        ...(preparedStatements === undefined ? {} : { preparedStatements }),
      });
      const store = createTokenStore({ adapter, production: false });
      const { token } = await store.accessTokens.issue({ clientId: 'c', userId: 'u', scopes: [] });
      expect(await store.accessTokens.validate(token)).toMatchObject({ userId: 'u' });
      const named = sent.filter((q) => typeof q === 'object' && q !== null && 'name' in q);
      if (preparedStatements === false) expect(named).toEqual([]);
      else expect(named.length).toBeGreaterThanOrEqual(2);
    }
  });

  describe('once-only store (store.replay) across instances', () => {
    /** `count` instances, each its own pool (own connections), adapter and store, one table. */
    function instances(count: number) {
      const tablePrefix = `p${++n}_`;
      return Array.from({ length: count }, () => {
        const own = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 5 });
        const adapter = postgresAdapter(own, { schema, tablePrefix });
        const store = createTokenStore({ adapter, production: false });
        return { pool: own, adapter, store, replayTable: `"${schema}"."${tablePrefix}replay"` };
      });
    }
    const closeAll = (list: { pool: pg.Pool }[]) => Promise.all(list.map((i) => i.pool.end()));

    it('20 concurrent remembers of one key on each of two instances (own pools): exactly one true', async () => {
      const both = instances(2);
      try {
        await both[0]!.adapter.migrate();
        for (let round = 0; round < 5; round++) {
          const key = `jti:${round}:${crypto.randomUUID()}`;
          const expiresAt = Date.now() + 60_000;
          const results = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              both[i % 2]!.store.replay.remember(key, expiresAt),
            ),
          );
          expect(results.filter((won) => won === true)).toHaveLength(1);
          // And the one entry is held for both afterwards.
          expect(await both[0]!.store.replay.remember(key, expiresAt)).toBe(false);
          expect(await both[1]!.store.replay.remember(key, expiresAt)).toBe(false);
        }
      } finally {
        await closeAll(both);
      }
    });

    it('a remember waits for another instance’s uncommitted entry of its key, then decides on what committed (by hand)', async () => {
      const [one] = instances(1);
      const held = await pool.connect();
      const waiter = await pool.connect();
      try {
        await one!.adapter.migrate();
        for (const ending of ['COMMIT', 'ROLLBACK'] as const) {
          const key = `jti:${ending}:${crypto.randomUUID()}`;
          const expiresAt = Date.now() + 60_000;
          // Instance A has inserted the key in a transaction it has not committed yet.
          await held.query('BEGIN');
          await held.query(`INSERT INTO ${one!.replayTable} (key, expires_at) VALUES ($1, $2)`, [
            key,
            expiresAt,
          ]);
          // Instance B's remember of the same key now runs, and must wait on A's row.
          const pending = one!.store.replay.remember(key, expiresAt);
          let settled = false;
          void pending.then(() => {
            settled = true;
          });
          for (;;) {
            const { rows } = await waiter.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE wait_event_type = 'Lock' AND query LIKE $1`,
              [`INSERT INTO ${one!.replayTable}%`],
            );
            if ((rows[0] as { n: number }).n === 1) break;
            expect(settled).toBe(false);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          expect(settled).toBe(false);
          await held.query(ending);
          // Committed: the key was A's, B is refused. Rolled back: B's remember is the first.
          expect(await pending).toBe(ending === 'ROLLBACK');
          expect(await one!.store.replay.remember(key, expiresAt)).toBe(false);
        }
      } finally {
        held.release();
        waiter.release();
        await closeAll([one!]);
      }
    });

    it('purgeExpired deletes expired entries (counted), keeps live ones', async () => {
      const [one] = instances(1);
      try {
        const now = Date.now();
        expect(await one!.store.replay.remember('jti:gone', now + 1_000)).toBe(true);
        expect(await one!.store.replay.remember('jti:live', now + 60_000)).toBe(true);
        expect(await one!.adapter.purgeExpired(now + 2_000)).toBe(1);
        const { rows } = await pool.query(`SELECT key FROM ${one!.replayTable}`);
        expect(rows).toEqual([{ key: 'jti:live' }]);
      } finally {
        await closeAll([one!]);
      }
    });
  });
});
