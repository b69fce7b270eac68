import { CodedTypeError } from './lib/errors.js';
import { readPublicJwk, thumbprintInput } from './lib/jwk.js';
import { sha256Base64url } from './lib/sha256.js';

/**
 * The SHA-256 JWK Thumbprint of a public key ([RFC 7638 §3](https://www.rfc-editor.org/rfc/rfc7638#section-3)),
 * unpadded base64url: the `jkt` that binds a token to a DPoP key (`cnf.jkt`, RFC 9449 §6.1)
 * and the `dpop_jkt` authorization request parameter (§10). Members other than the required
 * ones are ignored, as §3.2 says. Throws a `TypeError` (`ERR_INVALID_ARG_VALUE`) for a key
 * DPoP does not support (EC P-256/P-384/P-521, RSA 2048–4096 bits, OKP Ed25519) or a private key.
 *
 * @example
 * const jkt = await jwkThumbprint({ kty: 'EC', crv: 'P-256', x: '...', y: '...' });
 * // 43 characters, e.g. '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'
 */
export async function jwkThumbprint(jwk: unknown): Promise<string> {
  const read = readPublicJwk(jwk);
  if (!read.ok) throw new CodedTypeError(`"jwk": ${read.reason}`, 'ERR_INVALID_ARG_VALUE');
  return sha256Base64url(thumbprintInput(read.jwk));
}
