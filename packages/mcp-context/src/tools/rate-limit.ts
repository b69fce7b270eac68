import { RateLimitedError } from '../errors.js';
import { assertObject, invalidType } from '../lib/errors.js';
import type { ToolAuthContext } from '../types.js';
import { authContext, type WithAuthInfo } from './auth-context.js';
import { isToolAuthContext } from './require-scopes.js';

/** What `rateLimit` reads of a `@portcullis/rate-limit` result. */
export interface RateLimitOutcome {
  success: boolean;
  /** Seconds until a retry can succeed; 0 when allowed. */
  retryAfter: number;
  /** Epoch milliseconds when the window resets. */
  reset: number;
}

/** A `RateLimiter` from `@portcullis/rate-limit` (`createRateLimiter(...)`), or anything shaped like it. */
export interface RateLimiterLike<R extends RateLimitOutcome = RateLimitOutcome> {
  limit(key: string, options?: { cost?: number }): Promise<R>;
}

export interface RateLimitOptions {
  /** Units this call uses; default 1. */
  cost?: number;
  /** Overrides the key (default `user:<userId>`, else `client:<clientId>`). */
  key?: string;
}

/**
 * Inside a tool: counts one call against the caller's allowance — per user (`sub`), or per
 * OAuth client for tokens without a user — and throws `RateLimitedError` ("Rate limit
 * exceeded. Please try again later. Retry in 12s.") when it is used up, which the MCP SDK
 * returns as an `isError` result. Resolves the limiter's result otherwise. The limiter is
 * `@portcullis/rate-limit`'s: O(1) state per key, shared across instances with its Redis
 * store (unlike the guide's per-process list of timestamps). See
 * [RFC 6585 §4](https://www.rfc-editor.org/rfc/rfc6585#section-4) for the HTTP counterpart.
 *
 * @example
 * const limiter = createRateLimiter({ algorithm: slidingWindow(100, 3600) });
 * server.registerTool('search', {}, async (extra) => {
 *   await rateLimit(extra, limiter);
 *   return { content: [{ type: 'text', text: 'ok' }] };
 * });
 */
export async function rateLimit<R extends RateLimitOutcome>(
  ctx: ToolAuthContext | WithAuthInfo,
  limiter: RateLimiterLike<R>,
  options: RateLimitOptions = {},
): Promise<R> {
  if (typeof limiter?.limit !== 'function') throw invalidType('limiter', 'a RateLimiter', limiter);
  assertObject(options, 'options');
  const auth = isToolAuthContext(ctx) ? ctx : authContext(ctx);
  const key =
    options.key ?? (auth.userId !== undefined ? `user:${auth.userId}` : `client:${auth.clientId}`);
  const result = await limiter.limit(
    key,
    options.cost === undefined ? undefined : { cost: options.cost },
  );
  if (!result.success) {
    const fromReset = Math.ceil((result.reset - Date.now()) / 1000);
    const retryAfter = Math.max(
      1,
      Math.ceil(result.retryAfter > 0 ? result.retryAfter : fromReset),
    );
    throw new RateLimitedError(retryAfter);
  }
  return result;
}
