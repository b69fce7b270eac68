import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_DATABASE_URL } from './services.js';

export interface TestDatabase {
  /** postgres://…/<name>: the test server's URL with the new database. */
  url: string;
  name: string;
  /** Drops the database, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

async function onServer<T>(run: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    return await run(db);
  } finally {
    await db.end();
  }
}

/**
 * A fresh, empty Postgres database with a random name on the test server, for tests that start
 * apps on a database of their own (as on a first deployment): nothing of another run is in it.
 */
export async function createTestDatabase(prefix = 'portcullis_test'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`bad database prefix: ${prefix}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer((db) => db.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    name,
    async drop() {
      await onServer((db) => db.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
