import { InvalidTokenError, TokenExpiredError } from '../errors.js';
import { generateSecret } from '../generate-secret.js';
import type { AccessTokenRecord } from '../types.js';
import type { IssueOptions } from './codes.js';
import {
  compact,
  expiryWithin,
  SECRET_PATTERN,
  type StoreContext,
  setInFamily,
} from './context.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  assertStringArray,
} from './errors.js';
import { isExpired } from './expiry.js';
import { sha256 } from './sha256.js';

/** What a caller gives to issue an opaque access token; `familyId` is generated when absent. */
export type AccessTokenInput = Omit<AccessTokenRecord, 'createdAt' | 'expiresAt' | 'familyId'> & {
  familyId?: string;
};

export interface AccessTokenStore {
  /**
   * Issues an opaque access token (RFC 6749 §1.4); the clear token is returned once. Its
   * lifetime ends at the grant's `grantExpiresAt` at the latest; a revoked family throws
   * `FamilyRevokedError`.
   */
  issue(
    data: AccessTokenInput,
    options?: IssueOptions,
  ): Promise<{ token: string; record: AccessTokenRecord }>;
  /** The record of a live token, or `undefined` (unknown, revoked or expired). */
  find(token: string): Promise<AccessTokenRecord | undefined>;
  /** Like `find`, but throws `InvalidTokenError` or `TokenExpiredError` (RFC 6750 §3.1). */
  validate(token: string): Promise<AccessTokenRecord>;
  /**
   * Revokes one access token (RFC 7009 §2.1), listing it in the revocation feed (`revocations`)
   * in the same step when unexpired; `false` when it was not stored.
   */
  revoke(token: string): Promise<boolean>;
}

/** Checks what a caller gives to issue an access token (or a grant's tokens). */
export function assertAccessTokenInput(data: AccessTokenInput, options: IssueOptions): void {
  assertObject(data, 'data');
  assertString(data.clientId, 'data.clientId');
  assertNonEmptyString(data.userId, 'data.userId');
  assertStringArray(data.scopes, 'data.scopes');
  if (data.familyId !== undefined) assertNonEmptyString(data.familyId, 'data.familyId');
  assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
  assertOptionalSeconds(options.grantTtlSeconds, 'grantTtlSeconds');
}

/** A new access token and the record to store under its hash (not stored yet). */
export function newAccessToken(
  ctx: StoreContext,
  data: AccessTokenInput & { familyId: string; grantExpiresAt: number },
  now: number,
  ttlSeconds: number | undefined,
): { token: string; record: AccessTokenRecord } {
  return {
    token: generateSecret(),
    record: compact<AccessTokenRecord>(data, {
      createdAt: now,
      expiresAt: expiryWithin(now, ttlSeconds ?? ctx.ttl.accessToken, data.grantExpiresAt),
    }),
  };
}

export function accessTokenStore(ctx: StoreContext): AccessTokenStore {
  return {
    async issue(data, options = {}) {
      assertAccessTokenInput(data, options);
      const now = ctx.now();
      const { token, record } = newAccessToken(
        ctx,
        {
          ...data,
          familyId: data.familyId ?? generateSecret(),
          grantExpiresAt:
            data.grantExpiresAt ?? now + (options.grantTtlSeconds ?? ctx.ttl.grant) * 1000,
        },
        now,
        options.ttlSeconds,
      );
      // Throws FamilyRevokedError when the grant was revoked: nothing is stored then.
      await setInFamily(ctx, 'access_token', await sha256(token), record);
      return { token, record };
    },

    async find(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) return undefined;
      return ctx.adapter.find('access_token', await sha256(token), { now: ctx.now() });
    },

    async validate(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) throw new InvalidTokenError();
      const now = ctx.now();
      const record = await ctx.adapter.find('access_token', await sha256(token), {
        now,
        includeExpired: true,
      });
      if (!record) throw new InvalidTokenError();
      if (isExpired(record.expiresAt, now)) throw new TokenExpiredError(record.expiresAt!);
      return record;
    },

    async revoke(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) return false;
      const id = await sha256(token);
      // Listed in the revocation feed in the same step, where the adapter keeps one.
      return ctx.adapter.revokeAccessToken
        ? ctx.adapter.revokeAccessToken(id, ctx.now())
        : ctx.adapter.delete('access_token', id);
    },
  };
}
