/**
 * The JWS algorithms a DPoP proof may use: asymmetric only — no `none`, no MAC
 * ([RFC 9449 §4.2](https://www.rfc-editor.org/rfc/rfc9449#section-4.2)). `Ed25519` is the
 * fully-specified name of `EdDSA` with an Ed25519 key (RFC 9864).
 */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'EdDSA',
  'Ed25519',
] as const;

/** One of {@link DPOP_ALGORITHMS}. */
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * What `verifyProof` accepts when not told otherwise, and what an authorization server
 * advertises as `dpop_signing_alg_values_supported`: ECDSA (ES256 first: what oauth4webapi and
 * most clients use), RSA-PSS and Ed25519. PKCS#1 v1.5 (`RS*`) only when asked for.
 */
export const DEFAULT_DPOP_ALGORITHMS: readonly DpopAlgorithm[] = DPOP_ALGORITHMS.filter(
  (alg) => !alg.startsWith('RS'),
);
