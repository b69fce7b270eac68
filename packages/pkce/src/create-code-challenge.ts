import { assertString, CodedTypeError } from './lib/errors.js';
import { sha256Base64url } from './lib/sha256.js';
import { VERIFIER_PATTERN } from './lib/syntax.js';

/**
 * Derives the S256 code challenge of a verifier: `BASE64URL(SHA256(ASCII(code_verifier)))`
 * without padding ([RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)).
 * Throws a `TypeError` (`ERR_INVALID_ARG_VALUE`) for a string that is not a valid verifier.
 *
 * @example
 * await createCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
 * // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 */
export async function createCodeChallenge(verifier: string): Promise<string> {
  assertString(verifier, 'verifier');
  if (!VERIFIER_PATTERN.test(verifier)) {
    throw new CodedTypeError(
      `"verifier" must be 43 to 128 characters from [A-Za-z0-9-._~] (RFC 7636 §4.1), received ${verifier.length} characters`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return sha256Base64url(verifier);
}
