import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { Redis } from 'ioredis';
import pg from 'pg';

/** A store for one test file, and how to leave nothing behind. */
export interface TestStore<T> {
  store: T;
  close(): Promise<void>;
}

/** The three places the app keeps its own records, each fresh, for the same cases on each. */
export const openStore = {
  async pglite<T>(make: (db: PGlite) => T): Promise<TestStore<T>> {
    const db = await PGlite.create();
    return { store: make(db), close: () => db.close() };
  },
  /** A pool on the test database with a schema of its own, dropped at the end. */
  async postgres<T>(make: (pool: pg.Pool, schema: string) => T): Promise<TestStore<T>> {
    const schema = `app_${randomBytes(6).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 10 });
    return {
      store: make(pool, schema),
      close: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      },
    };
  },
  /** A client of the test Redis with a key prefix of its own, its keys deleted at the end. */
  async redis<T>(make: (redis: Redis, prefix: string) => T): Promise<TestStore<T>> {
    const redis = new Redis(TEST_REDIS_URL);
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    return {
      store: make(redis, prefix),
      close: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        await redis.quit();
      },
    };
  },
};

/** A hidden form field's value in a page (the CSRF token of a form). */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no ${name} field`);
  return match[1].replace(/&amp;/g, '&');
}
