/** Far above any real endpoint URL; bounds what a proof can make us parse. */
export const MAX_URL_LENGTH = 4096;

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * An http(s) URL without query, fragment and userinfo, normalised as RFC 9449 §4.3 asks
 * (RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based): the WHATWG URL parser lowercases
 * scheme and host, drops a default port, gives an empty path as "/" and removes dot segments;
 * here percent-encodings are uppercased and those of unreserved characters decoded.
 * `undefined` for anything else.
 */
export function normalizeHttpUrl(value: string): string | undefined {
  if (value.length > MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** The `htu` a request's URL calls for: its query and fragment dropped (RFC 9449 §4.2). */
export function requestHtu(value: string): string | undefined {
  const end = value.search(/[?#]/);
  return normalizeHttpUrl(end === -1 ? value : value.slice(0, end));
}
