import { serviceAvailable, TEST_DATABASE_URL } from '@portcullis/internal-testing';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
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
});
