import { createHmac, timingSafeEqual } from 'node:crypto';
import { getConfig } from './config';

/**
 * CSRF tokens for the consent and account forms: an HMAC (keyed by NEXTAUTH_SECRET) over the
 * purpose, the session's random id, the user and the exact request being decided. A token is
 * useless in another session, for another user, or for another authorization request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 * @example
 * const token = csrfToken('consent', session.sid, session.userId, query);
 */
export function csrfToken(purpose: string, sid: string, userId: string, subject: string): string {
  return createHmac('sha256', getConfig().nextauthSecret)
    .update(JSON.stringify(['portcullis-csrf', purpose, sid, userId, subject]))
    .digest('base64url');
}

/** Constant-time check of a token from a form against the expected one. */
export function verifyCsrfToken(
  token: unknown,
  purpose: string,
  sid: string,
  userId: string,
  subject: string,
): boolean {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
  const expected = Buffer.from(csrfToken(purpose, sid, userId, subject));
  return timingSafeEqual(Buffer.from(token), expected);
}

/**
 * Same-origin check for state-changing POSTs (defence in depth beside the token and SameSite
 * cookies): a browser always sends Origin on a form POST; another site's origin is refused.
 */
export function sameOrigin(request: Request): boolean {
  const origin = request.headers.get('origin');
  const fetchSite = request.headers.get('sec-fetch-site');
  if (fetchSite) return fetchSite === 'same-origin';
  // Without Fetch Metadata (older browsers), judge by Origin; "null" comes from privacy modes.
  if (!origin || origin === 'null') return true;
  const config = getConfig();
  return origin === new URL(config.nextauthUrl).origin || origin === new URL(config.issuer).origin;
}
