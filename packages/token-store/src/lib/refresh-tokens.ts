import {
  BindingMismatchError,
  FamilyRevokedError,
  InvalidTokenError,
  RefreshTokenReuseError,
  TokenExpiredError,
} from '../errors.js';
import { generateSecret } from '../generate-secret.js';
import type {
  AccessTokenRecord,
  ClientRecord,
  RefreshTokenRecord,
  RotateRequest,
  RotateResult,
} from '../types.js';
import { newAccessToken } from './access-tokens.js';
import type { IssueOptions } from './codes.js';
import {
  compact,
  DEFAULT_REFRESH_GRACE_SECONDS,
  expiryWithin,
  revokeFamily,
  SECRET_PATTERN,
  type StoreContext,
  setInFamily,
  setManyInFamily,
} from './context.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  assertStringArray,
  CodedTypeError,
} from './errors.js';
import { isExpired } from './expiry.js';
import { bindingAllows } from './matches.js';
import { rotatedRecords } from './rotation.js';
import { sha256 } from './sha256.js';
import { openSuccessor, sealSuccessor } from './successor.js';

/** What a caller gives to issue a refresh token; `familyId` is generated when absent. */
export type RefreshTokenInput = Omit<
  RefreshTokenRecord,
  'createdAt' | 'expiresAt' | 'consumedAt' | 'familyId' | 'successor'
> & { familyId?: string };

export interface RotateOptions {
  /**
   * Seconds after a rotation during which presenting the old token again (honest parallel
   * refreshes, a retry after a lost response) gets the same successor instead of revoking the
   * family. Default 30; 0 turns it off: any second use revokes the family.
   */
  graceSeconds?: number;
  /** Lifetime of the new refresh token; default the store's refresh TTL (cut at the grant's end). */
  ttlSeconds?: number;
  /**
   * Rotate only a token issued to this client, checked in the same atomic step as the
   * rotation: another client's token is refused (`InvalidTokenError`) and left as it was, so a
   * client can neither spend nor replay a token that is not its own.
   */
  clientId?: string;
  /**
   * The client rotating it, as `clients.lookup()` handed it out: checked in the same atomic step
   * (`ClientChangedError` when the stored client no longer matches; nothing is spent or stored).
   * Any other object is ignored.
   */
  client?: ClientRecord;
  /**
   * Rotate only a token whose key binding (`extra.cnf.jkt`, RFC 9449 §5) allows this key: an
   * unbound token, or one bound to exactly this key (`null`: the request has none). Checked in
   * the same atomic step as the rotation: a token bound to another key is refused
   * (`BindingMismatchError`) and left as it was, consumed or not (no reuse detection, no grace
   * successor). Omitted: no check.
   */
  cnfJkt?: string | null;
  /**
   * Also issue an access token of the same grant, stored with the successor in one atomic step
   * (one round trip where the adapter has `setMany`). `scopes` may narrow the grant's scopes
   * for this token only (RFC 6749 §6); `extra` is stored on its record.
   */
  accessToken?: {
    scopes?: string[];
    ttlSeconds?: number;
    extra?: Record<string, unknown>;
  };
}

/** What `rotate` resolves. */
export interface Rotation {
  token: string;
  record: RefreshTokenRecord;
  previous: RefreshTokenRecord;
  /** The access token asked for with `options.accessToken`. */
  accessToken?: { token: string; record: AccessTokenRecord };
}

