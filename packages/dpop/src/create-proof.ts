import { SignJWT } from 'jose';
import type { DpopAlgorithm } from './algorithms.js';
import { base64url } from './lib/base64url.js';
import { CodedTypeError, invalidType } from './lib/errors.js';
import { requestHtu } from './lib/htu.js';
import { type PublicJwk, readPublicJwk } from './lib/jwk.js';
import { sha256Base64url } from './lib/sha256.js';

export interface CreateProofOptions {
  /** The private key that signs (a `CryptoKey`, non-extractable is fine). */
  privateKey: CryptoKey;
  /** Its public key as a JWK, sent in the proof's `jwk` header. */
  publicJwk: JsonWebKey | PublicJwk;
  /** Defaults from the key: ES256/ES384/ES512 by curve, PS256 for RSA, Ed25519 for OKP. */
  alg?: DpopAlgorithm;
  /** The request's method. */
  method: string;
  /** The request's URL; its query and fragment are left out of `htu`. */
  url: string | URL;
  /** With a request to a resource server: the access token, hashed into `ath`. */
  accessToken?: string | undefined;
  /** The server's latest `DPoP-Nonce`, when it asked for one. */
  nonce?: string | undefined;
  /** For tests: a fixed `jti` (default 32 random bytes) and `iat` (default now). */
  jti?: string;
  iat?: number;
}

/**
 * Creates a DPoP proof for one request, as a client sends it in the `DPoP` header
 * ([RFC 9449 §4.2](https://www.rfc-editor.org/rfc/rfc9449#section-4.2)): `typ: dpop+jwt`,
 * the public `jwk`, and `jti`, `htm`, `htu`, `iat`, with `ath` when an access token is given
 * (§7.1) and `nonce` when the server sent one (§8). A new proof for every request.
 *
 * @example
 * const { privateKey, publicJwk } = await generateProofKey();
 * const proof = await createProof({ privateKey, publicJwk, method: 'POST', url: tokenEndpoint });
 * await fetch(tokenEndpoint, { method: 'POST', headers: { DPoP: proof }, body });
 */
export async function createProof(options: CreateProofOptions): Promise<string> {
  if (typeof options !== 'object' || options === null) {
    throw invalidType('options', 'an object', options);
  }
  const { privateKey, publicJwk, method, accessToken, nonce } = options;
  const read = readPublicJwk(publicJwk);
  if (!read.ok) throw new CodedTypeError(`"publicJwk": ${read.reason}`, 'ERR_INVALID_ARG_VALUE');
  if (typeof method !== 'string' || method === '') {
    throw invalidType('method', 'a non-empty string', method);
  }
  const htu = requestHtu(String(options.url));
  if (htu === undefined) {
    throw new CodedTypeError('"url" must be an absolute http(s) URL', 'ERR_INVALID_ARG_VALUE');
  }
  if (accessToken !== undefined && typeof accessToken !== 'string') {
    throw invalidType('accessToken', 'a string', accessToken);
  }
  const alg = options.alg ?? defaultAlgorithm(read.jwk);
  const payload: Record<string, unknown> = {
    jti: options.jti ?? base64url(crypto.getRandomValues(new Uint8Array(32))),
    htm: method,
    htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (accessToken !== undefined) payload.ath = await sha256Base64url(accessToken);
  if (nonce !== undefined) payload.nonce = nonce;
  return new SignJWT(payload)
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: read.jwk })
    .sign(privateKey);
}

function defaultAlgorithm(jwk: PublicJwk): DpopAlgorithm {
  if (jwk.kty === 'EC')
    return jwk.crv === 'P-256' ? 'ES256' : jwk.crv === 'P-384' ? 'ES384' : 'ES512';
  return jwk.kty === 'RSA' ? 'PS256' : 'Ed25519';
}
