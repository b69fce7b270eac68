/**
 * A redirect that the browser resolves against the current origin. After a form POST it is a
 * 303 so the browser follows with GET (RFC 9700 §4.12: never 307 after credentials were posted).
 *
 * @example
 * return seeOther('/login?callbackUrl=%2Faccount');
 */
export function seeOther(location: string, status: 302 | 303 = 303): Response {
  return new Response(null, {
    status,
    headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  });
}

/** Turns the library's approve/deny 302 into a 303, keeping its Location. */
export function asSeeOther(response: Response): Response {
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) return response;
  return seeOther(location, 303);
}

/**
 * The longest sign-in redirect answered. The pending authorization request travels in the
 * `callbackUrl` of the login page, percent-encoded; a request stuffed with kilobytes of unknown
 * parameters would make a `Location` header that HTTP clients refuse to parse (Node's limit for
 * all headers is 16 KiB). A real authorization request is a fraction of this.
 */
export const MAX_LOGIN_REDIRECT = 8192;

/**
 * Where to send someone who must sign in before the authorization request `query` continues:
 * `/login?callbackUrl=/authorize?<query>`, or `undefined` when that would exceed
 * MAX_LOGIN_REDIRECT (the caller answers "request too long" instead).
 */
export function loginLocation(query: string): string | undefined {
  return bounded(`/login?${new URLSearchParams({ callbackUrl: `/authorize?${query}` })}`);
}

/** `/consent?<query>` for a signed-in user, or `undefined` past MAX_LOGIN_REDIRECT likewise. */
export function consentLocation(query: string): string | undefined {
  return bounded(`/consent?${query}`);
}

function bounded(location: string): string | undefined {
  return location.length <= MAX_LOGIN_REDIRECT ? location : undefined;
}

/** 414 for an authorization request too long to carry through the sign-in page. */
export function requestTooLong(): Response {
  return new Response(
    'This authorization request is too long. Return to the application and start again.',
    {
      status: 414,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    },
  );
}
