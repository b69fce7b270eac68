import type { StoreContext } from './context.js';
import { CodedTypeError, describe } from './errors.js';

/** The longest key `replay.remember` takes, in UTF-16 code units. */
export const MAX_REPLAY_KEY_LENGTH = 256;

/**
 * A once-only store shared by every instance on the backend: what a DPoP proof's `jti`
 * ([RFC 9449 §11.1](https://www.rfc-editor.org/rfc/rfc9449#section-11.1)) and a client
 * assertion's `jti` ([RFC 7523 §3](https://www.rfc-editor.org/rfc/rfc7523#section-3), item 7)
 * need. Structurally the `ReplayStore` of `@portcullis/dpop` (and of `@portcullis/rate-limit`),
 * so `store.replay` can be passed where one is expected.
 */
export interface ReplayStore {
  /**
   * Remembers `key` until `expiresAtMs` (epoch ms, by the store's clock) unless it is already
   * remembered, in one atomic step: `true` the first time (or once the earlier entry has
   * expired), `false` while it is remembered. Of any number of concurrent calls for a key, on
   * any number of instances sharing the backend, exactly one gets `true`. An `expiresAtMs` that
   * has passed stores nothing (`true` unless the key is held). Keys are 1 to
   * `MAX_REPLAY_KEY_LENGTH` characters (well-formed UTF-16, no NUL), and `expiresAtMs` a finite
   * number within `Number.MAX_SAFE_INTEGER`: anything else is a `TypeError` (`code`
   * `ERR_INVALID_ARG_VALUE`, or `ERR_INVALID_ARG_TYPE` for a wrong type). Rejects with `StoreUnavailableError` when the
   * backend cannot answer: refuse the request then, never accept it.
   */
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}

/** `store.replay`: a `ReplayStore`, and whether the adapter keeps one. */
export interface ReplayStoreSection extends ReplayStore {
  /** Whether the adapter implements `remember` (every adapter of this package does). */
  readonly supported: boolean;
}

// A NUL (Postgres text refuses it) or a lone surrogate (no UTF-8 form: two such keys could meet).
const NOT_PLAIN_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function assertReplayKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') {
    throw new CodedTypeError(
      `"key" must be a string, received ${describe(key)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (key.length === 0 || key.length > MAX_REPLAY_KEY_LENGTH || NOT_PLAIN_TEXT.test(key)) {
    throw new CodedTypeError(
      `"key" must be 1 to ${MAX_REPLAY_KEY_LENGTH} characters of well-formed text without NUL (received ${key.length} characters)`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
}

export function replayStore(ctx: StoreContext): ReplayStoreSection {
  const supported = typeof ctx.adapter.remember === 'function';
  return {
    supported,
    async remember(key: string, expiresAtMs: number) {
      assertReplayKey(key);
      if (typeof expiresAtMs !== 'number' || !Number.isFinite(expiresAtMs)) {
        throw new CodedTypeError(
          `"expiresAtMs" must be a finite number (epoch ms), received ${describe(expiresAtMs)}`,
          'ERR_INVALID_ARG_TYPE',
        );
      }
      const expiresAt = Math.ceil(expiresAtMs);
      if (!Number.isSafeInteger(expiresAt)) {
        throw new CodedTypeError(
          `"expiresAtMs" must be an epoch time in ms within Number.MAX_SAFE_INTEGER, received ${expiresAtMs}`,
          'ERR_INVALID_ARG_VALUE',
        );
      }
      if (!supported) {
        throw new CodedTypeError(
          'this store adapter keeps no replay store (it has no remember)',
          'ERR_INVALID_ARG_VALUE',
        );
      }
      return ctx.adapter.remember!(key, expiresAt, ctx.now());
    },
  };
}
