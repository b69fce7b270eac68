import { UnsupportedChallengeMethodError } from './errors.js';
import { isCodeVerifier } from './is-code-verifier.js';
import { constantTimeEqual } from './lib/constant-time.js';
import { assertString } from './lib/errors.js';
import { sha256Base64url } from './lib/sha256.js';
import { S256_CHALLENGE_PATTERN } from './lib/syntax.js';

/**
 * Checks a `code_verifier` from a token request against the `code_challenge` stored with the
 * authorization code ([RFC 7636 §4.6](https://www.rfc-editor.org/rfc/rfc7636#section-4.6)).
 * Resolves `false` for a mismatch or a malformed verifier or challenge; the comparison runs in
 * constant time. Any method but `S256` throws `UnsupportedChallengeMethodError`.
 *
 * @example
 * if (!(await verifyCodeChallenge(body.code_verifier, code.codeChallenge))) {
 *   return invalidGrant('PKCE verification failed');
 * }
 */
export async function verifyCodeChallenge(
  verifier: string,
  challenge: string,
  method: string = 'S256',
): Promise<boolean> {
  assertString(verifier, 'verifier');
  assertString(challenge, 'challenge');
  assertString(method, 'method');
  if (method !== 'S256') throw new UnsupportedChallengeMethodError(method);
  if (!isCodeVerifier(verifier) || !S256_CHALLENGE_PATTERN.test(challenge)) return false;
  const digest = sha256Base64url(verifier);
  return constantTimeEqual(typeof digest === 'string' ? digest : await digest, challenge);
}
