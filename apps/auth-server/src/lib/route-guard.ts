import { TemporarilyUnavailableError } from '@portcullis/oauth-server';
import { StoreUnavailableError } from '@portcullis/token-store';
import { ServerStartError } from './authorization-server';
import { describeError, log } from './log';

/** Whether an error means the store (or the server built on it) could not be reached. */
export function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof StoreUnavailableError ||
    error instanceof TemporarilyUnavailableError ||
    error instanceof ServerStartError
  );
}

/** RFC 6749 §5.2 `temporarily_unavailable` as 503 with Retry-After (RFC 9110 §10.2.3). */
export function storeUnavailable(): Response {
  return Response.json(
    { error: 'temporarily_unavailable', error_description: 'The server cannot reach its store.' },
    { status: 503, headers: { 'cache-control': 'no-store', 'retry-after': '5' } },
  );
}

/**
 * Wraps a route handler so that no failure becomes Next.js's 500 with a multi-line stack
 * trace: the store being out (including at the server's first start) answers 503, anything
 * else is logged on one JSON line and answered 500 without internals.
 *
 * @example
 * export const GET = guardRoute(async (request) => …);
 */
export function guardRoute<A extends unknown[]>(
  handler: (request: Request, ...rest: A) => Promise<Response>,
): (request: Request, ...rest: A) => Promise<Response> {
  return async (request, ...rest) => {
    try {
      return await handler(request, ...rest);
    } catch (error) {
      const path = new URL(request.url).pathname;
      if (isStoreUnavailable(error)) {
        log('error', 'store unavailable', { path, error: describeError(error) });
        return storeUnavailable();
      }
      log('error', 'request failed', { method: request.method, path, error: describeError(error) });
      return Response.json(
        { error: 'server_error' },
        { status: 500, headers: { 'cache-control': 'no-store' } },
      );
    }
  };
}
