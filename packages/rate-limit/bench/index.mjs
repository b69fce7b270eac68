// One run (about a minute): decisions per second for each algorithm beside rate-limiter-flexible,
// on the memory store, on Redis (the same server, the same ioredis client), on a Redis Cluster
// of three masters started for the run and on Postgres (pg Pool) and PGlite, with ratios; then bytes per key of the memory store at
// 1,000,000 keys beside the guide's timestamp list.
// Run with `node --expose-gc` (the package's `bench` script does).
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { startRedisCluster } from '@portcullis/internal-testing/redis-cluster';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis } from 'rate-limiter-flexible';
import {
  createRateLimiter,
  fixedWindow,
  memoryStore,
  slidingWindow,
  tokenBucket,
} from '../dist/index.js';
import { postgresStore } from '../dist/postgres/index.js';
import { redisStore } from '../dist/redis/index.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 1000);
const ROUNDS = 3;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const POSTGRES_POOL = 10;
const MEMORY_KEYS = 10_000;
const REDIS_KEYS = 1_000;
const REDIS_CONCURRENCY = 64;
const fmt = (n) => Math.round(n).toLocaleString('en');

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench does)');
  process.exit(1);
}

// The guide's policy (100 per user per hour) for every limiter, so they do comparable work.
const ALGORITHMS = {
  'sliding window': () => slidingWindow(100, 3600),
  'token bucket (GCRA)': () => tokenBucket(100 / 3600, 100),
  'fixed window': () => fixedWindow(100, 3600),
};

/** Runs `concurrency` loops of awaited decisions for DURATION_MS; returns decisions per second. */
async function measure(decide, keyCount, concurrency, warmup = Math.min(2000, keyCount * 2)) {
  const keys = Array.from({ length: keyCount }, (_, i) => `user:${i}`);
  for (let i = 0; i < warmup; i++) await decide(keys[i % keyCount]);
  let ops = 0;
  // Decisions between two looks at the clock: many when they take microseconds, one when many
  // are in flight (a slow store would otherwise run far past DURATION_MS).
  const step = Math.max(1, Math.floor(50 / concurrency));
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let i = worker;
      while (performance.now() - start < DURATION_MS) {
        for (let n = 0; n < step; n++) {
          i += concurrency;
          await decide(keys[i % keyCount]);
        }
        ops += step;
      }
    }),
  );
  return ops / ((performance.now() - start) / 1000);
}

// rate-limiter-flexible rejects when the limit is reached; a decision either way.
const flexible = (limiter) => (key) => limiter.consume(key).catch(() => undefined);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Interleaved rounds (the machine is shared and noisy), then the median of each contender. */
async function compare(title, baseName, base, contenders, keyCount, concurrency, warmup) {
  console.log(`\n${title}`);
  const runs = new Map([[baseName, []], ...contenders.map(([name]) => [name, []])]);
  for (let round = 0; round < ROUNDS; round++) {
    runs.get(baseName).push(await measure(base, keyCount, concurrency, warmup));
    for (const [name, decide] of contenders) {
      runs.get(name).push(await measure(decide, keyCount, concurrency, warmup));
    }
  }
  const baseline = median(runs.get(baseName));
  console.log(`  ${baseName.padEnd(44)} ${fmt(baseline).padStart(11)}/s`);
  for (const [name] of contenders) {
    const ours = median(runs.get(name));
    console.log(
      `  ${name.padEnd(44)} ${fmt(ours).padStart(11)}/s  ratio ${(ours / baseline).toFixed(2)}`,
    );
  }
}

async function memoryThroughput() {
  await compare(
    `Memory store: decisions per second (${fmt(MEMORY_KEYS)} keys, awaited one at a time, median of ${ROUNDS} rounds)`,
    'rate-limiter-flexible RateLimiterMemory',
    flexible(new RateLimiterMemory({ points: 100, duration: 3600 })),
    Object.entries(ALGORITHMS).map(([name, make]) => {
      const limiter = createRateLimiter({ algorithm: make(), store: memoryStore() });
      return [`@portcullis/rate-limit ${name}`, (key) => limiter.limit(key)];
    }),
    MEMORY_KEYS,
    1,
  );
}

/** rate-limiter-flexible and our three algorithms on one ioredis client (Redis or Cluster). */
async function redisRows(title, redis, prefix) {
  await compare(
    title,
    'rate-limiter-flexible RateLimiterRedis',
    flexible(
      new RateLimiterRedis({
        storeClient: redis,
        useRedisPackage: false,
        keyPrefix: `${prefix}:rlf`,
        points: 100,
        duration: 3600,
      }),
    ),
    Object.entries(ALGORITHMS).map(([name, make]) => {
      const limiter = createRateLimiter({ algorithm: make(), store: redisStore(redis), prefix });
      return [`@portcullis/rate-limit ${name}`, (key) => limiter.limit(key)];
    }),
    REDIS_KEYS,
    REDIS_CONCURRENCY,
  );
}

