import { base64url } from './lib/base64url.js';
import { assertString } from './lib/errors.js';

const encoder = new TextEncoder();

/**
 * SHA-256 of a secret (token, code, client secret), base64url without padding: the only form
 * in which the store keeps secrets that are merely compared, so a dump of the backend yields
 * no usable credential ([RFC 6819 §5.1.4.1.3](https://www.rfc-editor.org/rfc/rfc6819#section-5.1.4.1.3)).
 * The secrets are 256-bit random values, so a fast unsalted hash is enough here; never use it
 * for passwords.
 *
 * @example
 * const clientSecretHash = await hashSecret(clientSecret);
 */
export async function hashSecret(secret: string): Promise<string> {
  assertString(secret, 'secret');
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(secret))));
}
