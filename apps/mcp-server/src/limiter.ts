import {
  createRateLimiter,
  memoryStore,
  type RateLimiter,
  type ReplayStore,
  slidingWindow,
} from '@portcullis/rate-limit';
import type { Config } from './config.js';

/**
 * The per-user limiter of `rate_limited_tool`: in memory by default; on Redis when `REDIS_URL`
 * is set, so that every instance behind a load balancer shares one budget per user. On Redis,
 * also the DPoP proofs' replay store (`replay`), shared the same way; without it, mcp-context
 * remembers proofs in this process's memory.
 */
export async function createLimiter(
  config: Pick<Config, 'redisUrl' | 'rateLimitPerMinute'>,
): Promise<{ limiter: RateLimiter; replay?: ReplayStore; close: () => Promise<void> }> {
  const algorithm = slidingWindow(config.rateLimitPerMinute, 60);
  const prefix = 'mcp-server:rate_limited_tool';
  if (!config.redisUrl) {
    return {
      limiter: createRateLimiter({ algorithm, store: memoryStore(), prefix }),
      close: async () => {},
    };
  }
  const [{ Redis }, { redisStore, redisReplayStore }] = await Promise.all([
    import('ioredis'),
    import('@portcullis/rate-limit/redis'),
  ]);
  // Fail fast while Redis is down rather than queueing: the limiter then answers per failMode.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return {
    limiter: createRateLimiter({ algorithm, store: redisStore(redis), prefix }),
    replay: redisReplayStore(redis, { prefix: 'mcp-server:dpop:' }),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
