/**
 * Headers on every response of the app (next.config.ts `headers()`, and the token endpoint's
 * direct path in `token-endpoint.ts`, which Next.js does not see): no page may be framed
 * (clickjacking, RFC 6749 §10.13) and none may leak its URL, which carries state, as a Referer.
 */
export const EVERY_RESPONSE: { key: string; value: string }[] = [
  {
    key: 'Content-Security-Policy',
    value: "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
  },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
];

/** On the login, consent, account and authorize pages too: never cached. */
export const PAGES: { key: string; value: string }[] = [
  { key: 'Cache-Control', value: 'no-store' },
];
