import type { DpopAlgorithm, ReplayStore } from '@portcullis/dpop';
import type { createRateLimiter } from '@portcullis/rate-limit';
import type { JWK } from 'jose';
import type { AuditListener } from './audit-event.js';
import type { ClientIdMetadataDocumentOptions } from './lib/cimd.js';
import type { AuthorizationServerStore, ClientRecord } from './lib/store.js';
import type { TracerLike, TracerProviderLike } from './lib/tracing.js';
import type { PendingAuthorization } from './pending-authorization.js';

type LimiterOptions = Parameters<typeof createRateLimiter>[0];
/** An algorithm from @portcullis/rate-limit: `slidingWindow(…)`, `tokenBucket(…)`, `fixedWindow(…)`. */
export type RateLimitAlgorithm = LimiterOptions['algorithm'];
/** A store from @portcullis/rate-limit: `memoryStore()` or `redisStore(redis)`. */
export type RateLimitStore = NonNullable<LimiterOptions['store']>;

/** Limits for one endpoint; `false` turns one off. */
export interface EndpointRateLimits {
  /**
   * Keyed by the client once it has authenticated with a secret (token); for a public client,
   * and at authorize (nobody has authenticated yet), by client × caller address, so a stranger
   * naming a client cannot spend its users' limit. Off for those when the address is unknown.
   */
  perClient?: RateLimitAlgorithm | false;
  /** Keyed by the caller's IP address, when `getClientIp` knows it. */
  perIp?: RateLimitAlgorithm | false;
  /** One limit for every caller together (register: 1000 an hour; cimd: 120 fetches a minute). */
  global?: RateLimitAlgorithm | false;
}

export interface RateLimitOptions {
  /** Default `memoryStore()`; use `redisStore(redis)` when running several instances. */
  store?: RateLimitStore;
  /** What to do when the limiter's store is down (default `'closed'`: refuse with 503). */
  failMode?: 'closed' | 'open';
  token?: EndpointRateLimits | false;
  register?: EndpointRateLimits | false;
  authorize?: EndpointRateLimits | false;
  /**
   * Budgets of outbound Client ID Metadata Document fetches, checked before each fetch (a cache
   * hit costs nothing): per caller address (10 a minute) and global (120 a minute).
   */
  cimd?: EndpointRateLimits | false;
}

/** A protected resource (RFC 8707 resource indicator) this server issues tokens for. */
export interface ResourceOptions {
  /** The resource identifier, e.g. the MCP server URL; compared as an exact string. */
  uri: string;
  /** The scopes valid for it (default: every scope of the server). */
  scopes?: string[];
}

/**
 * What the server knows about a user, for ID tokens and userinfo (OpenID Connect Core §5.1).
 * Only the claims the granted scopes release are handed out: `profile` → `name`, `given_name`,
 * `family_name`, `picture`, `updated_at`; `email` → `email`, `email_verified`.
 */
export interface OpenIdClaims {
  name?: string | undefined;
  given_name?: string | undefined;
  family_name?: string | undefined;
  picture?: string | undefined;
  /** Seconds since the epoch. */
  updated_at?: number | undefined;
  email?: string | undefined;
  email_verified?: boolean | undefined;
}

/** OpenID Connect: the `openid`, `profile` and `email` scopes, ID tokens and userinfo. */
export interface OpenIdOptions {
  /**
   * The claims of the user `sub` (the `userId` the app passed to `approve()`); `undefined` for a
   * user who no longer exists (userinfo then answers `invalid_token`).
   */
  claims: (sub: string) => Promise<OpenIdClaims | undefined> | OpenIdClaims | undefined;
  /** Lifetime of an ID token in seconds (default 600). */
  idTokenTtlSeconds?: number;
  /**
   * User claims copied into JWT access tokens (and into introspection answers for access
   * tokens), e.g. `['email', 'name']`; only those the token's scopes release (`profile` → `name`…,
   * `email` → `email`, `email_verified`), read from `claims(sub)` at issue and on each refresh.
   * Default none: access tokens carry no personal data. Reserved claims (`iss`, `sub`, `aud`,
   * `exp`, `iat`, `jti`, `client_id`, `scope`, `cnf`…) and unknown names are refused.
   */
  accessTokenClaims?: readonly UserClaimName[];
}

/** A user claim the server can release (a key of {@link OpenIdClaims}). */
export type UserClaimName = keyof OpenIdClaims;

/** Options of the revocation feed (`revocationFeed`). */
export interface RevocationFeedOptions {
  /** Its path under the issuer, default `/revocations`. */
  path?: string;
  /**
   * How long after its time a revocation may still become visible (a transaction committing
   * late, an instance whose clock is behind), in seconds: each read looks back that far again
   * (entries repeat; readers de-duplicate). Default 10.
   */
  overlapSeconds?: number;
  /** The largest page, and the default `limit`: 1 to 1000, default 1000. */
  pageSize?: number;
}