export interface RefreshTokenStore {
  issue(
    data: RefreshTokenInput,
    options?: IssueOptions,
  ): Promise<{ token: string; record: RefreshTokenRecord }>;
  /** The record of an unexpired token (a rotated one carries `consumedAt`); `undefined` when unknown. */
  find(token: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Exchanges a refresh token for its successor in the same family (refresh token rotation,
   * RFC 9700 §4.14.2). Within the grace window a replay gets the same successor; after it,
   * reuse revokes the family and throws `RefreshTokenReuseError`.
   */
  rotate(token: string, options?: RotateOptions): Promise<Rotation>;
  /** Revokes the token's whole family (RFC 7009 §2.1); `false` when the token is unknown. */
  revoke(token: string): Promise<boolean>;
}

/** A chain rotated faster than this within one grace window is not followed further. */
const MAX_HOPS = 8;

export function refreshTokenStore(ctx: StoreContext): RefreshTokenStore {
  /** The record the rotation of `previous` (at `now`) writes for its successor. */
  function successorOf(previous: RefreshTokenRecord, now: number, ttlSeconds: number | undefined) {
    return rotatedRecords(previous, {
      id: '',
      now,
      grantTtlMs: ctx.ttl.grant * 1000,
      refresh: { id: '', ttlMs: (ttlSeconds ?? ctx.ttl.refreshToken) * 1000 },
    }).refresh;
  }

  /** An access token of the grant `refresh` belongs to, as `rotate`'s `accessToken` asks. */
  function accessFor(
    refresh: RefreshTokenRecord,
    wanted: NonNullable<RotateOptions['accessToken']>,
  ) {
    if (wanted.scopes?.some((scope) => !refresh.scopes.includes(scope))) {
      // RFC 6749 §6: never wider than the grant. Callers check before rotating; this is the floor.
      throw new CodedTypeError(
        '"accessToken.scopes" must be a subset of the grant\'s scopes',
        'ERR_INVALID_ARG_VALUE',
      );
    }
    return newAccessToken(
      ctx,
      {
        familyId: refresh.familyId,
        grantExpiresAt: refresh.grantExpiresAt ?? refresh.createdAt + ctx.ttl.grant * 1000,
        clientId: refresh.clientId,
        userId: refresh.userId,
        scopes: wanted.scopes ?? refresh.scopes,
        resource: refresh.resource,
        extra: wanted.extra,
      },
      ctx.now(),
      wanted.ttlSeconds,
    );
  }

  /**
   * A replay within the grace window: the live head of the chain that started at `token`.
   * Each rotated record holds its successor sealed under a key derived from itself, so the
   * holder of `token` can open the next link, and so on.
   */
  async function follow(
    token: string,
    record: RefreshTokenRecord,
    ttlSeconds: number | undefined,
  ): Promise<{ token: string; record: RefreshTokenRecord }> {
    const now = ctx.now();
    let current = { token, record };
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const sealed = current.record.successor;
      const next = sealed === undefined ? undefined : await openSuccessor(current.token, sealed);
      if (next === undefined) break;
      const found = await ctx.adapter.find('refresh_token', await sha256(next), { now });
      if (found === undefined) {
        // Not stored yet (its rotation is still writing it), or its family was just revoked.
        const family = await ctx.adapter.find('family', current.record.familyId, { now });
        if (family?.revokedAt !== undefined) throw new FamilyRevokedError(family.familyId);
        return {
          token: next,
          record: successorOf(current.record, current.record.consumedAt ?? now, ttlSeconds),
        };
      }
      if (found.consumedAt === undefined) return { token: next, record: found };
      current = { token: next, record: found };
    }
    throw new InvalidTokenError('The refresh token was already rotated');
  }

  return {
    async issue(data, options = {}) {
      assertObject(data, 'data');
      assertString(data.clientId, 'data.clientId');
      assertNonEmptyString(data.userId, 'data.userId');
      assertStringArray(data.scopes, 'data.scopes');
      if (data.familyId !== undefined) assertNonEmptyString(data.familyId, 'data.familyId');
      assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
      assertOptionalSeconds(options.grantTtlSeconds, 'grantTtlSeconds');
      const now = ctx.now();
      const token = generateSecret();
      const grantExpiresAt =
        data.grantExpiresAt ?? now + (options.grantTtlSeconds ?? ctx.ttl.grant) * 1000;
      const record = compact<RefreshTokenRecord>(data, {
        familyId: data.familyId ?? generateSecret(),
        grantExpiresAt,
        createdAt: now,
        expiresAt: expiryWithin(now, options.ttlSeconds ?? ctx.ttl.refreshToken, grantExpiresAt),
      });
      await setInFamily(ctx, 'refresh_token', await sha256(token), record);
      return { token, record };
    },

    async find(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) return undefined;
      return ctx.adapter.find('refresh_token', await sha256(token), { now: ctx.now() });
    },

