import { generateSecret } from '../generate-secret.js';
import { hashSecret } from '../hash-secret.js';
import type { AuthorizationCodeRecord, ConsumeResult } from '../types.js';
import { compact, SECRET_PATTERN, type StoreContext } from './context.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  assertStringArray,
  CodedTypeError,
} from './errors.js';

/** What a caller gives to issue a code; `familyId` is generated when absent. */
export type AuthorizationCodeInput = Omit<
  AuthorizationCodeRecord,
  'createdAt' | 'expiresAt' | 'consumedAt' | 'familyId'
> & { familyId?: string };

export interface IssueOptions {
  /** Overrides the store's TTL for this one record. */
  ttlSeconds?: number;
}

export interface CodeStore {
  /** Issues a single-use authorization code (RFC 6749 §4.1.2); the clear code is returned once. */
  issue(
    data: AuthorizationCodeInput,
    options?: IssueOptions,
  ): Promise<{ code: string; record: AuthorizationCodeRecord }>;
  /**
   * Atomically redeems a code: exactly one caller gets `consumed`. `already_consumed` carries the
   * record so the server can revoke its family (RFC 6749 §4.1.2: a code used twice SHOULD revoke
   * the tokens issued from it).
   */
  consume(code: string): Promise<ConsumeResult<AuthorizationCodeRecord>>;
}

export function codeStore(ctx: StoreContext): CodeStore {
  return {
    async issue(data, options = {}) {
      assertObject(data, 'data');
      assertNonEmptyString(data.clientId, 'data.clientId');
      assertNonEmptyString(data.userId, 'data.userId');
      assertNonEmptyString(data.redirectUri, 'data.redirectUri');
      assertNonEmptyString(data.codeChallenge, 'data.codeChallenge');
      assertStringArray(data.scopes, 'data.scopes');
      if (data.codeChallengeMethod !== 'S256') {
        throw new CodedTypeError(
          '"data.codeChallengeMethod" must be "S256" (OAuth 2.1 and MCP require it)',
          'ERR_INVALID_ARG_VALUE',
        );
      }
      if (data.familyId !== undefined) assertNonEmptyString(data.familyId, 'data.familyId');
      assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
      const now = ctx.now();
      const code = generateSecret();
      const record: AuthorizationCodeRecord = compact({
        ...data,
        familyId: data.familyId ?? generateSecret(),
        createdAt: now,
        expiresAt: now + (options.ttlSeconds ?? ctx.ttl.authorizationCode) * 1000,
      });
      await ctx.adapter.set('authorization_code', await hashSecret(code), record);
      return { code, record };
    },

    async consume(code) {
      assertString(code, 'code');
      if (!SECRET_PATTERN.test(code)) return { status: 'not_found' };
      return ctx.adapter.consume('authorization_code', await hashSecret(code), ctx.now());
    },
  };
}
