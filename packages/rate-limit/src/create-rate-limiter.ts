import { StoreUnavailableError } from './errors.js';
import { assertPositiveInteger, assertString, CodedTypeError, describe } from './lib/errors.js';
import { policyItem } from './lib/policy.js';
import { memoryStore } from './memory-store.js';
import type {
  LimitOptions,
  RateLimiter,
  RateLimiterOptions,
  RateLimitResult,
  StoreDecision,
} from './types.js';

const FAILED_RETRY_SECONDS = 1;

/**
 * Makes a limiter from an algorithm and a store. `limit(key, { cost })` answers
 * `{ success, limit, remaining, reset, retryAfter, policy }` and never throws for a limit
 * reached, nor for a store failure: then it answers per `failMode` — `'closed'` (default) denies,
 * `'open'` admits — with `reason: 'store_unavailable'`, and hands the error to `onError`.
 * Design anchor: upstash/ratelimit-js; headers per
 * [draft-ietf-httpapi-ratelimit-headers](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/).
 *
 * @example
 * const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600) });
 * const result = await limiter.limit(`user:${userId}`);
 * if (!result.success) return new Response('Too Many Requests', { status: 429, headers: rateLimitHeaders(result) });
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (typeof options !== 'object' || options === null) {
    throw new CodedTypeError(
      `"options" must be an object, received ${describe(options)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const { algorithm, store = memoryStore(), prefix = 'rl', failMode = 'closed' } = options;
  const { name = 'default', now = Date.now, onError } = options;
  if (typeof algorithm?.apply !== 'function' || !Array.isArray(algorithm.args)) {
    throw new CodedTypeError(
      '"algorithm" must come from slidingWindow(), tokenBucket() or fixedWindow()',
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (typeof store?.consume !== 'function') {
    throw new CodedTypeError(
      '"store" must be a rate-limit store such as memoryStore() or redisStore(redis)',
      'ERR_INVALID_ARG_TYPE',
    );
  }
  assertString(prefix, 'prefix');
  if (failMode !== 'closed' && failMode !== 'open') {
    throw new CodedTypeError(
      `"failMode" must be 'closed' or 'open', received ${describe(failMode)}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  assertString(name, 'name');
  const policy = policyItem(name, algorithm.limit, algorithm.windowSeconds);
  const keyPrefix = `${prefix}:${algorithm.tag}:`;

  function result(decision: StoreDecision, nowMs: number): RateLimitResult {
    return {
      success: decision.allowed,
      limit: algorithm.limit,
      remaining: decision.remaining,
      reset: Math.ceil(nowMs + decision.resetAfterUs / 1000),
      retryAfter: decision.allowed ? 0 : Math.max(1, Math.ceil(decision.retryAfterUs / 1e6)),
      policy,
    };
  }

  function failed(error: unknown, nowMs: number, cost: number): RateLimitResult {
    if (onError) {
      const wrapped =
        error instanceof StoreUnavailableError
          ? error
          : new StoreUnavailableError('the rate-limit store failed', { cause: error });
      try {
        onError(wrapped);
      } catch {
        // A logging hook must not turn an answer into an exception.
      }
    }
    const open = failMode === 'open';
    return {
      success: open,
      limit: algorithm.limit,
      remaining: open ? Math.max(0, algorithm.limit - cost) : 0,
      reset: nowMs + FAILED_RETRY_SECONDS * 1000,
      retryAfter: open ? 0 : FAILED_RETRY_SECONDS,
      reason: 'store_unavailable',
      policy,
    };
  }

  return {
    algorithm,
    policy,
    async limit(key: string, limitOptions: LimitOptions = {}): Promise<RateLimitResult> {
      assertString(key, 'key');
      const cost = limitOptions.cost ?? 1;
      assertPositiveInteger(cost, 'cost');
      const nowMs = now();
      try {
        return result(await store.consume(keyPrefix + key, algorithm, cost, nowMs), nowMs);
      } catch (error) {
        return failed(error, nowMs, cost);
      }
    },
    async clear(key: string): Promise<void> {
      assertString(key, 'key');
      await store.clear(keyPrefix + key);
    },
  };
}
