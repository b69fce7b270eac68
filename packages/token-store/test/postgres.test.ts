import { serviceAvailable, TEST_DATABASE_URL } from '@portcullis/internal-testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, FamilyRevokedError } from '../src/index.js';
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
});
