const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

function parse(value: string): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  return new URL(value);
}

/**
 * Why a redirect URI may not be registered, or `undefined` when it may: absolute, no fragment
 * (RFC 6749 §3.1.2), no credentials, and either https or http on a loopback host (RFC 8252
 * §7.3, §8.3; OAuth 2.1 §2.3.1). The rule /register applies; use it for clients you configure.
 *
 * @example
 * redirectUriProblem('http://app.example/cb') // 'must use https, or http on a loopback address …'
 * redirectUriProblem('https://app.example/cb') // undefined
 */
export function redirectUriProblem(value: string): string | undefined {
  const url = parse(value);
  if (!url) return 'is not an absolute URI';
  if (url.hash || value.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must use https, or http on a loopback address (127.0.0.1, [::1], localhost)';
}

/**
 * Whether `requested` is one of `registered`: exact string comparison (OAuth 2.1 §4.1.1,
 * RFC 9700 §4.1.3), except that for an http loopback redirect the port may differ
 * (RFC 8252 §7.3) — scheme, host, path and query must still be identical.
 */
export function matchRedirectUri(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const req = parse(requested);
  if (req?.protocol !== 'http:' || !isLoopbackHost(req.hostname)) return false;
  if (requested.includes('#')) return false;
  return registered.some((candidate) => {
    const reg = parse(candidate);
    if (reg?.protocol !== 'http:' || !isLoopbackHost(reg.hostname)) return false;
    return (
      reg.hostname === req.hostname &&
      reg.pathname === req.pathname &&
      reg.search === req.search &&
      reg.username === req.username &&
      reg.password === req.password &&
      // The textual forms must agree apart from the port, so that "%2F" and "/" are not
      // treated as the same path by the URL parser's normalisation.
      withoutPort(candidate) === withoutPort(requested)
    );
  });
}

function withoutPort(value: string): string {
  return value.replace(/^(http:\/\/(?:\[::1\]|[^/:?#]+))(?::\d+)?/i, '$1');
}

/** Appends response parameters to a redirect URI, keeping its own query (RFC 6749 §3.1.2). */
export function buildRedirect(
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  // Appended to a copy and serialized once: each url.searchParams.append() serializes the
  // whole query again. The result is the same (the existing query normalized, then ours).
  let query: URLSearchParams | undefined;
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    query ??= new URLSearchParams(url.search);
    query.append(name, value);
  }
  if (!query) return url.href;
  const search = query.toString();
  // Without a query or fragment of its own, setting url.search would only append it (the
  // serialized form needs no further escaping): skip the setter's parse of the whole URL.
  const href = url.href;
  if (!href.includes('?') && !href.includes('#')) return `${href}?${search}`;
  url.search = search;
  return url.href;
}