async function redisThroughput() {
  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await new Promise((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    });
  } catch (error) {
    console.log(`\nRedis at ${REDIS_URL} is unreachable (${error.message}): Redis figures skipped`);
    redis.disconnect();
    return;
  }
  const prefix = `rlbench:${randomBytes(6).toString('hex')}`;
  try {
    await redisRows(
      `Redis store: decisions per second (${REDIS_URL}, one ioredis connection, ${REDIS_CONCURRENCY} in flight, ${fmt(REDIS_KEYS)} keys, median of ${ROUNDS} rounds)`,
      redis,
      prefix,
    );
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

async function clusterThroughput() {
  let cluster;
  try {
    cluster = await startRedisCluster(3);
  } catch (error) {
    console.log(`\nNo Redis Cluster could be started (${error.message}): Cluster figures skipped`);
    return;
  }
  const redis = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  try {
    await new Promise((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    });
    await redisRows(
      `Redis Cluster store: decisions per second (3 masters started for this run, ioredis Cluster, ${REDIS_CONCURRENCY} in flight, ${fmt(REDIS_KEYS)} keys, median of ${ROUNDS} rounds)`,
      redis,
      'rlbench',
    );
  } finally {
    redis.disconnect();
    await cluster.stop(); // the cluster and its keys go with it
  }
}

async function postgresThroughput() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: POSTGRES_POOL });
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    console.log(`\nPostgres is unreachable (${error.message}): Postgres figures skipped`);
    await pool.end();
    return;
  }
  const schema = `rlbench_${randomBytes(6).toString('hex')}`;
  await pool.query(`CREATE SCHEMA "${schema}"`);
  const pglite = await PGlite.create();
  try {
    const flexiblePostgres = await new Promise((resolve, reject) => {
      const limiter = new RateLimiterPostgres(
        {
          storeClient: pool,
          schemaName: schema,
          tableName: 'rlf',
          points: 100,
          duration: 3600,
        },
        (error) => (error ? reject(error) : resolve(limiter)),
      );
    });
    const onPool = postgresStore(pool, { schema });
    const onPglite = postgresStore(pglite);
    await Promise.all([onPool.migrate(), onPglite.migrate()]);
    const rows = (label, store) =>
      Object.entries(ALGORITHMS).map(([name, make]) => {
        const limiter = createRateLimiter({ algorithm: make(), store });
        return [`@portcullis/rate-limit ${name} (${label})`, (key) => limiter.limit(key)];
      });
    await compare(
      `Postgres store: decisions per second (pg Pool of ${POSTGRES_POOL} on ${new URL(DATABASE_URL).host}, and PGlite in process; ${REDIS_CONCURRENCY} in flight, ${fmt(REDIS_KEYS)} keys, median of ${ROUNDS} rounds)`,
      'rate-limiter-flexible RateLimiterPostgres (pg)',
      flexible(flexiblePostgres),
      [...rows('pg', onPool), ...rows('PGlite', onPglite)],
      REDIS_KEYS,
      REDIS_CONCURRENCY,
      200, // a statement is a millisecond or more: a shorter warm-up
    );
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
    await pglite.close();
  }
}

// Measured structures are parked here so that no liveness analysis frees them before the reading.
const keep = [];

// ArrayBuffer contents live outside the JS heap; count them too, or typed arrays look free.
function used() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

async function oursPerKey(keyCount) {
  const before = used();
  const store = memoryStore({ maxKeys: keyCount });
  keep.push(store);
  const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600), store });
  for (let i = 0; i < keyCount; i++) await limiter.limit(`user:${i}`);
  const bytes = (used() - before) / keyCount;
  if (store.size !== keyCount) throw new Error(`expected ${keyCount} keys, got ${store.size}`);
  keep.length = 0;
  return bytes;
}

// The guide's design: Map<user, timestamp[]>, one timestamp appended per request.
function guidePerKey(keyCount) {
  const before = used();
  const log = new Map();
  keep.push(log);
  const now = Date.now();
  for (let i = 0; i < keyCount; i++) {
    const times = [];
    for (let r = 0; r < 100; r++) times.push(now - (100 - r) * 1000 + (i % 997));
    log.set(`user:${i}`, times);
  }
  const bytes = (used() - before) / keyCount;
  if (log.size !== keyCount) throw new Error('the guide map lost keys');
  keep.length = 0;
  return bytes;
}

async function memoryPerKey() {
  console.log(
    '\nMemory per key (heapUsed + arrayBuffers, after gc; sliding window, 1 request per key)',
  );
  const OURS = 1_000_000;
  const ours = await oursPerKey(OURS);
  console.log(
    `  @portcullis/rate-limit memoryStore at ${fmt(OURS)} keys: ${ours.toFixed(0)} bytes/key (${((ours * OURS) / 2 ** 20).toFixed(0)} MiB in all)`,
  );
  // At 100 timestamps a key, a million keys would take gigabytes: measured on fewer keys.
  const GUIDE = 50_000;
  const guide = guidePerKey(GUIDE);
  console.log(
    `  guide's timestamp list at 100 requests/key, measured at ${fmt(GUIDE)} keys (not 1,000,000): ${guide.toFixed(0)} bytes/key (≈ ${((guide * OURS) / 2 ** 30).toFixed(2)} GiB if projected to ${fmt(OURS)} keys)`,
  );
  console.log(`  ratio: the guide's design takes ${(guide / ours).toFixed(1)}× the memory per key`);
}

const ONLY = process.env.BENCH_ONLY; // memory | redis | cluster | postgres | bytes, for profiling one part
const started = performance.now();
if (!ONLY || ONLY === 'memory') await memoryThroughput();
if (!ONLY || ONLY === 'redis') await redisThroughput();
if (!ONLY || ONLY === 'cluster') await clusterThroughput();
if (!ONLY || ONLY === 'postgres') await postgresThroughput();
if (!ONLY || ONLY === 'bytes') await memoryPerKey();
console.log(`\nbench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
