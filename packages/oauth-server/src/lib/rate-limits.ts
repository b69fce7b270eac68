import {
  createRateLimiter,
  memoryStore,
  type RateLimiter,
  type RateLimitResult,
  rateLimitHeaders,
  slidingWindow,
} from '@portcullis/rate-limit';
import { TemporarilyUnavailableError, TooManyRequestsError } from '../errors.js';
import type { EndpointRateLimits, RateLimitAlgorithm, RateLimitOptions } from '../options.js';

export type LimitedEndpoint = 'token' | 'register' | 'authorize' | 'cimd';
type Kind = 'perClient' | 'perIp' | 'global';

/** Collects the most restrictive result of a request's limiters, for its RateLimit headers. */
export class RateLimitState {
  private result: RateLimitResult | undefined;
  /** The limit that refused the request, for the `rate_limit.hit` audit event. */
  hit: { endpoint: LimitedEndpoint; limit: Kind; clientId?: string | undefined } | undefined;

  constructor(private readonly now: () => number) {}

  record(result: RateLimitResult): void {
    if (
      !this.result ||
      !result.success ||
      (this.result.success && result.remaining < this.result.remaining)
    ) {
      this.result = result;
    }
  }

  headers(): Record<string, string> {
    return this.result ? rateLimitHeaders(this.result, { now: this.now() }) : {};
  }
}

export interface Limits {
  /**
   * Counts one request; rejects with `too_many_requests` (429) when over the limit. No key → no
   * limit (a `global` limit takes any constant key). `undefined` when nothing is counted (no such
   * limit, or rate limiting is off): nothing to wait for.
   */
  check(
    state: RateLimitState,
    endpoint: LimitedEndpoint,
    kind: Kind,
    key: string | undefined,
    clientId?: string,
  ): Promise<void> | undefined;
}

/**
 * The key of a per-client limit. A client that authenticated (a verified secret) is counted
 * alone; a request that did not (a public client, or /authorize, where anyone can name any
 * client) is counted per client × caller address, and not at all when the address is unknown:
 * a stranger must never be able to spend a limit the client's users need.
 */
export function perClientKey(
  clientId: string,
  authenticated: boolean,
  ip: string | undefined,
): string | undefined {
  if (authenticated) return clientId;
  return ip === undefined ? undefined : `${clientId} @${ip}`;
}

const off = () => false as const;
const DEFAULTS: Record<LimitedEndpoint, Record<Kind, () => RateLimitAlgorithm | false>> = {
  token: {
    perClient: () => slidingWindow(60, 60),
    perIp: () => slidingWindow(120, 60),
    global: off,
  },
  register: {
    perClient: off,
    perIp: () => slidingWindow(20, 3600),
    global: () => slidingWindow(1000, 3600),
  },
  authorize: {
    perClient: () => slidingWindow(60, 60),
    perIp: () => slidingWindow(60, 60),
    global: off,
  },
  // Outbound fetches of client metadata documents: spent before the fetch, on a cache miss.
  cimd: {
    perClient: off,
    perIp: () => slidingWindow(10, 60),
    global: () => slidingWindow(120, 60),
  },
};

/** Builds the per-client and per-IP limiters of token, register and authorize. */
export function createLimits(
  options: false | RateLimitOptions | undefined,
  now: () => number,
): Limits {
  if (options === false) return { check: () => undefined };
  const store = options?.store ?? memoryStore();
  const limiters = new Map<string, RateLimiter>();
  for (const endpoint of ['token', 'register', 'authorize', 'cimd'] as const) {
    const configured: EndpointRateLimits | false | undefined = options?.[endpoint];
    if (configured === false) continue;
    for (const kind of ['perClient', 'perIp', 'global'] as const) {
      const algorithm = configured?.[kind] ?? DEFAULTS[endpoint][kind]();
      if (algorithm === false) continue;
      limiters.set(
        `${endpoint}:${kind}`,
        createRateLimiter({
          algorithm,
          store,
          prefix: `oauth:${endpoint}:${kind === 'perClient' ? 'client' : kind === 'perIp' ? 'ip' : 'all'}`,
          failMode: options?.failMode ?? 'closed',
          now,
        }),
      );
    }
  }
  return {
    check(state, endpoint, kind, key, clientId) {
      const limiter = limiters.get(`${endpoint}:${kind}`);
      if (!limiter || key === undefined) return undefined;
      return count(limiter, state, endpoint, kind, key, clientId);
    },
  };
}

async function count(
  limiter: RateLimiter,
  state: RateLimitState,
  endpoint: LimitedEndpoint,
  kind: Kind,
  key: string,
  clientId: string | undefined,
): Promise<void> {
  const result = await limiter.limit(key);
  state.record(result);
  if (result.success) return;
  if (result.reason === 'store_unavailable') {
    throw new TemporarilyUnavailableError('rate limiting is unavailable, retry later');
  }
  state.hit = { endpoint, limit: kind, clientId };
  throw new TooManyRequestsError(
    `too many requests, retry in ${result.retryAfter} seconds`,
    result.retryAfter,
  );
}
