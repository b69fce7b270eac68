/** RFC 6750 §2.1 (and RFC 9449 §7.1): `token68`-like characters, then optional padding. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 §11.2 auth-scheme (a token). */
const SCHEME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Far above any real access token; stops a client making us hash megabytes. */
export const MAX_ACCESS_TOKEN_LENGTH = 8192;

/** What an `Authorization` header carries. */
export type AuthorizationCredentials =
  | { scheme: 'dpop'; token: string }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'none' }
  | { scheme: 'malformed'; reason: string };

const isWhitespace = (code: number) => code === 0x20 || code === 0x09;

/**
 * Reads `Authorization: DPoP <token>` ([RFC 9449 §7.1](https://www.rfc-editor.org/rfc/rfc9449#section-7.1))
 * or `Authorization: Bearer <token>` (RFC 6750 §2.1); schemes are case-insensitive. No header,
 * or another scheme, is `none`; a DPoP or Bearer header without a well-formed token is
 * `malformed` (answer `invalid_request`). A DPoP-bound token sent as Bearer must be refused by
 * the caller (§7.2): only the token's `cnf` says it is bound. Never throws.
 *
 * @example
 * const credentials = parseAuthorizationHeader(request.headers.get('authorization'));
 * if (credentials.scheme === 'dpop') await verifyProof(request.headers.get('dpop'), { ... });
 */
export function parseAuthorizationHeader(header: unknown): AuthorizationCredentials {
  if (typeof header !== 'string') return { scheme: 'none' };
  let start = 0;
  let end = header.length;
  while (start < end && isWhitespace(header.charCodeAt(start))) start++;
  while (end > start && isWhitespace(header.charCodeAt(end - 1))) end--;
  const value = header.slice(start, end);
  if (value === '') return { scheme: 'none' };
  const space = value.search(/[ \t]/);
  const scheme = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  if (!SCHEME.test(scheme)) {
    return { scheme: 'malformed', reason: 'The Authorization header is not a valid credential' };
  }
  if (scheme !== 'dpop' && scheme !== 'bearer') return { scheme: 'none' };
  const name = scheme === 'dpop' ? 'DPoP' : 'Bearer';
  let tokenStart = space === -1 ? value.length : space;
  while (tokenStart < value.length && isWhitespace(value.charCodeAt(tokenStart))) tokenStart++;
  const token = value.slice(tokenStart);
  if (token === '') return { scheme: 'malformed', reason: `The ${name} credential has no token` };
  if (token.length > MAX_ACCESS_TOKEN_LENGTH) {
    return { scheme: 'malformed', reason: `The ${name} token is too long` };
  }
  if (!B64TOKEN.test(token)) {
    return {
      scheme: 'malformed',
      reason: `The ${name} token has characters RFC 6750 §2.1 does not allow`,
    };
  }
  return { scheme, token };
}
