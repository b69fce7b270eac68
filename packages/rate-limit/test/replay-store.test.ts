import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { replayStoreConformance } from '@portcullis/dpop/testing';
import { serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../src/index.js';
import { type PostgresReplayStore, postgresReplayStore } from '../src/postgres/index.js';
import { redisReplayStore } from '../src/redis/index.js';
import { deleteKeys, freePort, startRedisServer, uniquePrefix } from './redis-helpers.js';

const later = () => Date.now() + 60_000;

describe('replay stores refuse a caller’s mistakes', () => {
  it('keys of 1 to 512 characters; whole epoch milliseconds', async () => {
    // Checked before anything reaches the database or Redis.
    const db = { query: async () => ({ rows: [] }) };
    const stores = [postgresReplayStore(db), redisReplayStore({ call: async () => 'OK' })];
    for (const store of stores) {
      await expect(store.remember('', later())).rejects.toThrow(TypeError);
      await expect(store.remember('k'.repeat(513), later())).rejects.toThrow(TypeError);
      await expect(store.remember('k', later() + 0.5)).rejects.toThrow(TypeError);
      await expect(store.remember('k', Number.NaN)).rejects.toThrow(TypeError);
      await expect(store.remember(42 as unknown as string, later())).rejects.toThrow(TypeError);
    }
    expect(() => postgresReplayStore({} as never)).toThrow(TypeError);
    expect(() => postgresReplayStore(db, { schema: 'x;drop' })).toThrow(TypeError);
    expect(() => redisReplayStore({} as never)).toThrow(TypeError);
  });
});

describe('postgresReplayStore on PGlite', () => {
  let db: PGlite;
  let store: PostgresReplayStore;
  beforeAll(async () => {
    db = await PGlite.create();
    store = postgresReplayStore(db);
  });
  afterAll(() => db.close());

  describe('ReplayStore conformance (@portcullis/dpop/testing)', () => {
    it.each(replayStoreConformance(() => store, { ttlMs: 50 }))('$name', ({ run }) => run());
  });

  it('an expired key is taken again (replaced in the same statement), a live one is not', async () => {
    const key = `k-${randomBytes(6).toString('hex')}`;
    expect(await store.remember(key, Date.now() - 1)).toBe(true);
    expect(await store.remember(key, later())).toBe(true);
    expect(await store.remember(key, later())).toBe(false);
  });

  it('expired keys are purged in the background, so the table stays bounded', async () => {
    const purging = postgresReplayStore(db, { tablePrefix: 'purge_', purgeIntervalSeconds: 0.001 });
    for (let i = 0; i < 20; i++) await purging.remember(`old-${i}`, Date.now() - 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await purging.remember('fresh', later()); // runs the due purge
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${purging.table}`,
    );
    expect(rows[0]!.n).toBeLessThanOrEqual(2);
  });
});

describe.runIf(await serviceAvailable('Postgres'))(
  'postgresReplayStore on Postgres (pg Pool)',
  () => {
    const schema = `replay_${randomBytes(6).toString('hex')}`;
    let pool: pg.Pool;
    let store: PostgresReplayStore;
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 8 });
      store = postgresReplayStore(pool, { schema });
      await store.migrate();
    });
    afterAll(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    });

    describe('ReplayStore conformance (@portcullis/dpop/testing)', () => {
      it.each(replayStoreConformance(() => store, { ttlMs: 50 }))('$name', ({ run }) => run());
    });

    it('two instances (two pools) on one database: one winner among 40 concurrent calls', async () => {
      const other = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 8 });
      try {
        const second = postgresReplayStore(other, { schema });
        const key = `shared-${randomBytes(6).toString('hex')}`;
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? store : second).remember(key, later())),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      } finally {
        await other.end();
      }
    });

    it('a database that does not answer rejects as StoreUnavailableError, never true', async () => {
      const stalled = postgresReplayStore(
        { query: () => new Promise(() => {}) },
        { schema, timeoutMs: 100 },
      );
      await expect(stalled.remember('k', later())).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  },
);

describe.runIf(await serviceAvailable('Redis'))('redisReplayStore on Redis', () => {
  const prefix = uniquePrefix();
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  describe('ReplayStore conformance (@portcullis/dpop/testing)', () => {
    it.each(
      replayStoreConformance(() => redisReplayStore(redis, { prefix: `${prefix}:` }), {
        ttlMs: 50,
      }),
    )('$name', ({ run }) => run());
  });

  it('keys live in Redis under the prefix, with the expiry asked for', async () => {
    const store = redisReplayStore(redis, { prefix: `${prefix}:` });
    const at = Date.now() + 30_000;
    expect(await store.remember('kept', at)).toBe(true);
    expect(Number(await redis.call('PEXPIRETIME', `${prefix}:kept`))).toBe(at);
  });

  it('a Redis that is down rejects as StoreUnavailableError, never true', async () => {
    const port = await freePort();
    const server = await startRedisServer(port);
    const client = new Redis({
      port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    try {
      const store = redisReplayStore(client, { timeoutMs: 500 });
      expect(await store.remember('k', later())).toBe(true);
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));
      await expect(store.remember('k2', later())).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      client.disconnect();
      server.kill('SIGKILL');
    }
  });
});
