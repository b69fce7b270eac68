/**
 * Structured audit events of the authorization server, delivered to the `audit` option. They
 * carry identifiers only: client ids, the user's `sub`, grant (family) ids and access-token
 * `jti`s (JWT mode only; in opaque mode the handle is the token, so it is left out). Never a
 * token, code, client secret or assertion.
 */
interface AuditEventBase {
  /** When it happened (ISO 8601, from the server's clock). */
  time: string;
  /** The caller's address, as used for per-IP rate limits; absent when unknown. */
  ip?: string | undefined;
}

/** A client registered itself (RFC 7591 §3). */
export interface ClientRegisteredEvent extends AuditEventBase {
  event: 'client.registered';
  clientId: string;
  tokenEndpointAuthMethod: string;
  clientName?: string | undefined;
}

/**
 * A client's registration ran out (an unused dynamic client, `dynamicClientTtlSeconds`) and
 * `as.clients.sweepExpired()` deleted it. `time` is when the sweep found it, not the expiry.
 */
export interface ClientExpiredEvent extends AuditEventBase {
  event: 'client.expired';
  clientId: string;
}

/** The user approved a request: their consent (user × client × resource × scopes) is recorded. */
export interface ConsentGrantedEvent extends AuditEventBase {
  event: 'consent.granted';
  clientId: string;
  sub: string;
  scopes: string[];
  resource: string;
}

/** The user refused a request (`pending.deny()`). */
export interface AuthorizationDeniedEvent extends AuditEventBase {
  event: 'authorization.denied';
  clientId: string;
  scopes: string[];
  resource: string;
}

/** A user's consents to a client were withdrawn (`consents.revoke()`), with everything issued. */
export interface ConsentRevokedEvent extends AuditEventBase {
  event: 'consent.revoked';
  clientId: string;
  sub: string;
}

/** An authorization code was issued: a grant (family) starts. */
export interface CodeIssuedEvent extends AuditEventBase {
  event: 'code.issued';
  clientId: string;
  sub: string;
  familyId: string;
  scopes: string[];
  resource: string;
}

/** Tokens were issued: `token.issued` for a code exchange, `token.refreshed` for a rotation. */
export interface TokenIssuedEvent extends AuditEventBase {
  event: 'token.issued' | 'token.refreshed';
  clientId: string;
  sub: string;
  familyId: string;
  scopes: string[];
  resource: string;
  /** The access token's `jti` (JWT access tokens only). */
  jti?: string | undefined;
  /** Whether a refresh token came with it. */
  refreshToken: boolean;
  /**
   * `client_credentials` for a token a client got for itself (RFC 6749 §4.4): `sub` is then its
   * client id, not a user. Absent for a user's grant.
   */
  grantType?: 'client_credentials' | undefined;
}

/**
 * A spent authorization code or rotated refresh token was presented again (after the grace
 * window): the whole grant is revoked (RFC 9700 §4.14.2, RFC 6749 §4.1.2).
 */
export interface TokenReuseDetectedEvent extends AuditEventBase {
  event: 'token.reuse_detected';
  /** The client that presented it. */
  clientId: string;
  familyId: string;
  sub?: string | undefined;
  grantType: 'authorization_code' | 'refresh_token';
}

/** A client revoked a token of its own at /revoke (RFC 7009). */
export interface TokenRevokedEvent extends AuditEventBase {
  event: 'token.revoked';
  clientId: string;
  sub: string;
  familyId: string;
  /** A refresh token revokes its whole grant; an access token only itself. */
  tokenType: 'refresh_token' | 'access_token';
  jti?: string | undefined;
}

/** A request was refused with 429 by one of the server's rate limits. */
export interface RateLimitHitEvent extends AuditEventBase {
  event: 'rate_limit.hit';
  endpoint: 'token' | 'register' | 'authorize' | 'cimd';
  limit: 'perClient' | 'perIp' | 'global';
  clientId?: string | undefined;
}

/** Every event the `audit` option receives, discriminated by `event`. */
export type AuditEvent =
  | ClientRegisteredEvent
  | ClientExpiredEvent
  | ConsentGrantedEvent
  | AuthorizationDeniedEvent
  | ConsentRevokedEvent
  | CodeIssuedEvent
  | TokenIssuedEvent
  | TokenReuseDetectedEvent
  | TokenRevokedEvent
  | RateLimitHitEvent;

/** The name of an event (`'token.issued'`, …). */
export type AuditEventName = AuditEvent['event'];

/**
 * Receives each event as it happens. Called synchronously and never awaited: whatever it throws
 * or rejects is ignored, and a slow promise does not delay the response.
 */
export type AuditListener = (event: AuditEvent) => void | Promise<void>;
