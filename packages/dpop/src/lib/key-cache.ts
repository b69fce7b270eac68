import { importJWK } from 'jose';
import type { DpopAlgorithm } from '../algorithms.js';
import type { PublicJwk } from './jwk.js';

/** Keys held at once: a client keeps one DPoP key for a session, so a few are hot. */
const MAX_KEYS = 1000;

/**
 * Imported verification keys by algorithm and RFC 7638 members (which fix the key), least
 * recently used forgotten first. Importing a key is a third of a proof's CPU time in Node;
 * a client sends the same key with every request. A key that fails to import is not kept.
 */
const keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

export function verificationKey(
  jwk: PublicJwk,
  members: string,
  alg: DpopAlgorithm,
): Promise<CryptoKey | Uint8Array> {
  const id = `${alg} ${members}`;
  let key = keys.get(id);
  if (key !== undefined) {
    keys.delete(id);
    keys.set(id, key);
    return key;
  }
  key = importJWK(jwk, alg);
  keys.set(id, key);
  key.catch(() => keys.delete(id));
  if (keys.size > MAX_KEYS) keys.delete(keys.keys().next().value!);
  return key;
}
