import type { AuthInfo } from '../types.js';
import { type BearerAuthOptions, createGuard, type Guard } from './create-guard.js';

export type AuthenticateResult =
  | {
      authInfo: AuthInfo;
      /** CORS headers to add to your response. */
      headers: Record<string, string>;
      /** The JSON body, when it was read to check tool scopes: pass it on as `parsedBody`. */
      parsedBody?: unknown;
    }
  | { response: Response };

const guards = new WeakMap<BearerAuthOptions, Guard>();

/**
 * The fetch-style twin of `bearerAuth`, for `Request`/`Response` servers (Hono, Next.js route
 * handlers, Workers, Vercel's edge) and the SDK's `WebStandardStreamableHTTPServerTransport`:
 * resolves `{ authInfo }` for a request that may pass, or `{ response }` with the RFC 6750 §3
 * answer to send as it is ([RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3),
 * [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)). The options object
 * is checked once and reused, so keep one per server.
 *
 * @example
 * const result = await authenticate(request, auth);
 * if ('response' in result) return result.response;
 * return transport.handleRequest(request, { authInfo: result.authInfo, parsedBody: result.parsedBody });
 */
export async function authenticate(
  request: Request,
  options: BearerAuthOptions,
): Promise<AuthenticateResult> {
  let guard = guards.get(options);
  if (!guard) {
    guard = createGuard(options);
    guards.set(options, guard);
  }
  const url = new URL(request.url);
  const result = await guard({
    method: request.method,
    search: url.search,
    authorization: request.headers.get('authorization'),
    host: request.headers.get('host') ?? url.host,
    origin: request.headers.get('origin'),
    target: url.pathname,
    dpop: request.headers.get('dpop'),
    readBody: async () => {
      try {
        return await request.clone().json();
      } catch {
        return undefined;
      }
    },
  });
  if (!result.ok) {
    return {
      response: new Response(result.body, { status: result.status, headers: result.headers }),
    };
  }
  return result.body === undefined
    ? { authInfo: result.authInfo, headers: result.headers }
    : { authInfo: result.authInfo, headers: result.headers, parsedBody: result.body };
}
