export { DEFAULT_DPOP_ALGORITHMS, DPOP_ALGORITHMS, type DpopAlgorithm } from './algorithms.js';
export { type AuthorizationCredentials, parseAuthorizationHeader } from './authorization-header.js';
export { checkBinding } from './check-binding.js';
export { type CreateProofOptions, createProof } from './create-proof.js';
export {
  type DpopChallengeError,
  type DpopChallengeOptions,
  dpopChallenge,
} from './dpop-challenge.js';
export { dpopNonceHeader } from './dpop-nonce-header.js';
export {
  DpopError,
  type DpopErrorCode,
  DpopProofError,
  InvalidDpopProofError,
  type ProofCheck,
  ReplayStoreFullError,
  UseDpopNonceError,
} from './errors.js';
export { generateProofKey, type ProofKey } from './generate-proof-key.js';
export { jwkThumbprint } from './jwk-thumbprint.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/errors.js';
export type { PublicJwk } from './lib/jwk.js';
export {
  createMemoryReplayStore,
  type MemoryReplayStore,
  type MemoryReplayStoreOptions,
} from './memory-replay-store.js';
export { createNonceIssuer, type NonceIssuer, type NonceIssuerOptions } from './nonce-issuer.js';
export { type ProofWindow, proofWindow } from './proof-window.js';
export type { ReplayStore } from './replay-store.js';
export {
  MAX_PROOF_LENGTH,
  type NonceChecker,
  type VerifiedProof,
  type VerifyProofOptions,
  verifyProof,
} from './verify-proof.js';
