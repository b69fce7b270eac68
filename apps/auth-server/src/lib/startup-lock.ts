import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Pool } from 'pg';

/**
 * Runs `run` while no other instance of the deployment runs its own: the first start on an
 * empty store generates the signing key, and two instances starting at once must not both
 * generate one (each would sign with its own and publish only it until its next reload).
 */
export type StartupLock = <T>(run: () => Promise<T>) => Promise<T>;

/** A session-level advisory lock: released at the end, or by Postgres if the process dies. */
export function postgresLock(pool: Pool, name: string): StartupLock {
  return async (run) => {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
      try {
        return await run();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(() => {});
      }
    } finally {
      client.release();
    }
  };
}

const LEASE_MS = 30_000;
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * One key set with NX and a lease (a dead holder's lock lapses after 30 s), released only by
 * its holder; one key, so one slot on a Cluster.
 */
export function redisLock(redis: Redis | Cluster, key: string): StartupLock {
  return async (run) => {
    const token = randomBytes(16).toString('base64url');
    const deadline = Date.now() + LEASE_MS + 5_000;
    while ((await redis.set(key, token, 'PX', LEASE_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`the start-up lock ${key} stayed taken`);
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      return await run();
    } finally {
      await redis.eval(RELEASE, 1, key, token).catch(() => {});
    }
  };
}
