import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { redisAdapter } from '../src/redis/index.js';
import { conformance } from './support/conformance.js';
import { deleteRedisPrefix, dumpRedis, randomSchema } from './support/dump.js';

describe.runIf(await serviceAvailable('Redis'))('Redis (ioredis)', () => {
  // Shared server: this file's own key prefix, one sub-prefix per test, deleted at the end.
  const filePrefix = `${randomSchema()}:`;
  let redis: Redis;
  let n = 0;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await deleteRedisPrefix(redis, filePrefix);
    redis.disconnect();
  });

  conformance('Redis', async () => {
    const prefix = `${filePrefix}${++n}:`;
    const adapter = redisAdapter(redis, { prefix });
    return {
      adapter,
      dump: () => dumpRedis(redis, prefix),
      close: () => adapter.close(),
    };
  });
});
