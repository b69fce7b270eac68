export { authContext, type WithAuthInfo } from './auth-context.js';
export { type AuthenticateResult, authenticate } from './authenticate.js';
export {
  type BearerAuthOptions,
  bearerAuth,
  type NodeMiddleware,
  type NodeRequest,
} from './bearer-auth.js';
export { type CacheOptions, cachedVerifier } from './cached-verifier.js';
export {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  type CorsOptions,
  type CorsRequest,
  corsHeaders,
} from './cors-headers.js';
export {
  AuthenticationRequiredError,
  InsufficientScopeError,
  InvalidTokenError,
  McpContextError,
  type McpContextErrorCode,
  RateLimitedError,
  VerifierUnavailableError,
} from './errors.js';
export {
  type IntrospectionVerifierOptions,
  introspectionVerifier,
} from './introspection-verifier.js';
export { DEFAULT_JWT_ALGORITHMS, type JwtVerifierOptions, jwtVerifier } from './jwt-verifier.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/errors.js';
export { type ProtectToolsOptions, protectTools } from './protect-tools.js';
export {
  type ProtectedResourceMetadata,
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
} from './protected-resource-metadata.js';
export {
  type MetadataHandler,
  protectedResourceMetadataHandler,
} from './protected-resource-metadata-handler.js';
export { protectedResourceMetadataMiddleware } from './protected-resource-metadata-middleware.js';
export {
  type RateLimiterLike,
  type RateLimitOptions,
  type RateLimitOutcome,
  rateLimit,
} from './rate-limit.js';
export { requireScopes } from './require-scopes.js';
export { resourceMetadataUrl } from './resource-metadata-url.js';
export { type StaticTokenEntry, staticTokenVerifier } from './static-token-verifier.js';
export {
  type AccessTokenLookup,
  type StoredAccessToken,
  type TokenStoreVerifierOptions,
  tokenStoreVerifier,
} from './token-store-verifier.js';
export type { AuthInfo, TokenVerifier, ToolAuthContext, ToolScopes } from './types.js';