    async rotate(token, options = {}) {
      assertString(token, 'token');
      assertOptionalSeconds(options.graceSeconds, 'graceSeconds', true);
      assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
      if (options.clientId !== undefined) assertString(options.clientId, 'clientId');
      const { cnfJkt } = options;
      if (cnfJkt !== undefined && cnfJkt !== null) assertString(cnfJkt, 'cnfJkt');
      const wanted = options.accessToken;
      if (wanted !== undefined) {
        assertObject(wanted, 'accessToken');
        if (wanted.scopes !== undefined) assertStringArray(wanted.scopes, 'accessToken.scopes');
        assertOptionalSeconds(wanted.ttlSeconds, 'accessToken.ttlSeconds');
      }
      if (!SECRET_PATTERN.test(token))
        throw new InvalidTokenError('The refresh token is not valid');
      const graceMs = (options.graceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS) * 1000;
      const id = await sha256(token);
      const now = ctx.now();
      // The successor is chosen before the consume and sealed into it in the same atomic step,
      // so a replay that finds the token consumed can always tell which successor it got.
      const next = generateSecret();
      const sealed = graceMs > 0 ? await sealSuccessor(token, next) : undefined;

      const check = ctx.adapter.checksClients ? ctx.clients.of(options.client) : undefined;
      // The consume's options, and (where the adapter can rotate in one step) the whole request,
      // as one object built field by field: on Node 20 each object spread costs ~1 us.
      const step = { id, now } as RotateRequest;
      if (sealed !== undefined) step.successor = sealed;
      if (options.clientId !== undefined) step.clientId = options.clientId;
      if (check !== undefined) step.client = check;
      if (cnfJkt !== undefined) step.cnfJkt = cnfJkt;
      // One atomic step where the adapter can (`rotate`): consume, and store the successor and
      // the access token, in one SQL statement or Lua script. A narrowed access token takes the
      // two-step path, which checks the narrowing against the grant before it writes.
      let request: RotateRequest | undefined;
      let accessToken: string | undefined;
      if (ctx.adapter.rotate !== undefined && wanted?.scopes === undefined) {
        request = step;
        request.grantTtlMs = ctx.ttl.grant * 1000;
        request.refresh = {
          id: await sha256(next),
          ttlMs: (options.ttlSeconds ?? ctx.ttl.refreshToken) * 1000,
        };
        if (wanted !== undefined) {
          accessToken = generateSecret();
          const access: NonNullable<RotateRequest['access']> = {
            id: await sha256(accessToken),
            ttlMs: (wanted.ttlSeconds ?? ctx.ttl.accessToken) * 1000,
          };
          if (wanted.extra !== undefined) access.extra = wanted.extra;
          request.access = access;
        }
      }
      const result: RotateResult = await ctx.clients.run(check, () =>
        request
          ? ctx.adapter.rotate!(request)
          : ctx.adapter.consume('refresh_token', id, now, step),
      );
      if (result.status === 'not_found') {
        const stale = await ctx.adapter.find('refresh_token', id, { now, includeExpired: true });
        if (stale && options.clientId !== undefined && stale.clientId !== options.clientId) {
          throw new InvalidTokenError('The refresh token was issued to another client');
        }
        if (stale && isExpired(stale.expiresAt, now)) throw new TokenExpiredError(stale.expiresAt!);
        // A record's binding never changes: this is why the adapter refused it.
        if (stale && !bindingAllows(stale, cnfJkt)) throw new BindingMismatchError(cnfJkt!);
        throw new InvalidTokenError('The refresh token is not valid');
      }
      const previous = result.record;
      if (options.clientId !== undefined && previous.clientId !== options.clientId) {
        // Only an adapter that ignores `clientId` gets here; the token is refused all the same.
        throw new InvalidTokenError('The refresh token was issued to another client');
      }
      // Likewise an adapter that ignores `cnfJkt` (every adapter here checks it in the step).
      if (!bindingAllows(previous, cnfJkt)) throw new BindingMismatchError(cnfJkt!);
      if (result.status === 'already_consumed') {
        const consumedAt = previous.consumedAt ?? 0;
        if (graceMs > 0 && now - consumedAt <= graceMs) {
          const head = await follow(token, previous, options.ttlSeconds);
          if (wanted === undefined) return { ...head, previous };
          const access = accessFor(head.record, wanted);
          await setInFamily(ctx, 'access_token', await sha256(access.token), access.record);
          return { ...head, previous, accessToken: access };
        }
        // RFC 9700 §4.14.2: the server cannot tell the thief from the client, so both lose.
        await revokeFamily(ctx, previous.familyId);
        throw new RefreshTokenReuseError(previous.familyId);
      }
      if (result.status === 'family_revoked') throw new FamilyRevokedError(previous.familyId);
      if (request) {
        // Stored by the adapter in the same step as the consume.
        const { refresh, access } = rotatedRecords(previous, request);
        if (access === undefined || accessToken === undefined) {
          return { token: next, record: refresh, previous };
        }
        return {
          token: next,
          record: refresh,
          previous,
          accessToken: { token: accessToken, record: access },
        };
      }
      const record = successorOf(previous, now, options.ttlSeconds);
      // Throws FamilyRevokedError if the family was revoked since the consume: the successor
      // (and the access token) is then never stored, whatever the interleaving.
      if (wanted === undefined) {
        await setInFamily(ctx, 'refresh_token', await sha256(next), record);
        return { token: next, record, previous };
      }
      const access = accessFor(record, wanted);
      await setManyInFamily(ctx, [
        { kind: 'refresh_token', id: await sha256(next), record },
        { kind: 'access_token', id: await sha256(access.token), record: access.record },
      ]);
      return { token: next, record, previous, accessToken: access };
    },

    async revoke(token) {
      assertString(token, 'token');
      if (!SECRET_PATTERN.test(token)) return false;
      const record = await ctx.adapter.find('refresh_token', await sha256(token), {
        now: ctx.now(),
        includeExpired: true,
      });
      if (!record) return false;
      await revokeFamily(ctx, record.familyId);
      return true;
    },
  };
}
