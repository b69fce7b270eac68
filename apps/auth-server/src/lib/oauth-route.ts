import { getServer } from './authorization-server';
import { describeError, log } from './log';
import { storeUnavailable } from './route-guard';

/**
 * Hands a request to @portcullis/oauth-server, which routes metadata, JWKS, token, register,
 * revoke and introspect by path (and answers CORS preflights). The URL is re-based on the
 * issuer so the library sees the public origin even behind a proxy.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 * @example
 * export const POST = handleOAuthRequest;
 */
export async function handleOAuthRequest(request: Request): Promise<Response> {
  let server: Awaited<ReturnType<typeof getServer>>;
  try {
    server = await getServer();
  } catch (error) {
    log('error', 'store unavailable', { error: describeError(error) });
    return storeUnavailable();
  }
  const incoming = new URL(request.url);
  const issuer = new URL(server.config.issuer);
  const prefix = issuer.pathname.replace(/\/$/, '');
  const path =
    incoming.pathname.startsWith('/.well-known/') || incoming.pathname.startsWith(`${prefix}/`)
      ? incoming.pathname
      : `${prefix}${incoming.pathname}`;
  const target = new URL(`${path}${incoming.search}`, issuer.origin);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  // The body stays a stream so the library's own size limit (413) applies. A request already
  // at its target is handed on as it is.
  const rebased =
    request.url === target.href
      ? request
      : new Request(target, {
          method: request.method,
          headers: request.headers,
          ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
        } as RequestInit);
  const response = await server.as.handle(rebased);
  return (
    response ??
    Response.json({ error: 'not_found' }, { status: 404, headers: { 'cache-control': 'no-store' } })
  );
}
