// Validations per second for each adapter with 1,000 and with 100,000 stored tokens, beside a
// plain Map baseline measured in the same run. Lookup is by indexed hash, so the two figures of
// one adapter should stay close. Filler records are written in bulk (one INSERT … SELECT
// generate_series, Redis pipelines); the 1,000 validated tokens are issued through the API.
// The Redis Cluster row runs on its own 3-master cluster from the machine's redis-server, started
// and killed here. Cleans up its own schema / key prefix. Env: DATABASE_URL, REDIS_URL, BENCH_MS
// (default 1500), BENCH_ONLY (comma-separated parts of adapter names, to run only those rows).
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { startRedisCluster } from '@portcullis/internal-testing/redis-cluster';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { createTokenStore, generateSecret, memoryAdapter, TokenManager } from '../dist/index.js';
import { postgresAdapter } from '../dist/postgres/index.js';
import { redisAdapter } from '../dist/redis/index.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);
const CONCURRENCY = 32;
const LIVE = 1_000;
const SIZES = [1_000, 100_000];
const DATABASE_URL =
  process.env.DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((part) => part.trim().toLowerCase())
  .filter(Boolean);
const tag = generateSecret()
  .slice(0, 8)
  .replace(/[^A-Za-z0-9]/g, 'x')
  .toLowerCase();

function reachable(url, port) {
  const { hostname, port: p } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(p) || port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function measure(fn) {
  for (let i = 0; i < 200; i++) await fn();
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    await Promise.all(Array.from({ length: CONCURRENCY }, fn));
    ops += CONCURRENCY;
  }
  return ops / ((performance.now() - start) / 1000);
}

function measureMap(size) {
  const map = new Map();
  const keys = [];
  for (let i = 0; i < size; i++) {
    const key = generateSecret();
    keys.push(key);
    map.set(key, { userId: `u${i}`, scopes: ['read'], expiresAt: Date.now() + 3_600_000 });
  }
  let ops = 0;
  let hits = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 10_000; i++) {
      const record = map.get(keys[(ops + i) % LIVE]);
      if (record && record.expiresAt > 0) hits++;
    }
    ops += 10_000;
  }
  if (hits !== ops) throw new Error('baseline lookups failed');
  return ops / ((performance.now() - start) / 1000);
}

function redisServerInstalled() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Filler access-token records as the adapter stores them, `count` at a time. */
function fillerRecord(n, now) {
  const data = {
    familyId: `f${n}`,
    userId: `bench-${n % 1000}`,
    clientId: 'bench',
    scopes: ['read'],
    createdAt: now,
    expiresAt: now + 3_600_000,
  };
  return [
    'd',
    JSON.stringify(data),
    'e',
    String(data.expiresAt),
    'f',
    data.familyId,
    'u',
    data.userId,
  ];
}

function pgFiller(adapter, db) {
  return async (count) => {
    const now = Date.now();
    await db.query(
      `INSERT INTO ${adapter.table} (kind, id, family_id, user_id, created_at, expires_at, data)
       SELECT 'access_token', md5('filler' || g || $1), md5('f' || g || $1), 'bench-' || (g % 1000), $2::bigint, $3::bigint,
              jsonb_build_object('familyId', md5('f' || g || $1), 'userId', 'bench-' || (g % 1000), 'clientId', 'bench',
                                 'scopes', jsonb_build_array('read'), 'createdAt', $2::bigint, 'expiresAt', $3::bigint)
       FROM generate_series(1, $4::int) g`,
      [tag, now, now + 3_600_000, count],
    );
  };
}

