import { CodedTypeError, describe } from './lib/errors.js';
import { policyName } from './lib/policy.js';
import type { RateLimitResult } from './types.js';

/**
 * The response header fields for a decision, per
 * [draft-ietf-httpapi-ratelimit-headers](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/)
 * (structured fields, RFC 9651): `RateLimit-Policy: "default";q=100;w=3600` (§3) and
 * `RateLimit: "default";r=42;t=17` (§4: remaining units, seconds until `reset`), plus
 * `Retry-After` in seconds ([RFC 9110 §10.2.3](https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3))
 * when the request was denied. `now` (epoch ms) defaults to `Date.now()`.
 *
 * @example
 * const result = await limiter.limit(userId);
 * const headers = rateLimitHeaders(result);
 * if (!result.success) return new Response('Too Many Requests', { status: 429, headers });
 */
export function rateLimitHeaders(
  result: RateLimitResult,
  options: { now?: number } = {},
): Record<string, string> {
  if (typeof result !== 'object' || result === null || typeof result.policy !== 'string') {
    throw new CodedTypeError(
      `"result" must be what limiter.limit() returned, received ${describe(result)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const now = options.now ?? Date.now();
  const seconds = Math.max(0, Math.ceil((result.reset - now) / 1000));
  const headers: Record<string, string> = {
    'RateLimit-Policy': result.policy,
    RateLimit: `${policyName(result.policy)};r=${Math.max(0, Math.floor(result.remaining))};t=${seconds}`,
  };
  if (!result.success) headers['Retry-After'] = String(Math.max(1, Math.ceil(result.retryAfter)));
  return headers;
}
