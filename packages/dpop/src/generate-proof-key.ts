import { exportJWK, generateKeyPair } from 'jose';
import type { DpopAlgorithm } from './algorithms.js';
import type { PublicJwk } from './lib/jwk.js';
import { readPublicJwk } from './lib/jwk.js';

/** A client's DPoP key: the private half signs, the public half travels in every proof. */
export interface ProofKey {
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
  alg: DpopAlgorithm;
}

/**
 * Generates a DPoP key pair whose private key cannot be exported (RFC 9449 §2: the key
 * should not leave the client), with its public JWK ready for {@link createProof}.
 *
 * @example
 * const key = await generateProofKey(); // ES256
 */
export async function generateProofKey(alg: DpopAlgorithm = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: false });
  const read = readPublicJwk(await exportJWK(publicKey));
  if (!read.ok) throw new Error(read.reason); // not reached: jose made the key for this alg
  return { privateKey, publicJwk: read.jwk, alg };
}
