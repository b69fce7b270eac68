import type { TokenStore } from './create-token-store.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  assertStringArray,
} from './lib/errors.js';
import type { AccessTokenRecord } from './types.js';

export interface TokenManagerOptions {
  /** Default: the store's access-token TTL (3600). */
  accessTokenTtlSeconds?: number;
  /** Default: the store's refresh-token TTL (1_209_600). */
  refreshTokenTtlSeconds?: number;
}

export interface IssuedTokens {
  accessToken: string;
  /** Present when issued with `refresh: true`, and always after `rotate`. */
  refreshToken?: string;
  /** When the access token expires (epoch ms). */
  expiresAt: number;
  scopes: string[];
  /** The grant the tokens belong to; `store.revokeFamily(familyId)` ends it. */
  familyId: string;
}

/**
 * The guide's `TokenManager`, durable and hashed: `issue` → `validate` → `revoke`, plus refresh
 * rotation with reuse detection. Tokens are 256-bit values from `crypto.getRandomValues`
 * (`secrets.token_urlsafe(32)` in the guide); the store keeps only their SHA-256
 * ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1),
 * [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)).
 *
 * @example
 * const tokens = new TokenManager(createTokenStore({ adapter: memoryAdapter() }));
 * const { accessToken } = await tokens.issue('user-1', ['read']);
 * const record = await tokens.validate(accessToken); // throws InvalidTokenError | TokenExpiredError
 */
export class TokenManager {
  readonly store: TokenStore;
  readonly #accessTtl: number;
  readonly #refreshTtl: number;

  constructor(store: TokenStore, options: TokenManagerOptions = {}) {
    assertObject(store, 'store');
    assertOptionalSeconds(options.accessTokenTtlSeconds, 'accessTokenTtlSeconds');
    assertOptionalSeconds(options.refreshTokenTtlSeconds, 'refreshTokenTtlSeconds');
    this.store = store;
    this.#accessTtl = options.accessTokenTtlSeconds ?? store.ttl.accessToken;
    this.#refreshTtl = options.refreshTokenTtlSeconds ?? store.ttl.refreshToken;
  }

  /** Issues an opaque access token (and, with `refresh: true`, a refresh token in the same family). */
  async issue(
    userId: string,
    scopes: string[],
    options: {
      clientId?: string;
      resource?: string;
      ttlSeconds?: number;
      refresh?: boolean;
    } = {},
  ): Promise<IssuedTokens> {
    assertNonEmptyString(userId, 'userId');
    assertStringArray(scopes, 'scopes');
    if (options.clientId !== undefined) assertString(options.clientId, 'options.clientId');
    if (options.resource !== undefined) assertString(options.resource, 'options.resource');
    assertOptionalSeconds(options.ttlSeconds, 'options.ttlSeconds');
    // One write for both tokens of the grant (one round trip where the adapter has `setMany`).
    const { accessToken, refreshToken } = await this.store.issueTokens(
      { userId, scopes, clientId: options.clientId ?? '', resource: options.resource },
      {
        accessToken: { ttlSeconds: options.ttlSeconds ?? this.#accessTtl },
        ...(options.refresh ? { refreshToken: { ttlSeconds: this.#refreshTtl } } : {}),
      },
    );
    const { record } = accessToken;
    return {
      accessToken: accessToken.token,
      expiresAt: record.expiresAt!,
      scopes: record.scopes,
      familyId: record.familyId,
      ...(refreshToken ? { refreshToken: refreshToken.token } : {}),
    };
  }

  /** The token's record; throws `InvalidTokenError` (`invalid_token`) or `TokenExpiredError` (`expired`). */
  validate(token: string): Promise<AccessTokenRecord> {
    return this.store.accessTokens.validate(token);
  }

  /** Revokes an access token, or a refresh token with its whole family; `false` when unknown. */
  async revoke(token: string): Promise<boolean> {
    if (await this.store.accessTokens.revoke(token)) return true;
    return this.store.refreshTokens.revoke(token);
  }

  /**
   * Exchanges a refresh token for a new access token and a new refresh token in the same
   * family. A second use of the old one within `graceSeconds` (default 30) of the first gets the
   * same successor (honest parallel refreshes, retries); later it revokes the family and throws
   * `RefreshTokenReuseError`. Nothing of a revoked family is issued (`FamilyRevokedError`).
   */
  async rotate(
    refreshToken: string,
    options: { graceSeconds?: number } = {},
  ): Promise<IssuedTokens & { refreshToken: string }> {
    // The successor and the new access token are stored in one write with the rotation's check.
    const rotated = await this.store.refreshTokens.rotate(refreshToken, {
      graceSeconds: options.graceSeconds,
      ttlSeconds: this.#refreshTtl,
      accessToken: { ttlSeconds: this.#accessTtl },
    });
    const { record } = rotated;
    const access = rotated.accessToken!;
    return {
      accessToken: access.token,
      refreshToken: rotated.token,
      expiresAt: access.record.expiresAt!,
      scopes: record.scopes,
      familyId: record.familyId,
    };
  }
}
