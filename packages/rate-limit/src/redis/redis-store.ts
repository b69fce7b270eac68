import { StoreUnavailableError } from '../errors.js';
import { assertPositiveInteger, CodedTypeError, describe } from '../lib/errors.js';
import type { RateLimitAlgorithm, RateLimitStore, StoreDecision } from '../types.js';
import { keySlot } from './key-slot.js';
import { type LuaScript, loadScripts } from './scripts.js';

/** A pipeline of the client: commands queued, then written at once by `exec`. */
export interface RedisPipelineLike {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** What the store needs of a Redis client; an ioredis 6 `Redis` or `Cluster` instance fits. */
export interface RedisClientLike {
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  /** ioredis sets it on `Cluster` clients: there every script gets one key, so one slot. */
  readonly isCluster?: boolean;
  /** A Cluster's nodes by slot (master first): decisions bound for one node share a pipeline. */
  readonly slots?: readonly (readonly string[])[];
  /** Where a Cluster's `keyPrefix` is, so that slots are computed on the keys Redis sees. */
  readonly options?: { readonly keyPrefix?: string };
  pipeline?(): RedisPipelineLike;
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
  settle: Settle[];
}

type Settle = (error: unknown, decision?: StoreDecision) => void;

/** Most decisions one script call makes, so that no call holds Redis for long. */
const MAX_BATCH = 128;
/**
 * A tick's decisions of one algorithm go as up to SPLIT script calls of equal size, never split
 * below MIN_SPLIT keys (the last call takes what is left). With several calls in flight Redis
 * runs one while this process reads the answer to another and sends the decisions it set off;
 * with one call per tick each side waits for the other (at 64 in flight, the bench: 1.3–2.0×
 * rate-limiter-flexible's decisions per second instead of 1.0–1.2×; at 16, measured apart: ahead
 * of it instead of behind).
 */
const SPLIT = 4;
const MIN_SPLIT = 4;

/**
 * Store on Redis, shared by every instance: decisions are made by one atomic Lua script per
 * algorithm (`lua/*.lua`), sent by EVALSHA with its pinned SHA1 and by EVAL when the server
 * answers NOSCRIPT (after a restart or SCRIPT FLUSH). Scripts read the time with Redis `TIME`,
 * so instances whose clocks disagree still share one window. Keys expire when idle. Decisions of
 * one algorithm asked for in the same tick go to Redis as a few script calls over their keys (up
 * to four, of four keys or more but the last, so that Redis works on one while this process
 * handles another's answer) — most of a decision's cost is the command around it. On an ioredis
 * `Cluster` (`isCluster`) each call carries one key, so no script touches two slots, and the
 * calls bound for one node go out as one pipeline. For fast failure when Redis is down, create
 * the client with `enableOfflineQueue: false`, `maxRetriesPerRequest: 1` and `commandTimeout`.
 * Node.js only.
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
  const cluster = redis.isCluster === true;
  const keyPrefix = cluster ? (redis.options?.keyPrefix ?? '') : '';
  // Open batches by algorithm: limiters sharing this store each have their own.
  const open = new Map<RateLimitAlgorithm, Batch>();
  let flushQueued = false;

  /** EVAL: for a Redis that has not loaded the script (it also loads it for the next EVALSHA). */
  const load = (script: LuaScript, keys: string[], args: number[]): Promise<unknown> =>
    redis.eval(script.source, keys.length, ...keys, ...args);

  async function evaluate(script: LuaScript, keys: string[], args: number[]): Promise<unknown> {
    try {
      return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await load(script, keys, args);
    }
  }

  /** Runs `work` (which settles each decision it carries) with one timeout for all of them. */
  function guarded(settle: Settle[], work: (settle: Settle[]) => Promise<void>): void {
    let done = false;
    const once = settle.map(
      (one): Settle =>
        (error, decision) => {
          if (!done) one(error, decision);
        },
    );
    const timer =
      timeoutMs === 0
        ? undefined
        : setTimeout(() => {
            const failure = new StoreUnavailableError(
              `Redis did not answer within ${timeoutMs} ms`,
            );
            for (const one of once) one(failure);
            done = true; // a reply after the timeout is dropped
          }, timeoutMs);
    work(once)
      .catch((error: unknown) => {
        for (const one of once) one(storeFailure(error));
      })
      .finally(() => {
        done = true;
        if (timer) clearTimeout(timer);
      });
  }

