import { VERIFIER_PATTERN } from './lib/syntax.js';

/**
 * Whether `value` is a syntactically valid code verifier: 43 to 128 characters from the
 * unreserved set ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
 * Never throws.
 *
 * @example
 * isCodeVerifier('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'); // true
 * isCodeVerifier('too-short'); // false
 */
export function isCodeVerifier(value: unknown): value is string {
  return typeof value === 'string' && VERIFIER_PATTERN.test(value);
}
