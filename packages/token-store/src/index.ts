export {
  createTokenStore,
  type GrantSummary,
  type TokenStore,
  type TokenStoreOptions,
} from './create-token-store.js';
export {
  BindingMismatchError,
  ClientChangedError,
  FamilyRevokedError,
  GRANT_FAILURE_CODES,
  InvalidCursorError,
  InvalidTokenError,
  isTokenStoreError,
  KeyDecryptionError,
  RefreshTokenReuseError,
  StoreUnavailableError,
  TokenExpiredError,
  TokenStoreError,
  type TokenStoreErrorCode,
} from './errors.js';
export { generateSecret } from './generate-secret.js';
export { hashSecret } from './hash-secret.js';
export type { AccessTokenInput, AccessTokenStore } from './lib/access-tokens.js';
export type { ClientStore } from './lib/clients.js';
export type {
  AuthorizationCodeInput,
  CodeExchange,
  CodeStore,
  ConsumeCodeOptions,
  ExchangeCodeOptions,
  IssueCodeOptions,
  IssueOptions,
} from './lib/codes.js';
export type { ConsentStore } from './lib/consents.js';
export { DEFAULT_REFRESH_GRACE_SECONDS, DEFAULT_TTL, type TtlOptions } from './lib/context.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/errors.js';
export type { GrantTokens, IssueTokensOptions } from './lib/grant-tokens.js';
export { boundJkt } from './lib/matches.js';
export type {
  RefreshTokenInput,
  RefreshTokenStore,
  RotateOptions,
  Rotation,
} from './lib/refresh-tokens.js';
export {
  MAX_REPLAY_KEY_LENGTH,
  type ReplayStore,
  type ReplayStoreSection,
} from './lib/replay.js';
export {
  DEFAULT_REVOCATION_OVERLAP_SECONDS,
  MAX_REVOCATION_PAGE,
  type RevocationFeedStore,
  type RevocationPage,
  type RevocationsListOptions,
} from './lib/revocations.js';
export { rotatedRecords } from './lib/rotation.js';
export type { SigningKeyStore } from './lib/signing-keys.js';
export { type MemoryAdapter, type MemoryAdapterOptions, memoryAdapter } from './memory-adapter.js';
export {
  type IssuedTokens,
  TokenManager,
  type TokenManagerOptions,
} from './token-manager.js';
export type * from './types.js';
