import type { AccessTokenInput } from './lib/access-tokens.js';
import { type AccessTokenStore, accessTokenStore } from './lib/access-tokens.js';
import { clientChecks } from './lib/client-checks.js';
import { type ClientStore, clientStore } from './lib/clients.js';
import { type CodeStore, codeStore } from './lib/codes.js';
import { type ConsentStore, consentStore } from './lib/consents.js';
import {
  DEFAULT_TTL,
  guardAdapter,
  revokeFamily,
  type StoreContext,
  type TtlOptions,
} from './lib/context.js';
import { isProductionEnvironment } from './lib/environment.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  CodedTypeError,
  describe,
} from './lib/errors.js';
import { type GrantTokens, type IssueTokensOptions, issueTokens } from './lib/grant-tokens.js';
import { type RefreshTokenStore, refreshTokenStore } from './lib/refresh-tokens.js';
import { type ReplayStoreSection, replayStore } from './lib/replay.js';
import { type RevocationFeedStore, revocationFeedStore } from './lib/revocations.js';
import { type SigningKeyStore, signingKeyStore } from './lib/signing-keys.js';
import type { AccessTokenRecord, RefreshTokenRecord, StoreAdapter } from './types.js';

/** One live grant (family) of a user, as `grantsByUser` reports it. */
export interface GrantSummary {
  familyId: string;
  clientId: string;
  resource?: string | undefined;
  scopes: string[];
  /** When the oldest live record of the grant was written (epoch ms). */
  createdAt: number;
  /** The grant's absolute end (epoch ms), when known. */
  grantExpiresAt?: number | undefined;
}

export interface TokenStoreOptions {
  /** The backend: `memoryAdapter()`, `postgresAdapter(db)` or `redisAdapter(redis)`. */
  adapter: StoreAdapter;
  /**
   * Lifetimes in seconds; defaults (`DEFAULT_TTL`): code 60, access token 3600, refresh token
   * 1_209_600, grant 7_776_000 (the absolute lifetime of a grant, however often it is rotated).
   */
  ttl?: TtlOptions;
  /**
   * Secret (from the environment) that seals signing keys at rest with AES-256-GCM, under a key
   * derived from it with PBKDF2-SHA256. Required when `production`.
   */
  keyEncryptionSecret?: string;
  /** Default `process.env.NODE_ENV === 'production'` (`false` where there is no `process`). */
  production?: boolean;
  /** Clock in epoch ms, for tests; default `Date.now`. */
  now?: () => number;
}

/** The storage facade: every secret in and out is clear; the adapter only ever sees hashes. */
export interface TokenStore {
  readonly adapter: StoreAdapter;
  /** The lifetimes in force, in seconds. */
  readonly ttl: Readonly<Required<TtlOptions>>;
  /** The store's clock (epoch ms). */
  now(): number;
  codes: CodeStore;
  accessTokens: AccessTokenStore;
  refreshTokens: RefreshTokenStore;
  /**
   * Issues a grant's access token and, with `options.refreshToken`, its refresh token, stored
   * in one atomic write (one round trip where the adapter has `setMany`); a revoked family
   * refuses both with `FamilyRevokedError`. What a code exchange stores.
   */
  issueTokens(data: AccessTokenInput, options?: IssueTokensOptions): Promise<GrantTokens>;
  /**
   * Revokes a grant for good: leaves a durable revocation marker that every later write of the
   * family checks atomically, then deletes its codes, access tokens and refresh tokens;
   * resolves how many records were deleted.
   */
  revokeFamily(familyId: string): Promise<number>;
  clients: ClientStore;
  consents: ConsentStore;
  /**
   * The revocation feed: access tokens revoked (one by one or with their family) and not yet
   * expired, for resource servers to refuse them before they expire. Where the adapter keeps
   * one (every adapter of this package); `revocations.supported` says.
   */
  revocations: RevocationFeedStore;
  /**
   * A once-only store shared by every instance on the backend (`remember(key, expiresAtMs)`:
   * `true` the first time, `false` while remembered; atomic, entries dropped after expiry): DPoP
   * proof `jti`s, client assertion `jti`s. Pass it where `@portcullis/dpop` wants a
   * `ReplayStore`. Where the adapter keeps one (every adapter of this package); `replay.supported`
   * says.
   */
  replay: ReplayStoreSection;
  signingKeys: SigningKeyStore;
  /** A user's live tokens, for an account page ("signed-in apps"). */
  tokensByUser(
    userId: string,
  ): Promise<{ accessTokens: AccessTokenRecord[]; refreshTokens: RefreshTokenRecord[] }>;
  /**
   * A user's live grants, one per family that still holds an unconsumed code, a live access
   * token or an unrotated refresh token: what an account page must show so that nothing the
   * user authorized is invisible.
   */
  grantsByUser(userId: string): Promise<GrantSummary[]>;
  /** Closes the adapter (connections it opened itself). */
  close(): Promise<void>;
}

