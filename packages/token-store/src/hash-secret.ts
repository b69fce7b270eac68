import { assertString } from './lib/errors.js';
import { sha256Now, sha256WebCrypto } from './lib/sha256.js';

/**
 * SHA-256 of a secret (token, code, client secret), base64url without padding: the only form
 * in which the store keeps secrets that are merely compared, so a dump of the backend yields
 * no usable credential ([RFC 6819 §5.1.4.1.3](https://www.rfc-editor.org/rfc/rfc6819#section-5.1.4.1.3)).
 * The secrets are 256-bit random values, so a fast unsalted hash is enough here; never use it
 * for passwords. Uses node:crypto where the runtime has it and Web Crypto elsewhere.
 *
 * @example
 * const clientSecretHash = await hashSecret(clientSecret);
 */
export async function hashSecret(secret: string): Promise<string> {
  assertString(secret, 'secret');
  return sha256Now(secret) ?? sha256WebCrypto(secret);
}
