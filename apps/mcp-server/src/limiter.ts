import {
  createRateLimiter,
  memoryStore,
  type RateLimiter,
  slidingWindow,
} from '@portcullis/rate-limit';
import type { Config } from './config.js';

/**
 * The per-user limiter of `rate_limited_tool`: in memory by default; on Redis when `REDIS_URL`
 * is set, so that every instance behind a load balancer shares one budget per user.
 */
export async function createLimiter(
  config: Pick<Config, 'redisUrl' | 'rateLimitPerMinute'>,
): Promise<{ limiter: RateLimiter; close: () => Promise<void> }> {
  const algorithm = slidingWindow(config.rateLimitPerMinute, 60);
  const prefix = 'mcp-server:rate_limited_tool';
  if (!config.redisUrl) {
    return {
      limiter: createRateLimiter({ algorithm, store: memoryStore(), prefix }),
      close: async () => {},
    };
  }
  const [{ Redis }, { redisStore }] = await Promise.all([
    import('ioredis'),
    import('@portcullis/rate-limit/redis'),
  ]);
  // Fail fast while Redis is down rather than queueing: the limiter then answers per failMode.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  return {
    limiter: createRateLimiter({ algorithm, store: redisStore(redis), prefix }),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