  /** One script call over every key of the batch (one node, or keys of one slot). */
  function send(batch: Batch): void {
    const { algorithm, keys, costs } = batch;
    guarded(batch.settle, async (settle) => {
      const reply = await evaluate(scripts[algorithm.name], keys, [...algorithm.args, ...costs]);
      if (!Array.isArray(reply) || reply.length !== keys.length * 4) {
        throw new StoreUnavailableError(`unexpected reply from the ${algorithm.name} script`);
      }
      for (let i = 0; i < settle.length; i++) settle[i]!(undefined, toDecision(reply, i * 4));
    });
  }

  /**
   * On a Cluster: one script call per key (so per slot), the calls bound for one node written as
   * one pipeline. Without slot information yet, or without pipelines, one call each.
   */
  function sendToCluster(batch: Batch): void {
    const { algorithm, keys, costs, settle } = batch;
    const script = scripts[algorithm.name];
    const groups = new Map<string, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const nodes = redis.slots?.[keySlot(keyPrefix + keys[i]!)];
      const group = nodes && typeof redis.pipeline === 'function' ? nodes.join(',') : `#${i}`;
      const members = groups.get(group);
      if (members) members.push(i);
      else groups.set(group, [i]);
    }
    for (const members of groups.values()) {
      if (members.length === 1) {
        const i = members[0]!;
        send({ algorithm, keys: [keys[i]!], costs: [costs[i]!], settle: [settle[i]!] });
        continue;
      }
      guarded(
        members.map((i) => settle[i]!),
        async (own) => {
          const pipeline = redis.pipeline!();
          for (const i of members) {
            pipeline.evalsha(script.sha1, 1, keys[i]!, ...algorithm.args, costs[i]!);
          }
          const results = await pipeline.exec();
          await Promise.all(
            members.map(async (i, at) => {
              const [error, value] = results?.[at] ?? [new Error('no reply in the pipeline')];
              try {
                // NOSCRIPT: this master has not loaded the script (new, restarted, flushed).
                // EVAL, not EVALSHA again: that would be refused the same way, a wasted trip.
                const reply = isNoScript(error)
                  ? await load(script, [keys[i]!], [...algorithm.args, costs[i]!])
                  : value;
                if (error && !isNoScript(error)) throw error;
                if (!Array.isArray(reply) || reply.length !== 4) {
                  throw new StoreUnavailableError(
                    `unexpected reply from the ${algorithm.name} script`,
                  );
                }
                own[at]!(undefined, toDecision(reply, 0));
              } catch (failure) {
                own[at]!(storeFailure(failure));
              }
            }),
          );
        },
      );
    }
  }

  function flush(): void {
    flushQueued = false;
    const batches = [...open.values()];
    open.clear();
    for (const batch of batches) {
      // On a Cluster each key is its own call already, with one pipeline per master.
      if (cluster) sendToCluster(batch);
      else for (const part of split(batch)) send(part);
    }
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
        if (batch.keys.length >= MAX_BATCH) {
          open.delete(algorithm);
          (cluster ? sendToCluster : send)(batch);
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

/**
 * The batch as at most SPLIT consecutive parts of ceil(keys / SPLIT) keys, or of MIN_SPLIT keys
 * when that is more (the last part takes what is left); a batch of MIN_SPLIT keys or fewer stays
 * whole. Sent in order on one connection, Redis runs them in order: the same key in two parts is
 * decided in call order, as within one call.
 */
function split(batch: Batch): Batch[] {
  const count = batch.keys.length;
  const size = Math.max(MIN_SPLIT, Math.ceil(count / SPLIT));
  if (count <= size) return [batch];
  const parts: Batch[] = [];
  for (let at = 0; at < count; at += size) {
    parts.push({
      algorithm: batch.algorithm,
      keys: batch.keys.slice(at, at + size),
      costs: batch.costs.slice(at, at + size),
      settle: batch.settle.slice(at, at + size),
    });
  }
  return parts;
}

function isNoScript(error: unknown): boolean {
  return String((error as Error)?.message).startsWith('NOSCRIPT');
}

function storeFailure(error: unknown): StoreUnavailableError {
  return error instanceof StoreUnavailableError
    ? error
    : new StoreUnavailableError('Redis could not run the rate-limit script', { cause: error });
}

/** Four numbers of a script's reply, from `at`: allowed 0|1, remaining, reset µs, retry µs. */
function toDecision(reply: unknown[], at: number): StoreDecision {
  return {
    allowed: reply[at] === 1,
    remaining: Number(reply[at + 1]),
    resetAfterUs: Number(reply[at + 2]),
    retryAfterUs: Number(reply[at + 3]),
  };
}
