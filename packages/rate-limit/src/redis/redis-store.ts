import { StoreUnavailableError } from '../errors.js';
import { assertPositiveInteger, CodedTypeError, describe } from '../lib/errors.js';
import type { RateLimitAlgorithm, RateLimitStore, StoreDecision } from '../types.js';
import { type LuaScript, loadScripts } from './scripts.js';

/** What the store needs of a Redis client; an ioredis 6 `Redis` or `Cluster` instance fits. */
export interface RedisClientLike {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  /** ioredis sets it on `Cluster` clients: there every script gets one key, so one slot. */
  readonly isCluster?: boolean;
}

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /**
   * Longest wait for Redis before the decision counts as a store failure (answered per
   * `failMode`). Default 1000 ms; 0 leaves it to the client's `commandTimeout`.
   */
  timeoutMs?: number;
}

/** Decisions of one algorithm waiting for the next script call. */
interface Batch {
  algorithm: RateLimitAlgorithm;
  keys: string[];
  costs: number[];
  settle: ((error: unknown, decision?: StoreDecision) => void)[];
}

/** Most decisions one script call makes, so that no call holds Redis for long. */
const MAX_BATCH = 128;

/**
 * Store on Redis, shared by every instance: decisions are made by one atomic Lua script per
 * algorithm (`lua/*.lua`), sent by EVALSHA with its pinned SHA1 and by EVAL when the server
 * answers NOSCRIPT (after a restart or SCRIPT FLUSH). Scripts read the time with Redis `TIME`,
 * so instances whose clocks disagree still share one window. Keys expire when idle.
 * Decisions of one algorithm asked for in the same tick go to Redis as one script call over
 * their keys — most of a decision's cost is the command around it. On an ioredis `Cluster`
 * (`isCluster`) each call carries one key, so no script touches two slots. For fast failure when
 * Redis is down, create the client with `enableOfflineQueue: false`, `maxRetriesPerRequest: 1`
 * and `commandTimeout`. Node.js only.
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
  const batchLimit = redis.isCluster === true ? 1 : MAX_BATCH;
  // Open batches by algorithm: limiters sharing this store each have their own.
  const open = new Map<RateLimitAlgorithm, Batch>();
  let flushQueued = false;

  async function evaluate(script: LuaScript, keys: string[], args: number[]): Promise<unknown> {
    try {
      return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      // EVAL also loads the script, so the next EVALSHA finds it.
      return await redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  function send(batch: Batch): void {
    const { algorithm, keys, costs, settle } = batch;
    let done = false;
    const finish = (error: unknown, reply?: unknown) => {
      if (done) return; // a reply after the timeout is dropped
      done = true;
      if (timer) clearTimeout(timer);
      if (error !== undefined) {
        const failure =
          error instanceof StoreUnavailableError
            ? error
            : new StoreUnavailableError('Redis could not run the rate-limit script', {
                cause: error,
              });
        for (const one of settle) one(failure);
        return;
      }
      if (!Array.isArray(reply) || reply.length !== keys.length * 4) {
        const failure = new StoreUnavailableError(
          `unexpected reply from the ${algorithm.name} script`,
        );
        for (const one of settle) one(failure);
        return;
      }
      for (let i = 0; i < settle.length; i++) {
        settle[i]!(undefined, {
          allowed: reply[i * 4] === 1,
          remaining: Number(reply[i * 4 + 1]),
          resetAfterUs: Number(reply[i * 4 + 2]),
          retryAfterUs: Number(reply[i * 4 + 3]),
        });
      }
    };
    const timer =
      timeoutMs === 0
        ? undefined
        : setTimeout(
            () => finish(new StoreUnavailableError(`Redis did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
    evaluate(scripts[algorithm.name], keys, [...algorithm.args, ...costs]).then(
      (reply) => finish(undefined, reply),
      (error: unknown) => finish(error ?? new Error('Redis failed')),
    );
  }

  function flush(): void {
    flushQueued = false;
    const batches = [...open.values()];
    open.clear();
    for (const batch of batches) send(batch);
  }

  return {
    consume(key, algorithm, cost): Promise<StoreDecision> {
      return new Promise((resolve, reject) => {
        let batch = open.get(algorithm);
        if (!batch) {
          batch = { algorithm, keys: [], costs: [], settle: [] };
          open.set(algorithm, batch);
        }
        batch.keys.push(key);
        batch.costs.push(cost);
        batch.settle.push((error, decision) => (error ? reject(error) : resolve(decision!)));
        if (batch.keys.length >= batchLimit) {
          open.delete(algorithm);
          send(batch);
        } else if (!flushQueued) {
          // process.nextTick runs after the promise jobs of this turn, so every decision that
          // the replies just read set off joins the same call.
          flushQueued = true;
          process.nextTick(flush);
        }
      });
    },
    async clear(key) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          redis.del(key),
          new Promise((_, reject) => {
            if (timeoutMs === 0) return;
            timer = setTimeout(
              () =>
                reject(new StoreUnavailableError(`Redis did not answer within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        throw new StoreUnavailableError('Redis could not delete the key', { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
