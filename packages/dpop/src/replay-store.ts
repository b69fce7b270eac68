/**
 * Where `verifyProof` remembers the proofs it accepted, so that each is accepted once
 * ([RFC 9449 §11.1](https://www.rfc-editor.org/rfc/rfc9449#section-11.1)). One atomic
 * operation: store `key` until `expiresAtMs` (epoch milliseconds) unless it is already there,
 * and say whether it was new. Keys are 43 base64url characters (a SHA-256 of the key's
 * thumbprint and the proof's `jti`); add a prefix of your own. On Redis this is
 * `SET prefix:key 1 NX PXAT expiresAtMs` (`OK` → `true`, nil → `false`); on SQL an
 * `INSERT ... ON CONFLICT DO NOTHING` that reports whether a row was inserted (after deleting
 * the expired row of that key). A store that fails should throw: `verifyProof` passes the
 * error on, so an outage is answered as one (503), never as an accepted proof.
 */
export interface ReplayStore {
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}