/**
 * The client credentials grant (RFC 6749 §4.4; MCP's OAuth client credentials extension,
 * SEP-1046): a confidential client gets an access token for itself (`sub` = its client id), with
 * no user and so no consent. Only a client registered for it (`grant_types` holds
 * `client_credentials`) and authenticated may use it, and only within a ceiling:
 *
 * - the operator's clients (`clientIds`, `allow`): any scope of their registration;
 * - any other client — one that registered itself at /register, where anyone may — only the
 *   scopes of its registration that are also in `dynamicRegistrationScopes`. Default none: /register
 *   refuses `client_credentials`, and such a client cannot mint a token for any scope.
 *
 * Mark the records of the operator's clients with `metadata.operator_client: true`: such a record
 * is a client only while `clientIds` or `allow` names it. Removed from them, it authenticates
 * nowhere (401 `invalid_client`), even with its record still in the store; unmarked, it would
 * fall to the second ceiling, like a client that registered itself.
 */
export interface ClientCredentialsOptions {
  /** `false` turns the grant off for every client (and out of the metadata). Default `true`. */
  enabled?: boolean;
  /** The operator's machine clients, by client id. */
  clientIds?: string[];
  /** The operator's machine clients, by a test of their record. */
  allow?: (client: ClientRecord) => boolean;
  /**
   * The scopes a client that registered itself may register for, and be granted by, the client
   * credentials grant (each in `scopes`). Default `[]`: dynamic registration of
   * `client_credentials` clients is refused. Choose scopes you would give anyone on the Internet.
   */
  dynamicRegistrationScopes?: string[];
}

/** Server nonces for DPoP proofs (RFC 9449 §8), stateless: the same on every instance. */
export interface DpopNonceOptions {
  /**
   * The HMAC secret every instance shares, at least 32 bytes (a string is taken as UTF-8).
   * Default: derived from `signingKey` (so one of them is needed).
   */
  secret?: string | Uint8Array;
  /** How long one nonce is handed out, in seconds (default 300); each is accepted one window more. */
  windowSeconds?: number;
}

/** DPoP (RFC 9449) at the token endpoint (the `dpop` option). */
export interface DpopOptions {
  /** Refuse token requests without a DPoP proof (`invalid_dpop_proof`). Default `false`. */
  required?: boolean;
  /**
   * Require a server nonce in every proof (§8): a proof without the current one is answered
   * `400 use_dpop_nonce` with the nonce in `DPoP-Nonce`, and token responses carry the next.
   * `true` derives the secret from `signingKey`. Default off.
   */
  nonce?: boolean | DpopNonceOptions;
  /**
   * Where accepted proofs are remembered so that each is accepted once (§11.1). Default: the
   * store's own once-only memory (`store.replay`) when it has one, shared by every instance on
   * it; else one in this process's memory, which a second instance does not see.
   */
  replay?: ReplayStore;
  /** The proof algorithms accepted and advertised (default @portcullis/dpop's `DEFAULT_DPOP_ALGORITHMS`). */
  algorithms?: readonly DpopAlgorithm[];
  /** How old a proof may be, from its `iat` (default 60). */
  maxAgeSeconds?: number;
  /** How far a client's clock may be off, either way (default 15). */
  clockSkewSeconds?: number;
}

