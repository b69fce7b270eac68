import { constantTimeEqual } from './lib/constant-time.js';

const JKT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Whether a proof's key is the key a token is bound to: the token's `cnf.jkt` against the
 * `jkt` `verifyProof` returned ([RFC 9449 §6.1](https://www.rfc-editor.org/rfc/rfc9449#section-6.1),
 * §7.1); at the token endpoint, the code's `dpop_jkt` (§10) against the proof's. Compared in constant time; `false` when either is not a SHA-256 thumbprint (43
 * base64url characters), a missing `cnf.jkt` included. Never throws.
 *
 * @example
 * if (!checkBinding(claims.cnf?.jkt, proof.jkt)) {
 *   // 401, WWW-Authenticate: DPoP error="invalid_token", error_description="Invalid DPoP key binding"
 * }
 */
export function checkBinding(cnfJkt: unknown, proofJkt: unknown): boolean {
  if (typeof cnfJkt !== 'string' || typeof proofJkt !== 'string') return false;
  if (!JKT.test(cnfJkt) || !JKT.test(proofJkt)) return false;
  return constantTimeEqual(cnfJkt, proofJkt);
}
