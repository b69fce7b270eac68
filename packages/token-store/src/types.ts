/**
 * The records @portcullis/token-store keeps, the narrow adapter contract every backend
 * implements, and the facade (`TokenStore`) the authorization server and resource servers use.
 *
 * Secrets that are only ever compared (codes, opaque access tokens, refresh tokens, client
 * secrets) never reach an adapter: the facade hands adapters the SHA-256 of the secret as the
 * record id (base64url, 43 characters). Signing keys, which must be used, reach adapters
 * encrypted (AES-GCM) by the facade.
 */

/** Epoch milliseconds. */
export type Timestamp = number;

/** The kinds of record a store holds; each has its own namespace of ids. */
export type RecordKind =
  | 'authorization_code'
  | 'access_token'
  | 'refresh_token'
  | 'client'
  | 'consent'
  | 'signing_key'
  | 'family';

interface Expiring {
  createdAt: Timestamp;
  /** When the record stops being visible; `null` for records that never expire (clients, keys). */
  expiresAt: Timestamp | null;
}

/** Records of one grant (a code, the tokens from it, their refreshes) share a `familyId`. */
interface InFamily {
  familyId: string;
  /**
   * The grant's absolute end (epoch ms): no token of the family outlives it, however often it
   * is rotated. Set when the grant is born and copied to every record of the family.
   */
  grantExpiresAt?: Timestamp | undefined;
}

export interface AuthorizationCodeRecord extends Expiring, InFamily {
  clientId: string;
  userId: string;
  redirectUri: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  scopes: string[];
  /** RFC 8707 resource indicator the code was issued for. */
  resource?: string | undefined;
  /** Set once consumed; a consumed code stays stored (until expiry) so a replay can be detected. */
  consumedAt?: Timestamp | undefined;
  /** Anything else the authorization server wants back at the token endpoint (nonce, auth_time…). */
  extra?: Record<string, unknown> | undefined;
}

export interface AccessTokenRecord extends Expiring, InFamily {
  clientId: string;
  userId: string;
  scopes: string[];
  resource?: string | undefined;
  extra?: Record<string, unknown> | undefined;
}

export interface RefreshTokenRecord extends Expiring, InFamily {
  clientId: string;
  userId: string;
  scopes: string[];
  resource?: string | undefined;
  /** Set when this token was exchanged for a newer one (rotation). */
  consumedAt?: Timestamp | undefined;
  /**
   * Set with `consumedAt` when rotated with a grace window: the successor refresh token, sealed
   * with a one-time pad derived from this (never stored) token, so a replay within the window
   * gets the same successor and a dump of the store yields nothing usable.
   */
  successor?: string | undefined;
  extra?: Record<string, unknown> | undefined;
}

/** A registered OAuth client (RFC 7591 metadata, normalised). */
export interface ClientRecord extends Expiring {
  clientId: string;
  /** SHA-256 (base64url) of the client secret; absent for public clients. */
  clientSecretHash?: string | undefined;
  /** RFC 7591 §3.2.1: 0 means the secret does not expire. Seconds since epoch. */
  clientSecretExpiresAt?: number | undefined;
  /** RFC 7591 §3.2.1, seconds since epoch. */
  clientIdIssuedAt: number;
  redirectUris: string[];
  /**
   * How the client authenticates at the token endpoint. `private_key_jwt` (RFC 7523): its keys
   * are `metadata.jwks` or `metadata.jwks_uri`; a client that may also use another method lists
   * them all in `metadata.token_endpoint_auth_methods`.
   */
  tokenEndpointAuthMethod:
    | 'none'
    | 'client_secret_basic'
    | 'client_secret_post'
    | 'private_key_jwt';
  grantTypes: string[];
  responseTypes: string[];
  applicationType?: 'web' | 'native' | undefined;
  clientName?: string | undefined;
  clientUri?: string | undefined;
  logoUri?: string | undefined;
  scope?: string | undefined;
  /** Every other registered metadata field, as sent. */
  metadata?: Record<string, unknown> | undefined;
}

/** A user's standing consent: user × client × resource → scopes. */
export interface ConsentRecord extends Expiring {
  userId: string;
  clientId: string;
  /** The RFC 8707 resource the consent covers; absent for a consent not bound to one. */
  resource?: string | undefined;
  scopes: string[];
  updatedAt: Timestamp;
}

/** A signing key of the authorization server. */
export interface SigningKeyRecord extends Expiring {
  kid: string;
  alg: string;
  /** Public JWK (with `kid`, `alg`, `use: 'sig'`), published in the JWKS. */
  publicJwk: Record<string, unknown>;
  /** Private JWK. In the facade's API this is clear; at rest it is AES-GCM sealed. */
  privateJwk: Record<string, unknown>;
  /** `active` signs; `retiring` is only published until its tokens have expired. */
  status: 'active' | 'retiring';
  /** Not used for signing before this time (published first, so verifiers can fetch it). */
  activatesAt: Timestamp;
}

