import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { createTokenStore, type TokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { redisAdapter } from '@portcullis/token-store/redis';
import { Redis } from 'ioredis';

/** node-postgres, typed here as far as used (this package has no @types/pg). */
interface PgPool {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}
type PgModule = { default: { Pool: new (options: object) => PgPool } };

/**
 * Token stores on each real backend (PGlite, Postgres, Redis), each on its own database, schema
 * or key prefix, with whether the backend is up; `cleanup()` (for afterAll) removes them all.
 */
export async function realStores(name: string, now: () => number) {
  const cleanups: (() => Promise<unknown>)[] = [];
  const tag = () => `${name}_${randomBytes(6).toString('hex')}`;
  const pglite = async (): Promise<TokenStore> => {
    const db = new PGlite();
    cleanups.push(() => db.close());
    return createTokenStore({ adapter: postgresAdapter(db), now });
  };
  const postgres = async (): Promise<TokenStore> => {
    const pg = ((await import('pg' as string)) as PgModule).default;
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
    const schema = tag();
    cleanups.push(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    });
    return createTokenStore({ adapter: postgresAdapter(pool, { schema }), now });
  };
  const redis = async (): Promise<TokenStore> => {
    const client = new Redis(TEST_REDIS_URL);
    const prefix = `${tag()}:`;
    cleanups.push(async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    });
    return createTokenStore({ adapter: redisAdapter(client, { prefix }), now });
  };
  return {
    stores: {
      PGlite: [pglite, true],
      Postgres: [postgres, await serviceAvailable('Postgres')],
      Redis: [redis, await serviceAvailable('Redis')],
    } as Record<'PGlite' | 'Postgres' | 'Redis', [() => Promise<TokenStore>, boolean]>,
    async cleanup() {
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
