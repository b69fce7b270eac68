import { execFileSync } from 'node:child_process';
import { isCI } from '@portcullis/internal-testing';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, fixedWindow } from '../src/index.js';
import { redisStore } from '../src/redis/index.js';
import { storeConformance } from './conformance.js';
import { exactAcrossProcesses } from './processes.js';
import { type RunningRedisCluster, startRedisCluster } from './redis-cluster.mjs';
import { uniquePrefix } from './redis-helpers.js';

function redisServerInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (isCI) throw new Error('redis-server is not installed, and CI=true requires it');
    console.warn('[skip] redis-server is not installed: the Redis Cluster tests are skipped');
    return false;
  }
}

// Our own three-master cluster, started and killed by this file.
describe.runIf(redisServerInstalled())('redisStore on a Redis Cluster (3 masters)', () => {
  const prefix = uniquePrefix();
  let cluster: RunningRedisCluster;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    await new Promise((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  describe('store conformance', () => {
    storeConformance(() => redisStore(client));
  });

  it('each script call carries one key, and the keys land on every master', async () => {
    const numkeys: number[] = [];
    const counting = {
      isCluster: true,
      evalsha: (...args: Parameters<Cluster['evalsha']>) => {
        numkeys.push(Number(args[1]));
        return client.evalsha(...args);
      },
      eval: (...args: Parameters<Cluster['eval']>) => client.eval(...args),
      del: (...keys: string[]) => client.del(...keys),
    };
    const limiter = createRateLimiter({
      algorithm: fixedWindow(3, 3600),
      store: redisStore(counting),
      prefix: `${prefix}:spread`,
    });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => limiter.limit(`user-${i}`)),
    );
    expect(results.every((r) => r.success && r.remaining === 2)).toBe(true);
    expect(numkeys).toEqual(Array(30).fill(1));
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(sizes).toHaveLength(3);
    for (const size of sizes) expect(size).toBeGreaterThan(0);
  });

  describe('across processes', () => {
    exactAcrossProcesses(
      () => `cluster:${cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',')}`,
      () => prefix,
    );
  });
});
