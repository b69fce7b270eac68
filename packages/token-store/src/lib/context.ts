import { StoreUnavailableError, TokenStoreError } from '../errors.js';
import type { StoreAdapter } from '../types.js';

/** Artifact lifetimes in seconds (STYLE.md §10: short defaults, each overridable). */
export interface TtlOptions {
  /** Default 60 ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2): "a maximum lifetime of 10 minutes is RECOMMENDED"). */
  authorizationCode?: number;
  /** Default 3600. */
  accessToken?: number;
  /** Default 1_209_600 (14 days). */
  refreshToken?: number;
}

export const DEFAULT_TTL: Required<TtlOptions> = {
  authorizationCode: 60,
  accessToken: 3600,
  refreshToken: 1_209_600,
};

/** What the facade's sections share. */
export interface StoreContext {
  adapter: StoreAdapter;
  now: () => number;
  ttl: Required<TtlOptions>;
}

/**
 * Wraps an adapter so that anything it throws that is not one of our errors becomes a
 * `StoreUnavailableError`: a third-party adapter that lets a driver error escape still gives
 * callers the one error they answer with 503.
 */
export function guardAdapter(adapter: StoreAdapter): StoreAdapter {
  const guarded = {} as Record<string, unknown>;
  for (const name of [
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
    guarded[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(adapter, args);
      } catch (error) {
        if (error instanceof TokenStoreError) throw error;
        throw new StoreUnavailableError(`The token store failed: ${describeError(error)}`, {
          cause: error,
        });
      }
    };
  }
  return guarded as unknown as StoreAdapter;
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Drops `undefined` properties so every backend returns the same shape (JSON has no `undefined`). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Our secrets are base64url; anything else cannot be one, and is rejected before hashing. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43,1400}$/;
