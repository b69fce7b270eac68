import { describeError, log } from './log';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f]/;

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
  const url = new URL(request.url);
  // next-auth copies the action's segments and `error` into a Location header, where a control
  // character makes Node refuse to write the response (500).
  if (
    segments.some((segment) => CONTROL.test(segment)) ||
    [...url.searchParams.values()].some((value) => CONTROL.test(value))
  ) {
    log('warn', 'next-auth request refused', {
      reason: 'control character',
      path: url.pathname,
      query: [...url.searchParams].slice(0, 10),
    });
    return refuse(400, 'invalid_request');
  }
  const callbackUrl = url.searchParams.get('callbackUrl');
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
