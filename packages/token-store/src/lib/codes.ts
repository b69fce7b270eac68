import { FamilyRevokedError } from '../errors.js';
import { generateSecret } from '../generate-secret.js';
import type {
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  ConsumeResult,
  RotateRequest,
} from '../types.js';
import { consentId } from './consents.js';
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
  CodedTypeError,
} from './errors.js';
import { type GrantTokens, issueTokens } from './grant-tokens.js';
import { matches } from './matches.js';
import { rotatedRecords } from './rotation.js';
import { sha256 } from './sha256.js';

/**
 * What a caller gives to issue a code; `familyId` is generated when absent, and
 * `grantExpiresAt` defaults to now + the store's grant lifetime (the grant is born here).
 */
export type AuthorizationCodeInput = Omit<
  AuthorizationCodeRecord,
  'createdAt' | 'expiresAt' | 'consumedAt' | 'familyId'
> & { familyId?: string };

export interface IssueOptions {
  /** Overrides the store's TTL for this one record. */
  ttlSeconds?: number;
  /**
   * When the record starts a grant (no `grantExpiresAt` given): the grant's lifetime, instead
   * of the store's `ttl.grant`. Counted on the store's clock.
   */
  grantTtlSeconds?: number;
}

export interface ConsumeCodeOptions {
  /**
   * Redeem the code only if its record holds these exact string values (e.g. `clientId`,
   * `codeChallenge`, `redirectUri`, `resource`), checked in the same atomic step: otherwise
   * `not_found` and the code is left as it was, so a token endpoint can validate a request and
   * redeem the code in one round trip, and a request that fails validation spends nothing.
   */
  match?: Record<string, string>;
  /**
   * The client redeeming it, as `clients.lookup()` handed it out: checked in the same atomic step
   * (`ClientChangedError` when the stored client no longer matches; the code is left as it was).
   * Any other object is ignored.
   */
  client?: ClientRecord;
}

/** Options of `CodeStore.issue`. */
export interface IssueCodeOptions extends IssueOptions {
  /**
   * Also read the standing consent of the code's user × client × resource (`consents.find`),
   * in the same round trip as the write where the adapter can (`setAndFind`): the result then
   * has `consent` (`undefined` when there is none).
   */
  readConsent?: boolean;
}

/** Options of `CodeStore.exchange`: the consume's, and the tokens to issue. */
export interface ExchangeCodeOptions extends ConsumeCodeOptions {
  /** The tokens' `resource` when the code has none. */
  resource?: string;
  /** The access token: its lifetime (default the store's) and `extra` stored on its record. */
  accessToken?: { ttlSeconds?: number; extra?: Record<string, unknown> };
  /**
   * Also issue a refresh token, with this lifetime (default the store's) and `extra` (grant data
   * it carries to its successors, e.g. a DPoP key binding `{ cnf: { jkt } }`; also the access
   * token's when that has none of its own, as `issueTokens`); omit for none.
   */
  refreshToken?: { ttlSeconds?: number; extra?: Record<string, unknown> };
}

/** What `CodeStore.exchange` resolves: the consume's outcome, and the tokens when consumed. */
export type CodeExchange = ConsumeResult<AuthorizationCodeRecord> & { tokens?: GrantTokens };

export interface CodeStore {
  /** Issues a single-use authorization code (RFC 6749 §4.1.2); the clear code is returned once. */
  issue(
    data: AuthorizationCodeInput,
    options?: IssueCodeOptions,
  ): Promise<{ code: string; record: AuthorizationCodeRecord; consent?: ConsentRecord }>;
  /**
   * Atomically redeems a code: exactly one caller gets `consumed`. `already_consumed` carries the
   * record so the server can revoke its family (RFC 6749 §4.1.2: a code used twice SHOULD revoke
   * the tokens issued from it).
   */
  consume(
    code: string,
    options?: ConsumeCodeOptions,
  ): Promise<ConsumeResult<AuthorizationCodeRecord>>;
  /**
   * The record of an unexpired code without consuming it (a consumed one carries
   * `consumedAt`), so a token endpoint can validate the whole request before it consumes
   * the code; `undefined` when unknown, expired or revoked.
   */
  find(code: string): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * A code exchange (RFC 6749 §4.1.3): `consume` (with `match` and `client`), then, for the one
   * caller that consumed it, the grant's access token and refresh token as `issueTokens` stores
   * them (the code's family, grant end, client, user, scopes and resource; the code's `extra`
   * stays with it). One atomic step and one round trip where the adapter can (`rotate` with
   * `kind: 'authorization_code'`); a revoked family throws `FamilyRevokedError`.
   */
  exchange(code: string, options?: ExchangeCodeOptions): Promise<CodeExchange>;
}

