import { FamilyRevokedError, StoreUnavailableError, TokenStoreError } from '../errors.js';
import type { FamilyEntry, FamilyKind, RecordOf, StoreAdapter, Timestamp } from '../types.js';
import type { ClientChecks } from './client-checks.js';
import { putData as put } from './copy-record.js';

/** Artifact lifetimes in seconds: short defaults, each overridable (as node-oidc-provider does). */
export interface TtlOptions {
  /** Default 60 ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2): "a maximum lifetime of 10 minutes is RECOMMENDED"). */
  authorizationCode?: number;
  /** Default 3600. */
  accessToken?: number;
  /** Default 1_209_600 (14 days). */
  refreshToken?: number;
  /**
   * Default 7_776_000 (90 days): the absolute lifetime of a grant. No token of a family
   * outlives it, however often its refresh token is rotated
   * ([RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)).
   */
  grant?: number;
}

/** The one definition of the default lifetimes, in seconds; `@portcullis/oauth-server` uses it too. */
export const DEFAULT_TTL: Readonly<Required<TtlOptions>> = Object.freeze({
  authorizationCode: 60,
  accessToken: 3600,
  refreshToken: 1_209_600,
  grant: 7_776_000,
});

/**
 * Default grace window, in seconds, during which a rotated refresh token presented again gets
 * the same successor instead of revoking its family (honest parallel refreshes and retries).
 */
export const DEFAULT_REFRESH_GRACE_SECONDS = 30;

/** What the facade's sections share. */
export interface StoreContext {
  adapter: StoreAdapter;
  /** Client records kept for the grant steps (`clients.lookup`); see `ClientChecks`. */
  clients: ClientChecks;
  now: () => number;
  ttl: Required<TtlOptions>;
}

/** When a new record of a grant expires: its own lifetime, cut at the grant's absolute end. */
export function expiryWithin(
  now: Timestamp,
  ttlSeconds: number,
  grantExpiresAt: Timestamp | undefined,
): Timestamp {
  const own = now + ttlSeconds * 1000;
  return grantExpiresAt === undefined ? own : Math.min(own, grantExpiresAt);
}

/** Writes a record of a family; throws `FamilyRevokedError` when the family was revoked. */
export async function setInFamily<K extends FamilyKind>(
  ctx: StoreContext,
  kind: K,
  id: string,
  record: RecordOf[K],
): Promise<void> {
  if (!(await ctx.adapter.set(kind, id, record))) throw new FamilyRevokedError(record.familyId);
}

/**
 * Writes several records of one family in one atomic step where the adapter can (`setMany`:
 * one SQL statement, one Lua script), else one `set` each; throws `FamilyRevokedError` when the
 * family was revoked (then nothing is stored, or, without `setMany`, nothing the family's
 * marker does not refuse).
 */
export async function setManyInFamily(ctx: StoreContext, entries: FamilyEntry[]): Promise<void> {
  const familyId = entries[0]?.record.familyId;
  if (familyId === undefined) return;
  const stored = ctx.adapter.setMany
    ? await ctx.adapter.setMany(entries)
    : (await Promise.all(entries.map((e) => ctx.adapter.set(e.kind, e.id, e.record)))).every(
        Boolean,
      );
  if (!stored) throw new FamilyRevokedError(familyId);
}

/**
 * Revokes a family through the adapter, keeping its marker at least as long as any token the
 * store could still issue into it.
 */
export function revokeFamily(ctx: StoreContext, familyId: string): Promise<number> {
  const now = ctx.now();
  const longest = Math.max(ctx.ttl.authorizationCode, ctx.ttl.accessToken, ctx.ttl.refreshToken);
  return ctx.adapter.revokeFamily(familyId, { now, retainUntil: now + longest * 1000 });
}

/**
 * Wraps an adapter so that anything it throws that is not one of our errors becomes a
 * `StoreUnavailableError`: a third-party adapter that lets a driver error escape still gives
 * callers the one error they answer with 503.
 */
export function guardAdapter(adapter: StoreAdapter): StoreAdapter {
  const guarded = {} as Record<string, unknown>;
  for (const name of [
    ...(typeof adapter.setMany === 'function' ? (['setMany'] as const) : []),
    ...(typeof adapter.rotate === 'function' ? (['rotate'] as const) : []),
    ...(typeof adapter.setAndFind === 'function' ? (['setAndFind'] as const) : []),
    ...(typeof adapter.sweepExpiredClients === 'function'
      ? (['sweepExpiredClients'] as const)
      : []),
    ...(typeof adapter.revokeAccessToken === 'function' ? (['revokeAccessToken'] as const) : []),
    ...(typeof adapter.listRevokedAccessTokens === 'function'
      ? (['listRevokedAccessTokens'] as const)
      : []),
    ...(typeof adapter.remember === 'function' ? (['remember'] as const) : []),
    'set',
    'find',
    'consume',
    'delete',
    'revokeFamily',
    'listByUser',
    'list',
    'purgeExpired',
    'close',
  ] as const) {
    const method = adapter[name] as (...args: unknown[]) => Promise<unknown>;
    // A rejection handler on the adapter's own promise, not an async wrapper awaiting it: one
    // promise and its microtask hops fewer on every store call.
    guarded[name] = (...args: unknown[]) => {
      try {
        return Promise.resolve(method.apply(adapter, args)).then(undefined, unavailable);
      } catch (error) {
        return Promise.reject(unavailableError(error));
      }
    };
  }
  if (adapter.checksClients === true) guarded.checksClients = true;
  return guarded as unknown as StoreAdapter;
}

function unavailableError(error: unknown): unknown {
  if (error instanceof TokenStoreError) return error;
  return new StoreUnavailableError(`The token store failed: ${describeError(error)}`, {
    cause: error,
  });
}

function unavailable(error: unknown): never {
  throw unavailableError(error);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Drops `undefined` properties so every backend returns the same shape (JSON has no `undefined`).
 * With `overrides`: the same as `compact({ ...value, ...overrides })`, keys in the same order,
 * without building that object: on this V8 an object spread followed by more properties costs
 * over a microsecond (a new hidden class each time, which also slows every later reader of it).
 */
export function compact<T extends object>(value: T): T;
export function compact<T extends object>(value: object, overrides: Record<string, unknown>): T;
export function compact(value: object, overrides?: Record<string, unknown>): object {
  // A loop, not Object.fromEntries(Object.entries().filter()): this runs for every record written.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v =
      overrides !== undefined && Object.hasOwn(overrides, key)
        ? overrides[key]
        : (value as Record<string, unknown>)[key];
    if (v !== undefined) put(out, key, v);
  }
  if (overrides !== undefined) {
    for (const key of Object.keys(overrides)) {
      const v = overrides[key];
      if (v !== undefined && !Object.prototype.propertyIsEnumerable.call(value, key)) {
        put(out, key, v);
      }
    }
  }
  return out;
}

/** Our secrets are base64url; anything else cannot be one, and is rejected before hashing. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43,1400}$/;
