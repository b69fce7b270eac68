import { StoreUnavailableError } from '../errors.js';
import { assertPositiveInteger, CodedTypeError, describe } from '../lib/errors.js';
import { assertReplayArgs } from '../lib/replay-args.js';
import type { ReplayStore } from '../replay.js';

/** What the replay store needs of a Redis client; an ioredis 6 `Redis` or `Cluster` fits. */
export interface RedisCommandClientLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of `redisReplayStore`. */
export interface RedisReplayStoreOptions {
  /** Put before every key (after the client's own `keyPrefix`). Default `portcullis:replay:`. */
  prefix?: string;
  /** Longest wait for Redis before `remember` rejects. Default 1000 ms; 0 leaves it to the client. */
  timeoutMs?: number;
}

/**
 * Replay store on Redis (one node or a Cluster), shared by every instance: each `remember` is
 * one `SET key 1 NX PXAT expiresAtMs` — atomic on the server, so of any number of concurrent
 * calls for a key exactly one gets `true`; the key expires by Redis's own clock. One key per
 * command, so any Cluster slot will do. Failures and timeouts reject as `StoreUnavailableError`:
 * refuse the request (503), never accept it. Node.js only.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { redisReplayStore } from '@portcullis/rate-limit/redis';
 * const replay = redisReplayStore(new Redis(process.env.REDIS_URL, { commandTimeout: 500 }));
 * await verifyProof(proof, { ...checks, replay }); // @portcullis/dpop
 */
export function redisReplayStore(
  redis: RedisCommandClientLike,
  options: RedisReplayStoreOptions = {},
): ReplayStore {
  if (typeof redis?.call !== 'function') {
    throw new CodedTypeError(
      `"redis" must be an ioredis client, received ${describe(redis)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const prefix = options.prefix ?? 'portcullis:replay:';
  if (typeof prefix !== 'string') {
    throw new CodedTypeError('"prefix" must be a string', 'ERR_INVALID_ARG_TYPE');
  }
  const timeoutMs = options.timeoutMs ?? 1000;
  if (timeoutMs !== 0) assertPositiveInteger(timeoutMs, 'timeoutMs');

  return {
    async remember(key, expiresAtMs) {
      assertReplayArgs(key, expiresAtMs);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const set = redis.call('SET', prefix + key, '1', 'NX', 'PXAT', expiresAtMs);
        const reply = await (timeoutMs === 0
          ? set
          : Promise.race([
              set,
              new Promise<never>((_, reject) => {
                timer = setTimeout(
                  () =>
                    reject(
                      new StoreUnavailableError(`Redis did not answer within ${timeoutMs} ms`),
                    ),
                  timeoutMs,
                );
              }),
            ]));
        return reply === 'OK';
      } catch (cause) {
        if (cause instanceof StoreUnavailableError) throw cause;
        throw new StoreUnavailableError('Redis could not run the replay store command', { cause });
      } finally {
        if (timer) clearTimeout(timer);
      }
    },
  };
}
