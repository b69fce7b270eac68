import { InvalidCursorError } from '../errors.js';
import type { FeedPosition } from '../types.js';
import type { StoreContext } from './context.js';
import { assertObject, CodedTypeError, describe } from './errors.js';

/**
 * Default overlap of the revocation feed, in seconds: how long after its `revokedAt` a
 * revocation may still become visible (a transaction committing late, a writer whose clock is
 * behind the reader's), and so how far back every read looks again.
 */
export const DEFAULT_REVOCATION_OVERLAP_SECONDS = 10;

/** The largest page `revocations.list()` answers (and its default). */
export const MAX_REVOCATION_PAGE = 1000;

export interface RevocationsListOptions {
  /** The `cursor` of the previous page; omitted: from the beginning (every live entry). */
  cursor?: string;
  /** At most this many entries, 1 to `MAX_REVOCATION_PAGE` (default). */
  limit?: number;
  /** See `DEFAULT_REVOCATION_OVERLAP_SECONDS`. */
  overlapSeconds?: number;
}

/** One page of the revocation feed. */
export interface RevocationPage {
  /**
   * Revoked, unexpired access tokens: `id` is the SHA-256 (base64url) of the token's handle
   * (a JWT's `jti`), `expiresAt` its expiry (epoch ms). An entry may come again on later pages
   * (the overlap): keep a set.
   */
  revoked: { id: string; expiresAt: number }[];
  /** Pass it to the next call. */
  cursor: string;
  /** `true`: the page was full, call again at once; `false`: caught up, call again later. */
  more: boolean;
}

export interface RevocationFeedStore {
  /**
   * A page of the access tokens revoked and not yet expired (by `/revoke`, refresh-token
   * reuse, code replay, a withdrawn consent: `revokeFamily` and `accessTokens.revoke`), in a
   * stable order. A cursor never skips an entry whose revocation became visible late (within
   * `overlapSeconds` of its `revokedAt`): every read looks back over the unsettled part of the
   * feed again, so entries repeat and the reader de-duplicates. Throws `InvalidCursorError` for
   * a cursor it did not hand out, and a `TypeError` when the adapter keeps no feed.
   */
  list(options?: RevocationsListOptions): Promise<RevocationPage>;
  /** Whether the adapter keeps a revocation feed (`listRevokedAccessTokens`). */
  readonly supported: boolean;
}

const START: FeedPosition = { revokedAt: 0, id: '' };
const CURSOR = /^(\d{1,15})\.([A-Za-z0-9_-]{0,64})\.(\d{1,15})\.([A-Za-z0-9_-]{0,64})$/;

/** Feed order: `revokedAt`, then `id` bytewise (base64url ids: UTF-16 order is byte order). */
export function compareFeedPositions(a: FeedPosition, b: FeedPosition): number {
  if (a.revokedAt !== b.revokedAt) return a.revokedAt < b.revokedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const min = (a: FeedPosition, b: FeedPosition) => (compareFeedPositions(a, b) <= 0 ? a : b);
const max = (a: FeedPosition, b: FeedPosition) => (compareFeedPositions(a, b) >= 0 ? a : b);

/**
 * The cursor holds two positions. `settled`: every entry at or before it has been handed out,
 * and none can still appear there (it is older than the overlap). `next`: where the next read
 * starts. While the reader pages through a full feed, `next` runs ahead of `settled`; once it
 * has caught up, `next` goes back to `settled`, so what became visible late behind the pages
 * read is read again.
 */
interface Cursor {
  settled: FeedPosition;
  next: FeedPosition;
}

function encode({ settled, next }: Cursor): string {
  return `${settled.revokedAt}.${settled.id}.${next.revokedAt}.${next.id}`;
}

function decode(text: unknown): Cursor {
  if (typeof text !== 'string' || text.length > 200) throw new InvalidCursorError();
  const parts = CURSOR.exec(text);
  if (!parts) throw new InvalidCursorError();
  const settled = { revokedAt: Number(parts[1]), id: parts[2]! };
  const next = { revokedAt: Number(parts[3]), id: parts[4]! };
  if (!Number.isSafeInteger(settled.revokedAt) || !Number.isSafeInteger(next.revokedAt)) {
    throw new InvalidCursorError();
  }
  if (compareFeedPositions(settled, next) > 0) throw new InvalidCursorError();
  return { settled, next };
}

export function revocationFeedStore(ctx: StoreContext): RevocationFeedStore {
  const supported = typeof ctx.adapter.listRevokedAccessTokens === 'function';
  return {
    supported,
    async list(options: RevocationsListOptions = {}) {
      assertObject(options as unknown, 'options');
      const limit = options.limit ?? MAX_REVOCATION_PAGE;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REVOCATION_PAGE) {
        throw new CodedTypeError(
          `"options.limit" must be an integer from 1 to ${MAX_REVOCATION_PAGE}, received ${describe(limit)}`,
          'ERR_INVALID_ARG_VALUE',
        );
      }
      const overlapSeconds = options.overlapSeconds ?? DEFAULT_REVOCATION_OVERLAP_SECONDS;
      if (typeof overlapSeconds !== 'number' || !(overlapSeconds >= 0)) {
        throw new CodedTypeError(
          `"options.overlapSeconds" must be a number of seconds >= 0, received ${describe(overlapSeconds)}`,
          'ERR_INVALID_ARG_VALUE',
        );
      }
      if (!supported) {
        throw new CodedTypeError(
          'this store adapter keeps no revocation feed (it has no listRevokedAccessTokens)',
          'ERR_INVALID_ARG_VALUE',
        );
      }
      const cursor =
        options.cursor === undefined ? { settled: START, next: START } : decode(options.cursor);
      const now = ctx.now();
      const page = await ctx.adapter.listRevokedAccessTokens!({
        after: cursor.next,
        limit,
        now,
      });
      const full = page.length >= limit;
      const last = page[page.length - 1];
      // Nothing revoked before this can still appear.
      const horizon: FeedPosition = { revokedAt: Math.max(0, now - overlapSeconds * 1000), id: '' };
      // What this read handed out: up to its last entry, or (not full) everything there is.
      const covered = full && last ? last : undefined;
      // `settled` moves only on a read that started from it (nothing unread behind `next`).
      const settled =
        compareFeedPositions(cursor.settled, cursor.next) === 0
          ? max(cursor.settled, covered ? min(covered, horizon) : horizon)
          : cursor.settled;
      const next = full && last ? { revokedAt: last.revokedAt, id: last.id } : settled;
      return {
        revoked: page.map((entry) => ({ id: entry.id, expiresAt: entry.expiresAt })),
        cursor: encode({ settled, next }),
        more: full,
      };
    },
  };
}