/**
 * The durable state of a grant (family), kept by the adapter itself: `revokedAt` once revoked
 * (final), and `expiresAt` at least as late as the longest-lived record ever written into the
 * family, so the revocation marker outlives every token of it.
 */
export interface FamilyRecord extends Expiring {
  familyId: string;
  revokedAt?: Timestamp | undefined;
}

export interface RecordOf {
  authorization_code: AuthorizationCodeRecord;
  access_token: AccessTokenRecord;
  refresh_token: RefreshTokenRecord;
  client: ClientRecord;
  consent: ConsentRecord;
  signing_key: SigningKeyRecord;
  family: FamilyRecord;
}

/**
 * The outcome of an atomic single-use consume. Exactly one concurrent caller gets `consumed`;
 * the others get `already_consumed` (with the record, so the caller can revoke the family).
 */
export type ConsumeResult<T> =
  | { status: 'consumed'; record: T }
  | { status: 'already_consumed'; record: T }
  | { status: 'not_found' };

/** Kinds that can be consumed once. */
export type ConsumableKind = 'authorization_code' | 'refresh_token';

/** Kinds that belong to a family: every write of one checks the family's revocation marker. */
export type FamilyKind = 'authorization_code' | 'access_token' | 'refresh_token';

/** The kinds `set` stores (a family's state is written by the adapter itself). */
export type WritableKind = Exclude<RecordKind, 'family'>;

/**
 * A client record as a caller last read it, checked in the same atomic step as a grant's
 * consume or rotation (adapters with `checksClients`): unless the stored client `id` is unexpired
 * and equal to `data`, the step changes nothing and throws `ClientChangedError`.
 */
export interface ClientCheck {
  id: string;
  /** `JSON.stringify` of the record as it was read. */
  data: string;
}

/** Options of `StoreAdapter.consume`. */
export interface ConsumeOptions {
  /** Stored on the record in the same atomic step as `consumedAt` (refresh tokens only). */
  successor?: string;
  /** See `ClientCheck`; only given to an adapter with `checksClients`. */
  client?: ClientCheck;
  /**
   * Consume only a record issued to this client (its `clientId`), checked in the same atomic
   * step: a record of another client resolves `not_found` and is left unchanged, so a client
   * cannot spend (or, once spent, replay) another client's token.
   */
  clientId?: string;
  /**
   * Consume only a record whose top-level fields hold these exact string values, checked in the
   * same atomic step: any other resolves `not_found` and is left unchanged (consumed or not). A
   * token endpoint that validates a request against the record (client, PKCE challenge,
   * redirect URI, resource) can so look it up and spend it in one step, and a request that fails
   * validation spends nothing.
   */
  match?: Record<string, string>;
  /**
   * Consume only a record whose key binding allows this key (RFC 9449 §5): an unbound record
   * (no string `extra.cnf.jkt`), or one bound to exactly this key; `null` names no key (only an
   * unbound record). Checked in the same atomic step: any other resolves `not_found` and is left
   * unchanged, consumed or not (a replay with the wrong key is not a reuse). Omitted: no check.
   */
  cnfJkt?: string | null;
}

/** One record of `StoreAdapter.setMany`. */
export interface FamilyEntry<K extends FamilyKind = FamilyKind> {
  kind: K;
  id: string;
  record: RecordOf[K];
}

/**
 * What `StoreAdapter.rotate` does in one atomic step: consume a refresh token (as `consume` with
 * `successor` and `clientId`) and store its successor and, optionally, an access token of the
 * same grant, checking the family's revocation marker in that same step. The new records are
 * derived from the consumed one by `rotatedRecords` (the adapter computes the same in its own
 * language: SQL, Lua): the grant's fields are copied, `createdAt` is `now`, and each lifetime is
 * cut at the grant's end.
 */
export interface RotateRequest {
  /**
   * What is redeemed: a refresh token (default; its `extra` is carried to the successor) or an
   * authorization code (a code exchange: its `extra` stays with the code).
   */
  kind?: ConsumableKind;
  /** The redeemed record's id. */
  id: string;
  now: Timestamp;
  /** As `ConsumeOptions.match`. */
  match?: Record<string, string>;
  /** The new records' `resource` when the redeemed record has none. */
  resource?: string;
  /** As `ConsumeOptions.successor`: stored on the consumed record. */
  successor?: string;
  /** As `ConsumeOptions.clientId`: another client's token is `not_found`, left unchanged. */
  clientId?: string;
  /** As `ConsumeOptions.client`. */
  client?: ClientCheck;
  /** As `ConsumeOptions.cnfJkt`. */
  cnfJkt?: string | null;
  /**
   * A code exchange's new refresh token's `extra` (a rotation carries the consumed token's
   * instead, and ignores this).
   */
  refreshExtra?: Record<string, unknown>;
  /** The grant's end for a record written without `grantExpiresAt`: `now + grantTtlMs`. */
  grantTtlMs: number;
  /** The successor refresh token: its record id and lifetime (ms). */
  refresh: { id: string; ttlMs: number };
  /** An access token stored with it: record id, lifetime (ms), and its own `extra`. */
  access?: { id: string; ttlMs: number; extra?: Record<string, unknown> };
}

