/** Every `code` a `RateLimitError` can carry. */
export type RateLimitErrorCode = 'ERR_RATE_LIMIT_STORE_UNAVAILABLE';

/**
 * Base class of the runtime failures this package reports; callers' mistakes are `TypeError`s.
 * A limit being reached is never an error: it is a result with `success: false`.
 */
export class RateLimitError extends Error {
  static code: RateLimitErrorCode | 'ERR_RATE_LIMIT' = 'ERR_RATE_LIMIT';
  code: RateLimitErrorCode | 'ERR_RATE_LIMIT' = 'ERR_RATE_LIMIT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * The store could not answer (Redis down, timed out, a script error). `limiter.limit()` does not
 * throw it: it answers per `failMode` and hands this error to `onError`, the original in `cause`.
 */
export class StoreUnavailableError extends RateLimitError {
  static override code = 'ERR_RATE_LIMIT_STORE_UNAVAILABLE' as const;
  override code = 'ERR_RATE_LIMIT_STORE_UNAVAILABLE' as const;
}
