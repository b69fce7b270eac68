/**
 * Turns a `callbackUrl` from the query string into a same-origin path, or the fallback.
 * Anything absolute on another origin, protocol-relative (`//evil`), or with a backslash
 * (browsers read `/\evil` as `//evil`) is refused: no open redirect through the login page.
 *
 * @example
 * safeCallbackUrl('/authorize?client_id=x', 'http://localhost:3000') // '/authorize?client_id=x'
 * safeCallbackUrl('https://evil.example/', 'http://localhost:3000')   // '/account'
 */
export function safeCallbackUrl(
  raw: string | string[] | undefined | null,
  origin: string,
  fallback = '/account',
): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 8192) return fallback;
  if (raw.includes('\\') || [...raw].some((c) => c.charCodeAt(0) < 0x20)) return fallback;
  let target: URL;
  try {
    target = new URL(raw, origin);
  } catch {
    return fallback;
  }
  if (target.origin !== new URL(origin).origin) return fallback;
  if (raw.startsWith('//')) return fallback;
  if (target.pathname.startsWith('/api/auth') || target.pathname === '/login') return fallback;
  return `${target.pathname}${target.search}`;
}