/**
 * The outcome of `StoreAdapter.rotate`: `consumed` (the successor and access token are stored),
 * `already_consumed` / `not_found` as for `consume` (nothing written), or `family_revoked` (the
 * family's marker is set: nothing stored; the token may be left consumed).
 */
export type RotateResult<
  T extends RefreshTokenRecord | AuthorizationCodeRecord = RefreshTokenRecord,
> = ConsumeResult<T> | { status: 'family_revoked'; record: T };

/** Options of `StoreAdapter.revokeFamily`. */
export interface RevokeFamilyOptions {
  /** The facade's clock (epoch ms), recorded as `revokedAt`; default `Date.now()`. */
  now?: Timestamp;
  /**
   * Keep the revocation marker at least until then (epoch ms), even if the family holds no
   * record that lives as long (the adapter also keeps it as long as the family's longest-lived
   * record ever written).
   */
  retainUntil?: Timestamp;
}

/**
 * A revoked access token that has not expired yet, as the revocation feed lists it: its record
 * id (the SHA-256 of its handle, base64url), when it expires (epoch ms) and when it was revoked
 * (epoch ms, by the revoking caller's clock: the entry's position in the feed, with `id`).
 */
export interface RevokedAccessToken {
  id: string;
  expiresAt: Timestamp;
  revokedAt: Timestamp;
}

/** A position in the revocation feed: entries are ordered by `revokedAt`, then `id` (bytewise). */
export interface FeedPosition {
  revokedAt: Timestamp;
  id: string;
}

/** Options of `StoreAdapter.listRevokedAccessTokens`. */
export interface ListRevokedOptions {
  /** Entries strictly after this position. */
  after: FeedPosition;
  /** At most this many entries. */
  limit: number;
  /** The facade's clock (epoch ms): entries with `expiresAt <= now` are left out. */
  now: Timestamp;
}

/** Options of the adapter's read operations. */
export interface ReadOptions {
  /** The facade's clock (epoch ms), so an injected clock decides expiry; default `Date.now()`. */
  now?: Timestamp;
}

/** Kinds listed per user. */
export type UserKind = 'authorization_code' | 'access_token' | 'refresh_token' | 'consent';

/** Options of `StoreAdapter.find`. */
export interface FindOptions extends ReadOptions {
  /**
   * Also return a record whose `expiresAt` has passed while the backend still holds it (until it
   * is purged), so the facade can answer `TokenExpiredError` rather than `InvalidTokenError`.
   */
  includeExpired?: boolean;
}

/**
 * The narrow contract a backend implements (memory, Postgres/PGlite, Redis). Ids are opaque
 * strings chosen by the facade (hashes for secrets). Expired records must be invisible at once
 * to every method (judged against `now` when given), and purged later. Every failure of the
 * backend itself (connection lost, timeout) must reject with `StoreUnavailableError`.
 *
 * Family revocation is final: `revokeFamily` leaves a durable marker, and `set` of a record of
 * a family kind checks it in the same atomic step as the write (a SQL statement holding the
 * family row's lock, one Lua script, one synchronous step), so no interleaving of `set` and
 * `revokeFamily` can leave a record of a revoked family stored.
 */
