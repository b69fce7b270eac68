import { toOAuthError } from '../error-response.js';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An authorization error shown to the user instead of redirected (RFC 6749 §4.1.2.1: the
 * client or redirect URI could not be trusted, so redirecting would be an open redirect).
 * HTML for browsers, JSON for anything asking for it.
 */
export function shownError(
  error: unknown,
  html: boolean,
  headers: Record<string, string>,
): Response {
  const oauth = toOAuthError(error);
  const body = oauth.toResponseObject();
  // 401 would demand WWW-Authenticate; here the browser made no authentication attempt.
  const status = oauth.status === 401 || oauth.status === 403 ? 400 : oauth.status;
  const h = new Headers(headers);
  h.set('Cache-Control', 'no-store');
  h.set('X-Frame-Options', 'DENY');
  h.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  h.set('Referrer-Policy', 'no-referrer');
  if ('retryAfter' in oauth) h.set('Retry-After', String(oauth.retryAfter));
  if (!html) {
    h.set('Content-Type', 'application/json');
    return new Response(JSON.stringify(body), { status, headers: h });
  }
  h.set('Content-Type', 'text/html; charset=utf-8');
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><h1>This authorization request cannot be completed</h1>
<p><code>${escapeHtml(body.error)}</code></p>
<p>${escapeHtml(body.error_description ?? '')}</p>
<p>Return to the application and try again.</p></body></html>
`;
  return new Response(page, { status, headers: h });
}
