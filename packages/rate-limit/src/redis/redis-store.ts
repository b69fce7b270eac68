import { StoreUnavailableError } from '../errors.js';
import { assertPositiveInteger, CodedTypeError, describe } from '../lib/errors.js';
import type { RateLimitAlgorithm, RateLimitStore, StoreDecision } from '../types.js';
import { loadScripts } from './scripts.js';

/** What the store needs of a Redis client; an ioredis 6 `Redis` instance fits. */
export interface RedisClientLike {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /**
   * Longest wait for Redis before the decision counts as a store failure (answered per
   * `failMode`). Default 1000 ms; 0 leaves it to the client's `commandTimeout`.
   */
  timeoutMs?: number;
}

/**
 * Store on Redis, shared by every instance: each decision is one atomic Lua script per
 * algorithm (`lua/*.lua`), sent by EVALSHA with its pinned SHA1 and by EVAL when the server
 * answers NOSCRIPT (after a restart or SCRIPT FLUSH). Scripts read the time with Redis `TIME`,
 * so instances whose clocks disagree still share one window. Keys expire when idle.
 * For fast failure when Redis is down, create the client with `enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 1` and `commandTimeout`. Node.js only.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL, {
 *   enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500,
 * });
 * const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600), store: redisStore(redis) });
 */
export function redisStore(
  redis: RedisClientLike,
  options: RedisStoreOptions = {},
): RateLimitStore {
  if (typeof redis?.evalsha !== 'function' || typeof redis.eval !== 'function') {
    throw new CodedTypeError(
      `"redis" must be an ioredis client, received ${describe(redis)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const timeoutMs = options.timeoutMs ?? 1000;
  if (timeoutMs !== 0) assertPositiveInteger(timeoutMs, 'timeoutMs');
  const scripts = loadScripts();

  async function run(key: string, algorithm: RateLimitAlgorithm, cost: number): Promise<unknown> {
    const script = scripts[algorithm.name];
    const args = [key, ...algorithm.args, cost];
    try {
      return await redis.evalsha(script.sha1, 1, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      // EVAL also loads the script, so the next EVALSHA finds it.
      return await redis.eval(script.source, 1, ...args);
    }
  }

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    if (timeoutMs === 0) return promise;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StoreUnavailableError(`Redis did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      // Settling twice is a no-op, so a reply after the timeout is dropped, never unhandled.
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  return {
    async consume(key, algorithm, cost): Promise<StoreDecision> {
      let reply: unknown;
      try {
        reply = await withTimeout(run(key, algorithm, cost));
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        throw new StoreUnavailableError('Redis could not run the rate-limit script', {
          cause: error,
        });
      }
      if (!Array.isArray(reply) || reply.length !== 4) {
        throw new StoreUnavailableError(`unexpected reply from the ${algorithm.name} script`);
      }
      const [allowed, remaining, resetAfterUs, retryAfterUs] = reply.map(Number) as [
        number,
        number,
        number,
        number,
      ];
      return { allowed: allowed === 1, remaining, resetAfterUs, retryAfterUs };
    },
    async clear(key) {
      try {
        await withTimeout(redis.del(key));
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        throw new StoreUnavailableError('Redis could not delete the key', { cause: error });
      }
    },
  };
}