export interface StoreAdapter {
  /**
   * Stores a record; replaces one with the same kind and id. For a family kind, resolves
   * `false` and stores nothing when the family has been revoked; otherwise `true`.
   */
  set<K extends WritableKind>(kind: K, id: string, record: RecordOf[K]): Promise<boolean>;
  /**
   * Optional: `set(kind, id, record)` and `find(read.kind, read.id, { now: read.now })` of a
   * record under another key, in one round trip (one SQL statement, one Lua script; an
   * authorization's code written and the user's standing consent read). Without it the store
   * calls `set`, then `find`.
   */
  setAndFind?<K extends WritableKind, R extends RecordKind>(
    kind: K,
    id: string,
    record: RecordOf[K],
    read: { kind: R; id: string; now: Timestamp },
  ): Promise<{ written: boolean; found: RecordOf[R] | undefined }>;
  /**
   * Optional: stores several records of one family (e.g. the access and refresh token of one
   * grant) in one atomic step, one round trip, checking the family's revocation marker once;
   * resolves `false` and stores none of them when the family has been revoked. The records all
   * carry the same `familyId`. Without it the facade calls `set` for each record.
   */
  setMany?(entries: FamilyEntry[]): Promise<boolean>;
  /**
   * Optional: refresh-token rotation in one atomic step and one round trip (see `RotateRequest`):
   * exactly one of any number of concurrent callers gets `consumed`, and no interleaving with
   * `revokeFamily` leaves a record of a revoked family stored. Without it the facade calls
   * `consume`, then `setMany` (or `set`).
   */
  rotate?(
    request: RotateRequest,
  ): Promise<RotateResult<RefreshTokenRecord | AuthorizationCodeRecord>>;
  /**
   * `true` when `consume` and `rotate` honour `client` (`ClientCheck`): the facade then serves
   * `clients.lookup()` from memory, since every grant step checks what it served.
   */
  readonly checksClients?: boolean;
  find<K extends RecordKind>(
    kind: K,
    id: string,
    options?: FindOptions,
  ): Promise<RecordOf[K] | undefined>;
  /**
   * Atomically marks the record consumed (`consumedAt = now`) if it was not yet (and, with
   * `options.clientId` or `options.match`, only if it belongs to that client and holds those
   * values; otherwise `not_found`, even for a consumed record).
   */
  consume<K extends ConsumableKind>(
    kind: K,
    id: string,
    now: Timestamp,
    options?: ConsumeOptions,
  ): Promise<ConsumeResult<RecordOf[K]>>;
  /** Deletes one record; resolves `false` when there was none. */
  delete(kind: RecordKind, id: string): Promise<boolean>;
  /**
   * Marks the family revoked (durably, see `RevokeFamilyOptions`), then deletes every code,
   * access token and refresh token of it (recording the unexpired access tokens as revoked,
   * `revokedAt = options.now`, when the adapter has `listRevokedAccessTokens`); resolves how
   * many records were deleted.
   */
  revokeFamily(familyId: string, options?: RevokeFamilyOptions): Promise<number>;
  /**
   * Optional (with `listRevokedAccessTokens`): deletes one access token and, when it had not
   * expired by `now`, records it as revoked (`RevokedAccessToken`, `revokedAt = now`) in the
   * same atomic step; resolves `false` when there was none. An adapter that has these two
   * methods also records, in `revokeFamily`'s atomic step, every unexpired access token that
   * revocation deletes. Entries are dropped at their `expiresAt` (one per revoked live token).
   */
  revokeAccessToken?(id: string, now: Timestamp): Promise<boolean>;
  /**
   * Optional: the recorded revoked access tokens after `options.after`, unexpired at
   * `options.now`, ordered by `revokedAt` then `id` (bytewise), at most `options.limit`.
   */
  listRevokedAccessTokens?(options: ListRevokedOptions): Promise<RevokedAccessToken[]>;
  /** Records of one kind that belong to a user (`userId` field), for an account page. */
  listByUser<K extends UserKind>(
    kind: K,
    userId: string,
    options?: ReadOptions,
  ): Promise<RecordOf[K][]>;
  /** Records of one kind, unexpired (clients, signing keys); bounded by `limit`. */
  list<K extends 'client' | 'signing_key'>(
    kind: K,
    options?: ReadOptions & { limit?: number },
  ): Promise<RecordOf[K][]>;
  /** Removes expired records now; resolves how many. Stores also purge on their own. */
  purgeExpired(now?: Timestamp): Promise<number>;
  /**
   * Deletes up to `limit` client records whose `expiresAt` is at or before `now` and resolves
   * their ids, each to one caller only (concurrent sweeps share them out; a client deleted or
   * saved again meanwhile is not reported). A client the store already dropped on its own
   * (past the adapter's expired-record retention: memory, Postgres, PGlite) is not reported;
   * on Redis an expiry index remembers it. Optional for third-party adapters.
   */
  sweepExpiredClients?(now: Timestamp, limit: number): Promise<string[]>;
  /**
   * Optional (every adapter of this package has it): the once-only store behind
   * `store.replay`. Remembers `key` until `expiresAt` unless a live entry of it is held (one
   * whose expiry is after `now`), in one atomic step: resolves `true` when it was not held,
   * `false` when it was. Of any number of concurrent calls for a key exactly one resolves
   * `true`. Entries are dropped after their expiry (a purge or a native TTL), so the store
   * holds about (keys per second × their lifetime). The facade has checked the key (1 to 256
   * characters) and made `expiresAt` an integer.
   */
  remember?(key: string, expiresAt: Timestamp, now: Timestamp): Promise<boolean>;
  /** Releases connections the adapter opened itself (not ones it was given). */
  close(): Promise<void>;
}