const backends = [
  {
    name: 'memory',
    async open() {
      const adapter = memoryAdapter();
      return {
        adapter,
        async fill(count) {
          const now = Date.now();
          for (let i = 0; i < count; i++) {
            await adapter.set('access_token', `filler-${i}`, {
              familyId: `f${i}`,
              userId: `bench-${i % 1000}`,
              clientId: 'bench',
              scopes: ['read'],
              createdAt: now,
              expiresAt: now + 3_600_000,
            });
          }
        },
        close: () => adapter.close(),
      };
    },
  },
  {
    name: 'PGlite (in memory)',
    async open() {
      const db = new PGlite();
      const adapter = postgresAdapter(db);
      await adapter.migrate();
      return { adapter, fill: pgFiller(adapter, db), close: () => db.close() };
    },
  },
  {
    name: 'Postgres (pg Pool)',
    available: () => reachable(DATABASE_URL, 5432),
    url: DATABASE_URL,
    async open() {
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
      const schema = `bench_${tag}`;
      const adapter = postgresAdapter(pool, { schema });
      await adapter.migrate();
      return {
        adapter,
        fill: pgFiller(adapter, pool),
        async close() {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await pool.end();
        },
      };
    },
  },
  {
    name: 'Redis (ioredis)',
    available: () => reachable(REDIS_URL, 6379),
    url: REDIS_URL,
    async open() {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      const prefix = `bench:${tag}:`;
      const adapter = redisAdapter(redis, { prefix });
      let filled = 0;
      return {
        adapter,
        async fill(count) {
          const now = Date.now();
          for (let start = 0; start < count; start += 10_000) {
            const pipeline = redis.pipeline();
            for (let i = start; i < Math.min(count, start + 10_000); i++) {
              const n = filled + i;
              const key = `${prefix}r:access_token:filler-${n}`;
              const data = {
                familyId: `f${n}`,
                userId: `bench-${n % 1000}`,
                clientId: 'bench',
                scopes: ['read'],
                createdAt: now,
                expiresAt: now + 3_600_000,
              };
              pipeline.hset(
                key,
                'd',
                JSON.stringify(data),
                'e',
                String(data.expiresAt),
                'f',
                data.familyId,
                'u',
                data.userId,
              );
              pipeline.pexpire(key, 3_600_000);
            }
            await pipeline.exec();
          }
          filled += count;
        },
        async close() {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
            cursor = next;
            if (keys.length > 0) await redis.unlink(...keys);
          } while (cursor !== '0');
          redis.disconnect();
        },
      };
    },
  },
  {
    name: 'Redis Cluster (3 masters)',
    available: async () => redisServerInstalled(),
    url: 'redis-server (not installed)',
    async open() {
      const cluster = await startRedisCluster(3);
      const client = new Cluster(cluster.nodes, {
        enableAutoPipelining: true,
        redisOptions: { maxRetriesPerRequest: 1 },
      });
      try {
        await new Promise((resolve, reject) => {
          client.once('ready', resolve);
          client.once('error', reject);
        });
      } catch (error) {
        client.disconnect();
        await cluster.stop();
        throw error;
      }
      const prefix = `bench:${tag}:`;
      const adapter = redisAdapter(client, { prefix });
      let filled = 0;
      return {
        adapter,
        async fill(count) {
          const now = Date.now();
          // Keys of many slots: no one pipeline; auto-pipelining batches them per master.
          for (let start = 0; start < count; start += 5_000) {
            const writes = [];
            for (let i = start; i < Math.min(count, start + 5_000); i++) {
              const key = `${prefix}r:access_token:filler-${filled + i}`;
              writes.push(client.hset(key, ...fillerRecord(filled + i, now)));
              writes.push(client.pexpire(key, 3_600_000));
            }
            await Promise.all(writes);
          }
          filled += count;
        },
        async close() {
          client.disconnect();
          await cluster.stop();
        },
      };
    },
  },
];

const started = performance.now();
const baseline = {};
for (const size of SIZES) baseline[size] = measureMap(size);

const rows = [];
for (const backend of backends) {
  if (ONLY.length > 0 && !ONLY.some((part) => backend.name.toLowerCase().includes(part))) continue;
  if (backend.available && !(await backend.available())) {
    console.log(
      `[skip] ${backend.name}: ${backend.url.replace(/\/\/[^@/]*@/, '//***@')} is unreachable`,
    );
    continue;
  }
  const opened = await backend.open();
  try {
    const store = createTokenStore({ adapter: opened.adapter, production: false });
    const tokens = new TokenManager(store);
    const live = [];
    for (let i = 0; i < LIVE; i++)
      live.push((await tokens.issue(`user-${i}`, ['read'])).accessToken);
    let next = 0;
    const validate = () => tokens.validate(live[next++ % LIVE]);
    const figures = {};
    let stored = LIVE;
    for (const size of SIZES) {
      if (size > stored) {
        const t0 = performance.now();
        await opened.fill(size - stored);
        stored = size;
        console.log(
          `${backend.name}: seeded ${(size - LIVE).toLocaleString('en')} filler tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
      figures[size] = await measure(validate);
    }
    rows.push({ name: backend.name, figures });
  } finally {
    await opened.close();
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en');
console.log(
  `\nvalidations per second (concurrency ${CONCURRENCY}; Map baseline: synchronous Map.get of the clear token)`,
);
console.log(
  `${'adapter'.padEnd(28)}${SIZES.map((s) => `${s.toLocaleString('en')} tokens`.padStart(16)).join('')}${'100k / 1k'.padStart(12)}${SIZES.map((s) => `÷ Map @${s / 1000}k`.padStart(14)).join('')}`,
);
console.log(
  `${'Map baseline'.padEnd(28)}${SIZES.map((s) => fmt(baseline[s]).padStart(16)).join('')}${(baseline[SIZES[1]] / baseline[SIZES[0]]).toFixed(2).padStart(12)}`,
);
for (const { name, figures } of rows) {
  console.log(
    `${name.padEnd(28)}${SIZES.map((s) => fmt(figures[s]).padStart(16)).join('')}${(figures[SIZES[1]] / figures[SIZES[0]]).toFixed(2).padStart(12)}${SIZES.map((s) => (figures[s] / baseline[s]).toFixed(4).padStart(14)).join('')}`,
  );
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
