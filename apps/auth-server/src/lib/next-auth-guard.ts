import { describeError, log } from './log';

/** next-auth's own check of a callback URL: a path, or an absolute http(s) URL. */
function validCallbackUrl(value: string): boolean {
  try {
    const url = new URL(value, value.startsWith('/') ? 'http://localhost' : undefined);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function refuse(status: number, error: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error }, { status, headers: { 'cache-control': 'no-store', ...headers } });
}

/**
 * Screens a request before next-auth sees it: next-auth answers 500 (and logs a stack trace
 * quoting the input) for requests any caller can send — a `callbackUrl` that is not a URL, a
 * forged callback-url cookie, a GET on a credentials callback, a body that does not parse.
 * Those get a 4xx here; `undefined` lets the request through.
 *
 * @example
 * const refused = screenNextAuthRequest(request, action, providerId, credentialIds);
 * if (refused) return refused;
 */
export function screenNextAuthRequest(
  request: Request,
  cookies: { name: string; value: string }[],
  segments: string[],
  credentialProviders: readonly string[],
): Response | undefined {
  const callbackUrl = new URL(request.url).searchParams.get('callbackUrl');
  if (callbackUrl !== null && !validCallbackUrl(callbackUrl)) {
    log('warn', 'next-auth request refused', { reason: 'invalid callbackUrl', callbackUrl });
    return refuse(400, 'invalid_callback_url');
  }
  const badCookie = cookies.find(
    (c) => c.name.endsWith('next-auth.callback-url') && !validCallbackUrl(c.value),
  );
  if (badCookie) {
    log('warn', 'next-auth request refused', { reason: 'invalid callback-url cookie' });
    const secure = badCookie.name.startsWith('__') ? '; Secure' : '';
    return refuse(400, 'invalid_callback_url', {
      'set-cookie': `${badCookie.name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`,
    });
  }
  const [action, providerId] = segments;
  if (
    action === 'callback' &&
    request.method !== 'POST' &&
    credentialProviders.includes(providerId ?? '')
  ) {
    return refuse(405, 'method_not_allowed', { allow: 'POST' });
  }
  return undefined;
}

/** A next-auth failure that is still a server error after screening: logged on one line, 400. */
export function nextAuthFailure(request: Request, error: unknown): Response {
  log('warn', 'next-auth could not handle a request', {
    method: request.method,
    path: new URL(request.url).pathname,
    error: describeError(error),
  });
  return refuse(400, 'invalid_request');
}
