import {
  InvalidScopeError,
  InvalidTokenError,
  RefreshTokenReuseError,
  TokenExpiredError,
} from '../errors.js';
import { generateSecret } from '../generate-secret.js';
import { hashSecret } from '../hash-secret.js';
import type { RefreshTokenRecord } from '../types.js';
import type { IssueOptions } from './codes.js';
import { compact, SECRET_PATTERN, type StoreContext } from './context.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  assertStringArray,
} from './errors.js';
import { isExpired } from './expiry.js';

/** What a caller gives to issue a refresh token; `familyId` is generated when absent. */
export type RefreshTokenInput = Omit<
  RefreshTokenRecord,
  'createdAt' | 'expiresAt' | 'consumedAt' | 'familyId'
> & { familyId?: string };

export interface RotateOptions {
  /**
   * Seconds after a rotation during which presenting the old token again is taken as a client
   * retrying the same refresh (it gets another new token in the family) rather than as theft.
   * Default 0: off, any second use revokes the family.
   */
  graceSeconds?: number;
  /** Lifetime of the new refresh token; default the store's refresh TTL. */
  ttlSeconds?: number;
  /** Narrower scopes for the new token (RFC 6749 §6); a scope not granted throws `InvalidScopeError`. */
  scopes?: string[];
}

export interface RefreshTokenStore {
  issue(
    data: RefreshTokenInput,
    options?: IssueOptions,
  ): Promise<{ token: string; record: RefreshTokenRecord }>;
  /** The record of an unexpired token (a rotated one carries `consumedAt`); `undefined` when unknown. */
  find(token: string): Promise<RefreshTokenRecord | undefined>;
  /** Exchanges a refresh token for a new one in the same family (refresh token rotation). */
  rotate(
    token: string,
    options?: RotateOptions,
  ): Promise<{ token: string; record: RefreshTokenRecord; previous: RefreshTokenRecord }>;
  /** Revokes the token's whole family (RFC 7009 §2.1); `false` when the token is unknown. */
  revoke(token: string): Promise<boolean>;
}

export function refreshTokenStore(ctx: StoreContext): RefreshTokenStore {
  async function store(
    data: RefreshTokenInput,
    ttlSeconds: number | undefined,
  ): Promise<{ token: string; record: RefreshTokenRecord }> {
    const now = ctx.now();
    const token = generateSecret();
    const record: RefreshTokenRecord = compact({
      ...data,
      familyId: data.familyId ?? generateSecret(),
      createdAt: now,
      expiresAt: now + (ttlSeconds ?? ctx.ttl.refreshToken) * 1000,
    });
    await ctx.adapter.set('refresh_token', await hashSecret(token), record);
    return { token, record };
  }

  return {
    async issue(data, options = {}) {
      assertObject(data, 'data');
      assertString(data.clientId, 'data.clientId');
      assertNonEmptyString(data.userId, 'data.userId');
      assertStringArray(data.scopes, 'data.scopes');
      if (data.familyId !== undefined) assertNonEmptyString(data.familyId, 'data.familyId');
      assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
      return store(data, options.ttlSeconds);
    },

    async find(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) return undefined;
      return ctx.adapter.find('refresh_token', await hashSecret(token), { now: ctx.now() });
    },

    async rotate(token, options = {}) {
      assertString(token, 'token');
      assertOptionalSeconds(options.graceSeconds, 'graceSeconds', true);
      assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
      if (options.scopes !== undefined) assertStringArray(options.scopes, 'scopes');
      if (!SECRET_PATTERN.test(token))
        throw new InvalidTokenError('The refresh token is not valid');
      const id = await hashSecret(token);
      const now = ctx.now();

      // A wider scope request is refused before the token is spent, so the client can retry.
      if (options.scopes) {
        const current = await ctx.adapter.find('refresh_token', id, { now });
        const notGranted = current
          ? options.scopes.filter((scope) => !current.scopes.includes(scope))
          : [];
        if (notGranted.length > 0) throw new InvalidScopeError(notGranted);
      }

      const result = await ctx.adapter.consume('refresh_token', id, now);
      if (result.status === 'not_found') {
        const stale = await ctx.adapter.find('refresh_token', id, { now, includeExpired: true });
        if (stale && isExpired(stale.expiresAt, now)) throw new TokenExpiredError(stale.expiresAt!);
        throw new InvalidTokenError('The refresh token is not valid');
      }
      const previous = result.record;
      if (result.status === 'already_consumed') {
        const graceMs = (options.graceSeconds ?? 0) * 1000;
        const consumedAt = previous.consumedAt ?? 0;
        if (!(graceMs > 0 && now - consumedAt <= graceMs)) {
          // RFC 9700 §4.14.2: the server cannot tell the thief from the client, so both lose.
          await ctx.adapter.revokeFamily(previous.familyId);
          throw new RefreshTokenReuseError(previous.familyId);
        }
      }
      const next = await store(
        {
          familyId: previous.familyId,
          clientId: previous.clientId,
          userId: previous.userId,
          scopes: options.scopes ?? previous.scopes,
          resource: previous.resource,
          extra: previous.extra,
        },
        options.ttlSeconds,
      );
      return { ...next, previous };
    },

    async revoke(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) return false;
      const record = await ctx.adapter.find('refresh_token', await hashSecret(token), {
        now: ctx.now(),
        includeExpired: true,
      });
      if (!record) return false;
      await ctx.adapter.revokeFamily(record.familyId);
      return true;
    },
  };
}
