// The runtime-agnostic entry: Web Crypto, fetch's Request/Response, no Node built-ins and no
// MCP SDK. Node/Express adapters are in `./node`; SDK-specific helpers in `./sdk-v1`, `./sdk-v2`.
export {
  AuthenticationRequiredError,
  InsufficientScopeError,
  InvalidTokenError,
  McpContextError,
  type McpContextErrorCode,
  RateLimitedError,
  VerifierUnavailableError,
} from './errors.js';
export { type AuthenticateResult, authenticate } from './guard/authenticate.js';
export {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  type CorsOptions,
  type CorsRequest,
  corsHeaders,
} from './guard/cors-headers.js';
export type { BearerAuthOptions } from './guard/create-guard.js';
export type { DpopOptions } from './guard/dpop.js';
export {
  type OriginCheckOptions,
  type OriginGuardOptions,
  originGuard,
} from './guard/origin-guard.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/errors.js';
export type {
  SpanAttributeValue,
  SpanLike,
  TracerLike,
  TracerProviderLike,
} from './lib/tracing.js';
export {
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
} from './metadata/protected-resource-metadata.js';
export {
  type MetadataHandler,
  type MetadataHandlerOptions,
  protectedResourceMetadataHandler,
} from './metadata/protected-resource-metadata-handler.js';
export { resourceMetadataUrl } from './metadata/resource-metadata-url.js';
export { authContext, type WithAuthInfo } from './tools/auth-context.js';
export {
  type RateLimiterLike,
  type RateLimitOptions,
  type RateLimitOutcome,
  rateLimit,
} from './tools/rate-limit.js';
export { requireScopes } from './tools/require-scopes.js';
export type { AuthInfo, TokenVerifier, ToolAuthContext, ToolScopes } from './types.js';
export { type CacheOptions, cachedVerifier } from './verifiers/cached-verifier.js';
export {
  type IntrospectionVerifierOptions,
  introspectionVerifier,
} from './verifiers/introspection-verifier.js';
export {
  DEFAULT_JWT_ALGORITHMS,
  type JwtProfile,
  type JwtVerifierOptions,
  jwtVerifier,
} from './verifiers/jwt-verifier.js';
export {
  type RevocationFeed,
  type RevocationFeedOptions,
  revocationFeed,
} from './verifiers/revocation-feed.js';
export { type StaticTokenEntry, staticTokenVerifier } from './verifiers/static-token-verifier.js';
export {
  type AccessTokenLookup,
  type StoredAccessToken,
  type TokenStoreVerifierOptions,
  tokenStoreVerifier,
} from './verifiers/token-store-verifier.js';
