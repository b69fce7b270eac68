import { randomBytes } from 'node:crypto';
import { serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { createAuthorizationServer } from '@portcullis/oauth-server';
import { createTokenStore, type SigningKeyRecord, type TokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { redisAdapter } from '@portcullis/token-store/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresLock, redisLock, type StartupLock } from '../src/lib/startup-lock';

const ISSUER = 'http://127.0.0.1:3000';
const withPostgres = await serviceAvailable('Postgres');
const withRedis = await serviceAvailable('Redis');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noLock: StartupLock = (run) => run();

/**
 * Two instances creating their authorization server at once on one empty store, their reads
 * and writes of signing keys forced into the interleaving that splits them: B reads (empty)
 * before A saves its key; A saves and reads again before B saves. A waits at most 1 s for B's
 * read and B for A's second read, so a lock that keeps B out until A is done only costs that.
 */
async function startTogether(store: TokenStore, lock: StartupLock) {
  let bRead = () => {};
  const bHasRead = new Promise<void>((r) => {
    bRead = r;
  });
  let aDone = () => {};
  const aHasReadAgain = new Promise<void>((r) => {
    aDone = r;
  });
  const gated = (onList: (count: number) => void, beforeSave: Promise<void>): TokenStore => {
    let lists = 0;
    return {
      ...store,
      signingKeys: {
        ...store.signingKeys,
        async list() {
          const records = await store.signingKeys.list();
          onList(++lists);
          return records;
        },
        async save(record: SigningKeyRecord) {
          await Promise.race([beforeSave, sleep(1000)]);
          return store.signingKeys.save(record);
        },
      },
    };
  };
  const a = gated((n) => n === 2 && aDone(), bHasRead);
  const b = gated((n) => n === 1 && bRead(), aHasReadAgain);
  const create = (s: TokenStore) =>
    lock(() =>
      createAuthorizationServer({
        issuer: ISSUER,
        store: s,
        resources: [{ uri: 'http://127.0.0.1:8000/mcp' }],
        scopes: { read: 'Read' },
      }),
    );
  const servers = await Promise.all([create(a), create(b)]);
  const published = await Promise.all(
    servers.map(async (as) => {
      const response = await as.handle(new Request(`${ISSUER}/jwks.json`));
      if (!response) throw new Error('no answer at /jwks.json');
      return ((await response.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    }),
  );
  await Promise.all(servers.map((as) => as.close()));
  return published;
}

describe.runIf(withPostgres)('start-up lock on Postgres (pg_advisory_lock)', () => {
  let pool: pg.Pool;
  const schemas: string[] = [];
  const freshStore = () => {
    const schema = `lock_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return createTokenStore({ adapter: postgresAdapter(pool, { schema }) });
  };
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 8 });
  });
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('the interleaving is real: without a lock the two instances publish different key sets', async () => {
    const [a, b] = await startTogether(freshStore(), noLock);
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(2);
  });

  it('under the lock they publish one and the same key', async () => {
    const lock = postgresLock(pool, `portcullis-test:${randomBytes(6).toString('hex')}`);
    const [a, b] = await startTogether(freshStore(), lock);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
  });
});

describe.runIf(withRedis)('start-up lock on Redis (SET NX with a lease)', () => {
  let redis: Redis;
  const prefix = `test:lock:${randomBytes(6).toString('hex')}:`;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('under the lock two instances publish one and the same key; the lock is released after', async () => {
    const store = createTokenStore({ adapter: redisAdapter(redis, { prefix: `${prefix}ts:` }) });
    const key = `${prefix}start-lock`;
    const [a, b] = await startTogether(store, redisLock(redis, key));
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
    expect(await redis.exists(key)).toBe(0);
  });

  it('a lock held by someone else is waited for, and not released by the waiter', async () => {
    const key = `${prefix}held`;
    await redis.set(key, 'someone-else', 'PX', 300);
    const order: string[] = [];
    await redisLock(
      redis,
      key,
    )(async () => {
      order.push('ran');
      // Taken by this holder now, not by the one before.
      expect(await redis.get(key)).not.toBe('someone-else');
    });
    expect(order).toEqual(['ran']);
    expect(await redis.exists(key)).toBe(0);
  });
});