export interface AuthorizationServerOptions {
  /** The issuer identifier (RFC 8414 §2): https (http only on loopback), no query or fragment. Published byte-identical. */
  issuer: string;
  /** A TokenStore from @portcullis/token-store. */
  store: AuthorizationServerStore;
  /** The resources tokens may be issued for (at least one). */
  resources: ResourceOptions[];
  /** Every scope the server knows, with the description the consent screen shows. */
  scopes: Record<string, string>;
  /** Scopes granted when a request asks for none (default: every scope of the resource). */
  defaultScopes?: string[];
  /** An EC P-256 private key (JWK or PKCS#8 PEM); else one is generated once and kept in the store. */
  signingKey?: JWK | string;
  /** `'jwt'` (RFC 9068, default) or `'opaque'` (looked up in the store). */
  accessTokenFormat?: 'jwt' | 'opaque';
  /**
   * Lifetimes in seconds, defaulting to @portcullis/token-store's `DEFAULT_TTL`: code 60, access
   * token 3600, refresh token 1 209 600 (14 days), and `grant` 7 776 000 (90 days), the absolute
   * lifetime of a grant: rotation never extends a token past it.
   */
  ttl?: { authorizationCode?: number; accessToken?: number; refreshToken?: number; grant?: number };
  /**
   * Seconds after a rotation during which the rotated refresh token, presented again (parallel
   * refreshes, a retry after a lost response), gets the same successor instead of revoking the
   * grant (default 30; 0 turns it off). Later reuse revokes the grant (RFC 9700 §4.14.2).
   */
  refreshGraceSeconds?: number;
  /** Per-client and per-IP limits on token, register and authorize (default on, in memory). */
  rateLimit?: false | RateLimitOptions;
  /** Client ID Metadata Documents (https client_id URLs). */
  clientIdMetadataDocuments?: ClientIdMetadataDocumentOptions;
  /** The client credentials grant (see {@link ClientCredentialsOptions}); default on for the operator's clients only. */
  clientCredentials?: ClientCredentialsOptions;
  /** Serve Dynamic Client Registration (RFC 7591) at /register (default `true`). */
  allowDynamicRegistration?: boolean;
  /**
   * How long a dynamically registered client that is never used is kept, in seconds (default
   * 2 592 000, 30 days; 0 keeps every one). The store's own expiry deletes it; the first time a
   * user approves it, it is kept for good.
   */
  dynamicClientTtlSeconds?: number;
  /** Lifetime of secrets issued by /register in seconds (default 0: they do not expire). */
  clientSecretTtlSeconds?: number;
  /**
   * Read the caller's address (for per-IP limits) from `X-Forwarded-For`, from the right: `true`
   * or a number N = the Nth entry from the right (N proxies in front of this server, each
   * appending what it saw); a list of proxy addresses = the rightmost entry that is not one of
   * them. Entries a client wrote itself are never chosen. Default `false`: no address, unless
   * `getClientIp` gives one (the socket address, in a Node server).
   */
  trustProxy?: boolean | number | string[];
  /** The caller's IP for per-IP limits; overrides `trustProxy`. */
  getClientIp?: (request: Request) => string | undefined;
  /**
   * Who may introspect tokens (RFC 7662 §2.1: the endpoint is for protected resources). Only
   * authenticated confidential clients that are listed in `clientIds`, pass `allow`, or whose
   * record carries `metadata.introspection: true` (an operator sets it; `/register` never does).
   * Default: none of the dynamically registered clients. Every refusal reads the same as a
   * failed authentication, so the endpoint does not tell whether a client exists or is public.
   */
  introspection?: {
    clientIds?: string[];
    allow?: (client: ClientRecord) => boolean;
  };
  /**
   * The revocation feed, `GET <issuer>/revocations` (JWT access tokens only; the store must
   * keep a feed, `store.revocations`): the revoked, unexpired access tokens by the SHA-256 of
   * their `jti`, for the clients `introspection` allows (HTTP Basic), so resource servers that
   * verify JWTs locally refuse a revoked token within seconds. Published in the metadata as
   * `revocation_feed_endpoint`. `true` for the defaults. Default off.
   */
  revocationFeed?: boolean | RevocationFeedOptions;
  /**
   * DPoP (RFC 9449): a token request with a valid `DPoP` proof gets an access token bound to
   * its key (`cnf.jkt`, `token_type: "DPoP"`), and a public client's refresh token is bound
   * too. On by default (proofs accepted, not required); `false` ignores proofs and issues
   * Bearer tokens only.
   */
  dpop?: boolean | DpopOptions;
  /** Largest request body accepted (default 32 768 bytes); larger → 413. */
  maxBodyBytes?: number;
  /** CORS headers on metadata, JWKS, token, register and revoke (default `true`). */
  cors?: boolean;
  /**
   * Called by the /authorize handler with a validated request, to start login and consent
   * (e.g. redirect to the app's login page). Without it, `handle()` leaves /authorize to the
   * app, which calls `authorization.parse()` itself.
   */
  interaction?: (pending: PendingAuthorization, request: Request) => Response | Promise<Response>;
  /**
   * Receives structured audit events (`code.issued`, `token.issued`, `token.refreshed`,
   * `token.reuse_detected`, `token.revoked`, `client.registered`, `client.expired` (from
   * `as.clients.sweepExpired()`), `consent.granted`,
   * `consent.revoked`, `authorization.denied`, `rate_limit.hit`) with ids only, never a token,
   * code or secret. Called synchronously, never awaited; what it throws or rejects is ignored.
   */
  audit?: AuditListener;
  /**
   * OpenID Connect (Core 1.0): with it, `openid`, `profile` and `email` are accepted at every
   * resource, a grant with `openid` gets an ID token from the token endpoint (again on refresh)
   * and its access token is accepted at `/userinfo`. Without it, those scopes are dropped.
   */
  openid?: OpenIdOptions;
  /**
   * The OpenTelemetry tracer for the `oauth.token` and `oauth.authorize` spans, or `false` for
   * none. Default: `trace.getTracer('@portcullis/oauth-server')` of `@opentelemetry/api` when
   * that optional peer is installed (a no-op until an SDK registers a provider), else none.
   * Spans carry client ids, grant types, outcomes and OAuth error codes, never a code, token,
   * verifier, secret or redirect URI.
   */
  tracer?: TracerLike | false;
  /** Where to get the tracer instead of the global provider (ignored when `tracer` is given). */
  tracerProvider?: TracerProviderLike;
  /** Clock in epoch ms, for tests. */
  now?: () => number;
}
