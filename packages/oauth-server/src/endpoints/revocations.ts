import { InvalidRequestError } from '../errors.js';
import { authenticateResourceServer } from '../lib/clients.js';
import type { Context, RevocationFeedConfig } from '../lib/context.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { jsonReply, NO_STORE, paramsToRecord } from '../lib/http.js';
import { isInvalidCursor } from '../lib/store.js';

/** One revoked access token in the feed: nothing but a hash and an expiry. */
export interface RevokedTokenEntry {
  /** base64url (no padding) of the SHA-256 of the JWT's `jti` (UTF-8). */
  jti_sha256: string;
  /**
   * The token record's expiry, seconds since the epoch, rounded up: the JWT's `exp` give or take
   * the second it was signed in. Keep the entry until then plus the verifier's clock tolerance.
   */
  exp: number;
}

/** The answer of `GET /revocations`. */
export interface RevocationFeedResponse {
  revoked: RevokedTokenEntry[];
  /** Send it back as `?cursor=` on the next call. */
  cursor: string;
  /** `true`: the page was full, call again at once; `false`: caught up, poll again later. */
  more: boolean;
}

const LIMIT = /^[1-9][0-9]{0,3}$/;

/**
 * The revocation feed (JWT access tokens only): the access tokens revoked and not yet expired,
 * by the SHA-256 of their `jti`, for resource servers that verify JWTs locally to refuse them
 * before they expire. For the same clients as introspection (authenticated confidential clients
 * the operator allowed), with HTTP Basic only: a GET carries no body, and a secret never goes in
 * a URL. Every refusal reads as a failed authentication (401 `invalid_client`).
 */
export function createRevocationFeedHandler(ctx: Context, feed: RevocationFeedConfig): Handler {
  return endpoint(ctx, { methods: ['GET'], cors: false }, async (request) => {
    const query = paramsToRecord(new URL(request.url).searchParams);
    if (query.client_secret !== undefined || query.client_id !== undefined) {
      throw new InvalidRequestError(
        'client credentials go in the Authorization header (Basic), never in the URL',
      );
    }
    await authenticateResourceServer(ctx, request, {});
    const { cursor } = query;
    if (cursor !== undefined && (cursor.length === 0 || cursor.length > 200)) {
      throw new InvalidRequestError('cursor is not one this server handed out');
    }
    let limit = feed.pageSize;
    if (query.limit !== undefined) {
      if (!LIMIT.test(query.limit) || Number(query.limit) > feed.pageSize) {
        throw new InvalidRequestError(`limit must be an integer from 1 to ${feed.pageSize}`);
      }
      limit = Number(query.limit);
    }
    let page: Awaited<ReturnType<NonNullable<Context['store']['revocations']>['list']>>;
    try {
      page = await ctx.store.revocations!.list({
        ...(cursor === undefined ? {} : { cursor }),
        limit,
        overlapSeconds: feed.overlapSeconds,
      });
    } catch (error) {
      if (isInvalidCursor(error)) {
        throw new InvalidRequestError('cursor is not one this server handed out');
      }
      throw error;
    }
    const body: RevocationFeedResponse = {
      revoked: page.revoked.map((entry) => ({
        jti_sha256: entry.id,
        exp: Math.ceil(entry.expiresAt / 1000),
      })),
      cursor: page.cursor,
      more: page.more,
    };
    return jsonReply(body, 200, NO_STORE);
  });
}