export function codeStore(ctx: StoreContext): CodeStore {
  /** Checks a redemption's arguments: the code's record id and client check, or `undefined`. */
  async function redeemable(code: string, options: ConsumeCodeOptions) {
    assertString(code, 'code');
    const { match } = options;
    if (match !== undefined) {
      assertObject(match, 'match');
      for (const key of Object.keys(match)) assertString(match[key], `match.${key}`);
    }
    if (!SECRET_PATTERN.test(code)) return undefined;
    const check = ctx.adapter.checksClients ? ctx.clients.of(options.client) : undefined;
    return { id: await sha256(code), check };
  }

  const consume: CodeStore['consume'] = async (code, options = {}) => {
    const { match } = options;
    const redeemed = await redeemable(code, options);
    if (redeemed === undefined) return { status: 'not_found' };
    const { id, check } = redeemed;
    if (match === undefined && check === undefined) {
      return ctx.adapter.consume('authorization_code', id, ctx.now());
    }
    const result = await ctx.clients.run(check, () =>
      ctx.adapter.consume('authorization_code', id, ctx.now(), {
        ...(match === undefined ? {} : { match }),
        ...(check === undefined ? {} : { client: check }),
      }),
    );
    // The floor: a record that does not match is never handed out (an adapter that ignored
    // `match` has spent it, and the caller's full validation will refuse it).
    if (match !== undefined && result.status !== 'not_found' && !matches(result.record, match)) {
      return { status: 'not_found' };
    }
    return result;
  };

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
      assertOptionalSeconds(options.grantTtlSeconds, 'grantTtlSeconds');
      const now = ctx.now();
      const code = generateSecret();
      const grantExpiresAt =
        data.grantExpiresAt ?? now + (options.grantTtlSeconds ?? ctx.ttl.grant) * 1000;
      const record = compact<AuthorizationCodeRecord>(data, {
        familyId: data.familyId ?? generateSecret(),
        grantExpiresAt,
        createdAt: now,
        expiresAt: expiryWithin(
          now,
          options.ttlSeconds ?? ctx.ttl.authorizationCode,
          grantExpiresAt,
        ),
      });
      const id = await sha256(code);
      if (options.readConsent !== true) {
        await setInFamily(ctx, 'authorization_code', id, record);
        return { code, record };
      }
      const read = {
        kind: 'consent' as const,
        id: consentId(data.userId, data.clientId, data.resource),
        now,
      };
      if (ctx.adapter.setAndFind === undefined) {
        await setInFamily(ctx, 'authorization_code', id, record);
        return { code, record, consent: await ctx.adapter.find(read.kind, read.id, { now }) };
      }
      const { written, found } = await ctx.adapter.setAndFind(
        'authorization_code',
        id,
        record,
        read,
      );
      if (!written) throw new FamilyRevokedError(record.familyId);
      return { code, record, consent: found };
    },

    async find(code) {
      assertString(code, 'code');
      if (!SECRET_PATTERN.test(code)) return undefined;
      return ctx.adapter.find('authorization_code', await sha256(code), { now: ctx.now() });
    },

    consume,

    async exchange(code, options = {}) {
      const { accessToken, refreshToken } = options;
      if (accessToken !== undefined) {
        assertObject(accessToken, 'accessToken');
        assertOptionalSeconds(accessToken.ttlSeconds, 'accessToken.ttlSeconds');
      }
      if (refreshToken !== undefined) {
        assertObject(refreshToken, 'refreshToken');
        assertOptionalSeconds(refreshToken.ttlSeconds, 'refreshToken.ttlSeconds');
        if (refreshToken.extra !== undefined)
          assertObject(refreshToken.extra, 'refreshToken.extra');
      }
      if (options.resource !== undefined) assertString(options.resource, 'resource');
      if (ctx.adapter.rotate === undefined || refreshToken === undefined) {
        const result = await consume(code, options);
        if (result.status !== 'consumed') return result;
        const { record } = result;
        const tokens = await issueTokens(
          ctx,
          {
            familyId: record.familyId,
            grantExpiresAt: record.grantExpiresAt,
            clientId: record.clientId,
            userId: record.userId,
            scopes: record.scopes,
            resource: record.resource ?? options.resource,
            ...(refreshToken?.extra === undefined ? {} : { extra: refreshToken.extra }),
          },
          {
            ...(accessToken === undefined ? {} : { accessToken }),
            ...(refreshToken === undefined ? {} : { refreshToken }),
          },
        );
        return { ...result, tokens };
      }
      // One step: the consume, the family's marker check and both writes.
      const { match } = options;
      const redeemed = await redeemable(code, options);
      if (redeemed === undefined) return { status: 'not_found' };
      const { id, check } = redeemed;
      const access = generateSecret();
      const refresh = generateSecret();
      const accessExtra = accessToken?.extra ?? refreshToken.extra;
      const request: RotateRequest = {
        kind: 'authorization_code',
        id,
        now: ctx.now(),
        ...(match === undefined ? {} : { match }),
        ...(check === undefined ? {} : { client: check }),
        ...(options.resource === undefined ? {} : { resource: options.resource }),
        ...(refreshToken.extra === undefined ? {} : { refreshExtra: refreshToken.extra }),
        grantTtlMs: ctx.ttl.grant * 1000,
        refresh: {
          id: await sha256(refresh),
          ttlMs: (refreshToken.ttlSeconds ?? ctx.ttl.refreshToken) * 1000,
        },
        access: {
          id: await sha256(access),
          ttlMs: (accessToken?.ttlSeconds ?? ctx.ttl.accessToken) * 1000,
          ...(accessExtra === undefined ? {} : { extra: accessExtra }),
        },
      };
      const result = await ctx.clients.run(check, () => ctx.adapter.rotate!(request));
      if (result.status === 'not_found') return result;
      const record = result.record as AuthorizationCodeRecord;
      if (!matches(record, match)) return { status: 'not_found' };
      if (result.status === 'family_revoked') throw new FamilyRevokedError(record.familyId);
      if (result.status === 'already_consumed') return { status: 'already_consumed', record };
      const issued = rotatedRecords(record, request);
      return {
        status: 'consumed',
        record,
        tokens: {
          accessToken: { token: access, record: issued.access! },
          refreshToken: { token: refresh, record: issued.refresh },
        },
      };
    },
  };
}
