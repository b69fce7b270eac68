/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 §11.2 auth-scheme (a token). */
const SCHEME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Far above any real access token; stops a client making us hash megabytes. */
export const MAX_TOKEN_LENGTH = 8192;

const isWhitespace = (code: number) => code === 0x20 || code === 0x09;

export type ParsedAuthorization =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'malformed'; reason: string };

/**
 * Reads the `Authorization` request header (RFC 6750 §2.1). No header, or a scheme other
 * than Bearer, is "no bearer credentials" (answered without an `error`, §3.1); a Bearer header
 * whose token is not a b64token is a malformed request (`invalid_request`, 400).
 */
export function parseAuthorization(header: string | null | undefined): ParsedAuthorization {
  const read = readBearer(header);
  if (read.kind === 'bearer' && !isB64Token(read.token))
    return { kind: 'malformed', reason: NOT_B64TOKEN };
  return read;
}

/** Why a token that is not a b64token is refused. */
export const NOT_B64TOKEN = 'The bearer token contains characters RFC 6750 §2.1 does not allow';

/** Whether a token has RFC 6750 §2.1's b64token syntax. */
export function isB64Token(token: string): boolean {
  return B64TOKEN.test(token);
}

/**
 * `parseAuthorization` without the b64token check of the token itself, for a caller that
 * first looks the token up among tokens known to pass it (the token cache takes no other),
 * and makes the check on a miss. Everything else (the scheme, an empty or oversized token)
 * is decided here.
 */
export function readBearer(header: string | null | undefined): ParsedAuthorization {
  if (header === null || header === undefined) return { kind: 'none' };
  // What every client sends, `Bearer <token>` with one space and no whitespace around it, read
  // without the general path's two regular expressions and lower-casing (~1,000 instructions a
  // request, most of them String.prototype.toLowerCase): the same answer, as a test checks.
  if (
    header.length > 7 &&
    header.length <= MAX_TOKEN_LENGTH + 7 &&
    header.charCodeAt(6) === 0x20 &&
    isBearerScheme(header) &&
    !isWhitespace(header.charCodeAt(7)) &&
    !isWhitespace(header.charCodeAt(header.length - 1))
  ) {
    return { kind: 'bearer', token: header.slice(7) };
  }
  return readCredentials(header);
}

/** Whether `header` starts with `bearer` in any case (ASCII letters only: `| 0x20` lowers them). */
function isBearerScheme(header: string): boolean {
  return (
    (header.charCodeAt(0) | 0x20) === 0x62 &&
    (header.charCodeAt(1) | 0x20) === 0x65 &&
    (header.charCodeAt(2) | 0x20) === 0x61 &&
    (header.charCodeAt(3) | 0x20) === 0x72 &&
    (header.charCodeAt(4) | 0x20) === 0x65 &&
    (header.charCodeAt(5) | 0x20) === 0x72
  );
}

/** `readBearer` for any header: optional whitespace, any scheme, any spacing. */
export function readCredentials(header: string): ParsedAuthorization {
  // Optional whitespace around the value (RFC 9110 §5.5), trimmed without a regular
  // expression: an alternation anchored at the end would be tried at every offset of the token.
  let start = 0;
  let end = header.length;
  while (start < end && isWhitespace(header.charCodeAt(start))) start++;
  while (end > start && isWhitespace(header.charCodeAt(end - 1))) end--;
  const value = start === 0 && end === header.length ? header : header.slice(start, end);
  if (value === '') return { kind: 'none' };
  const space = value.search(/[ \t]/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (!SCHEME.test(scheme)) {
    return { kind: 'malformed', reason: 'The Authorization header is not a valid credential' };
  }
  if (scheme.length !== 6 || !isBearerScheme(scheme)) return { kind: 'none' };
  // The token starts after the whitespace that ends the scheme: one slice of the header, no copy.
  let from = space === -1 ? value.length : space;
  while (from < value.length && isWhitespace(value.charCodeAt(from))) from++;
  const token = value.slice(from);
  if (token === '') {
    return { kind: 'malformed', reason: 'The Bearer credential has no token' };
  }
  if (token.length > MAX_TOKEN_LENGTH) {
    return { kind: 'malformed', reason: 'The bearer token is too long' };
  }
  return { kind: 'bearer', token };
}
