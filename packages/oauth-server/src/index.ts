export type { DpopAlgorithm, ReplayStore as DpopReplayStore } from '@portcullis/dpop';
export type {
  AuditEvent,
  AuditEventName,
  AuditListener,
  AuthorizationDeniedEvent,
  ClientExpiredEvent,
  ClientRegisteredEvent,
  CodeIssuedEvent,
  ConsentGrantedEvent,
  ConsentRevokedEvent,
  RateLimitHitEvent,
  TokenIssuedEvent,
  TokenReuseDetectedEvent,
  TokenRevokedEvent,
} from './audit-event.js';
export {
  type AuthorizationServer,
  type AuthorizationServerHandlers,
  createAuthorizationServer,
} from './create-authorization-server.js';
export type { IntrospectionResponse } from './endpoints/introspect.js';
export type { RevocationFeedResponse, RevokedTokenEntry } from './endpoints/revocations.js';
export type { TokenResponse } from './endpoints/token.js';
export type { UserinfoResponse } from './endpoints/userinfo.js';
export { type ErrorResponseOptions, errorResponse } from './error-response.js';
export {
  AccessDeniedError,
  InsufficientScopeError,
  InvalidClientError,
  InvalidClientMetadataError,
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidRedirectUriError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  InvalidTokenError,
  OAuthError,
  type OAuthErrorCode,
  type OAuthErrorResponseObject,
  ServerError,
  TemporarilyUnavailableError,
  TooManyRequestsError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
  UnsupportedResponseTypeError,
  UnsupportedTokenTypeError,
  UseDpopNonceError,
} from './errors.js';
export type { ClientIdMetadataDocumentOptions, ResolveHost } from './lib/cimd.js';
export { USER_SCOPES } from './lib/client-credentials.js';
export { ASSERTION_SIGNING_ALGS, jwksUriProblem, registeredKeys } from './lib/jwks.js';
export type { PublicJwk } from './lib/keys.js';
export type { IdTokenClaims } from './lib/openid.js';
export { USER_CLAIM_NAMES } from './lib/openid.js';
export { redirectUriProblem } from './lib/redirect-uri.js';
export type { AuthorizationServerStore, GrantSummary } from './lib/store.js';
export type { AccessTokenClaims } from './lib/tokens.js';
export type {
  SpanAttributeValue,
  SpanLike,
  TracerLike,
  TracerProviderLike,
} from './lib/tracing.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/type-error.js';
export type {
  AuthorizationServerOptions,
  ClientCredentialsOptions,
  DpopNonceOptions,
  DpopOptions,
  EndpointRateLimits,
  OpenIdClaims,
  OpenIdOptions,
  RateLimitAlgorithm,
  RateLimitOptions,
  RateLimitStore,
  ResourceOptions,
  RevocationFeedOptions,
  UserClaimName,
} from './options.js';
export type { AuthorizationParseResult, PendingAuthorization } from './pending-authorization.js';