/**
 * Creates the token store: codes, opaque access tokens and refresh tokens stored only as their
 * SHA-256, atomic single-use redemption, refresh rotation with reuse detection, clients,
 * consents and AES-GCM sealed signing keys, over any `StoreAdapter`
 * ([RFC 6749 §10.5](https://www.rfc-editor.org/rfc/rfc6749#section-10.5),
 * [RFC 6819 §5.1.4.1.3](https://www.rfc-editor.org/rfc/rfc6819#section-5.1.4.1.3),
 * [RFC 9700 §4.14](https://www.rfc-editor.org/rfc/rfc9700#section-4.14)). Backend failures reject
 * with `StoreUnavailableError`. In production a `keyEncryptionSecret` is required.
 *
 * @example
 * const store = createTokenStore({
 *   adapter: postgresAdapter(new PGlite('.data/tokens')),
 *   keyEncryptionSecret: process.env.KEY_ENCRYPTION_SECRET,
 * });
 * const { token } = await store.accessTokens.issue({ userId: 'u1', clientId: 'c1', scopes: ['read'] });
 * const record = await store.accessTokens.validate(token);
 */
export function createTokenStore(options: TokenStoreOptions): TokenStore {
  assertObject(options, 'options');
  const { adapter } = options;
  if (
    typeof adapter !== 'object' ||
    adapter === null ||
    typeof adapter.find !== 'function' ||
    typeof adapter.consume !== 'function'
  ) {
    throw new CodedTypeError(
      `"options.adapter" must be a StoreAdapter (memoryAdapter(), postgresAdapter(db), redisAdapter(redis)), received ${describe(adapter)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const ttl = { ...DEFAULT_TTL, ...options.ttl };
  assertOptionalSeconds(ttl.authorizationCode, 'ttl.authorizationCode');
  assertOptionalSeconds(ttl.accessToken, 'ttl.accessToken');
  assertOptionalSeconds(ttl.refreshToken, 'ttl.refreshToken');
  assertOptionalSeconds(ttl.grant, 'ttl.grant');
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new CodedTypeError(
      `"options.now" must be a function returning epoch ms, received ${describe(options.now)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (options.keyEncryptionSecret !== undefined) {
    assertNonEmptyString(options.keyEncryptionSecret, 'options.keyEncryptionSecret');
  }
  const production = options.production ?? isProductionEnvironment();
  if (production && options.keyEncryptionSecret === undefined) {
    throw new CodedTypeError(
      'createTokenStore: "keyEncryptionSecret" is required in production, or signing keys would be stored in clear; pass a long random secret from the environment',
      'ERR_INVALID_ARG_VALUE',
    );
  }

  const guarded = guardAdapter(adapter);
  const ctx: StoreContext = {
    adapter: guarded,
    clients: clientChecks(),
    now: options.now ?? Date.now,
    ttl,
  };

  return {
    adapter,
    ttl,
    now: () => ctx.now(),
    codes: codeStore(ctx),
    accessTokens: accessTokenStore(ctx),
    refreshTokens: refreshTokenStore(ctx),
    issueTokens: (data, issueOptions) => issueTokens(ctx, data, issueOptions),
    async revokeFamily(familyId) {
      assertString(familyId, 'familyId');
      return revokeFamily(ctx, familyId);
    },
    clients: clientStore(ctx),
    consents: consentStore(ctx),
    revocations: revocationFeedStore(ctx),
    replay: replayStore(ctx),
    signingKeys: signingKeyStore(ctx, options.keyEncryptionSecret),
    async tokensByUser(userId) {
      assertString(userId, 'userId');
      const now = ctx.now();
      const [accessTokens, refreshTokens] = await Promise.all([
        guarded.listByUser('access_token', userId, { now }),
        guarded.listByUser('refresh_token', userId, { now }),
      ]);
      return { accessTokens, refreshTokens };
    },
    async grantsByUser(userId) {
      assertString(userId, 'userId');
      const now = ctx.now();
      const [codes, accessTokens, refreshTokens] = await Promise.all([
        guarded.listByUser('authorization_code', userId, { now }),
        guarded.listByUser('access_token', userId, { now }),
        guarded.listByUser('refresh_token', userId, { now }),
      ]);
      const grants = new Map<string, GrantSummary>();
      for (const record of [...codes, ...accessTokens, ...refreshTokens]) {
        if ('consumedAt' in record && record.consumedAt !== undefined) continue;
        const known = grants.get(record.familyId);
        if (known) {
          known.createdAt = Math.min(known.createdAt, record.createdAt);
          continue;
        }
        grants.set(record.familyId, {
          familyId: record.familyId,
          clientId: record.clientId,
          ...(record.resource === undefined ? {} : { resource: record.resource }),
          scopes: [...record.scopes],
          createdAt: record.createdAt,
          ...(record.grantExpiresAt === undefined ? {} : { grantExpiresAt: record.grantExpiresAt }),
        });
      }
      return [...grants.values()].sort((a, b) => a.createdAt - b.createdAt);
    },
    close: () => guarded.close(),
  };
}
