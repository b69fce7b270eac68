import type { StoreUnavailableError } from './errors.js';

/** The algorithms this package implements; each keeps O(1) state per key. */
export type RateLimitAlgorithmName = 'sliding-window' | 'token-bucket' | 'fixed-window';

/** What a store answers for one decision. Durations are in microseconds. */
export interface StoreDecision {
  allowed: boolean;
  /** Requests (cost units) that would still be admitted right now. */
  remaining: number;
  /** Microseconds until the policy's quota is back (see each algorithm). */
  resetAfterUs: number;
  /** Microseconds until a request of the same cost would be admitted; 0 when allowed. */
  retryAfterUs: number;
}

/**
 * An algorithm with its parameters, as made by `slidingWindow`, `tokenBucket` or `fixedWindow`.
 * Stores run it: the memory store calls `apply`; the Redis store runs the Lua script of the same
 * `name` with `args`. Both compute the same thing in integer microseconds.
 */
export interface RateLimitAlgorithm {
  readonly name: RateLimitAlgorithmName;
  /** Short tag put in store keys, so limiters of different algorithms never share state. */
  readonly tag: 'sw' | 'tb' | 'fw';
  /** Cost units admitted at once: the window's limit, or the bucket's burst. */
  readonly limit: number;
  /** The policy window in whole seconds, for `RateLimit-Policy` (`w`). */
  readonly windowSeconds: number;
  /** The script's arguments before `cost`, in microseconds and counts. */
  readonly args: readonly number[];
  /**
   * Decides on one key's state, updating it in place: `cells[at..at+2]` hold the state (all
   * zeros for a key never seen), `cells[at+3]` receives the time (µs) after which the state is
   * no longer needed. For stores only.
   */
  apply(cells: Float64Array, at: number, nowUs: number, cost: number): StoreDecision;
}

/** Where limiter state lives. `consume` must decide and update atomically per key. */
export interface RateLimitStore {
  /** `nowMs` is the limiter's clock; a store with a clock of its own (Redis) ignores it. */
  consume(
    key: string,
    algorithm: RateLimitAlgorithm,
    cost: number,
    nowMs: number,
  ): StoreDecision | Promise<StoreDecision>;
  /** Forgets one key's state. */
  clear(key: string): void | Promise<void>;
}

/** Options of `createRateLimiter`. */
export interface RateLimiterOptions {
  algorithm: RateLimitAlgorithm;
  /** Default: a fresh `memoryStore()`. */
  store?: RateLimitStore;
  /** Key namespace; give each limiter sharing a store its own. Default `'rl'`. */
  prefix?: string;
  /** What to answer when the store fails: `'closed'` (default) denies, `'open'` admits. */
  failMode?: 'closed' | 'open';
  /** The policy name in `RateLimit-Policy` and `RateLimit`. Default `'default'`. */
  name?: string;
  /** Epoch milliseconds, for tests; the Redis store uses Redis `TIME` instead. */
  now?: () => number;
  /** Called with each store failure (for logging); what it throws is ignored. */
  onError?: (error: StoreUnavailableError) => void;
}

/** Options of one `limiter.limit()` call. */
export interface LimitOptions {
  /** Units this request uses, a positive integer. Default 1. */
  cost?: number;
}

/** One decision. A limit reached is `success: false`, never an exception. */
export interface RateLimitResult {
  success: boolean;
  /** The policy's quota: the window's limit or the bucket's burst. */
  limit: number;
  /** Units still available after this decision. */
  remaining: number;
  /** Epoch ms at which the quota is back (window end; for the token bucket, when it is full). */
  reset: number;
  /** Seconds to wait before a request of the same cost can succeed; 0 when `success`. */
  retryAfter: number;
  /** Set when the store failed and the answer comes from `failMode`. */
  reason?: 'store_unavailable';
  /** The `RateLimit-Policy` item of this limiter, e.g. `"default";q=100;w=3600`. */
  policy: string;
}

/** A limiter made by `createRateLimiter`. */
export interface RateLimiter {
  readonly algorithm: RateLimitAlgorithm;
  /** The `RateLimit-Policy` item, e.g. `"default";q=100;w=3600`. */
  readonly policy: string;
  limit(key: string, options?: LimitOptions): Promise<RateLimitResult>;
  /** Forgets a key's state (after a successful login, say). Rejects if the store fails. */
  clear(key: string): Promise<void>;
}
