import { execFileSync } from 'node:child_process';
import { isCI } from '@portcullis/internal-testing';
import {
  type RunningRedisCluster,
  startRedisCluster,
} from '@portcullis/internal-testing/redis-cluster';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, FamilyRevokedError, RefreshTokenReuseError } from '../src/index.js';
import { redisAdapter } from '../src/redis/index.js';
import { conformance } from './support/conformance.js';
import { dumpRedis, randomSchema } from './support/dump.js';

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
describe.runIf(redisServerInstalled())('Redis Cluster (ioredis Cluster, 3 masters)', () => {
  const filePrefix = `${randomSchema()}:`;
  let cluster: RunningRedisCluster;
  let client: Cluster;
  let n = 0;

  /** Every key under the prefix on every master. */
  async function dumpCluster(prefix: string): Promise<string> {
    const parts = await Promise.all(client.nodes('master').map((node) => dumpRedis(node, prefix)));
    return parts.filter(Boolean).join('\n');
  }

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

  conformance('Redis Cluster', async () => {
    const prefix = `${filePrefix}${++n}:`;
    const adapter = redisAdapter(client, { prefix });
    return { adapter, dump: () => dumpCluster(prefix), close: () => adapter.close() };
  });

  it('each script call names keys of one slot; reuse revokes the family across slots', async () => {
    const prefix = `${filePrefix}slots:`;
    const calls: string[][] = [];
    const evalsha = client.evalsha.bind(client);
    const spy = Object.assign(Object.create(client) as Cluster, {
      evalsha: (...args: Parameters<Cluster['evalsha']>) => {
        const count = Number(args[1]);
        calls.push(args.slice(2, 2 + count).map(String));
        return evalsha(...args);
      },
    });
    const store = createTokenStore({ adapter: redisAdapter(spy, { prefix }), production: false });
    const { token } = await store.refreshTokens.issue({
      clientId: 'c',
      userId: 'u',
      scopes: ['read'],
      familyId: 'family-1',
    });
    const successor = await store.refreshTokens.rotate(token, { graceSeconds: 0 });
    await expect(store.refreshTokens.rotate(token, { graceSeconds: 0 })).rejects.toBeInstanceOf(
      RefreshTokenReuseError,
    );
    expect(calls.length).toBeGreaterThan(3);
    for (const keys of calls) {
      const slots = new Set(
        await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key) as Promise<number>)),
      );
      expect(slots.size, `one script call's keys: ${keys.join(' ')}`).toBe(1);
    }
    // Reuse revoked the family: a later write into it is refused on every master.
    await expect(
      store.accessTokens.issue({ clientId: 'c', userId: 'u', scopes: [], familyId: 'family-1' }),
    ).rejects.toBeInstanceOf(FamilyRevokedError);
    expect(await store.refreshTokens.find(token)).toBeUndefined();
    expect(await store.refreshTokens.find(successor.token)).toBeUndefined();
  });

  it('refuses a prefix with a hash tag of its own', () => {
    expect(() => redisAdapter(client, { prefix: 'a{b}:' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
