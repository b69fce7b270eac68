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
