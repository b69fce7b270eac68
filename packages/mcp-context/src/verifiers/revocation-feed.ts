import { basicCredentials } from '../lib/basic-credentials.js';
import {
  assertNonEmptyString,
  assertObject,
  assertPositiveInteger,
  assertResourceUrl,
  assertString,
  invalidType,
  invalidValue,
} from '../lib/errors.js';

export interface RevocationFeedOptions {
  /**
   * The authorization server's revocation feed (`revocation_feed_endpoint` in its metadata),
   * answering `GET ?cursor=` with `{ revoked: [{ jti_sha256, exp }], cursor, more }`.
   */
  endpoint: string;
  /** This resource server's client credentials at the authorization server (HTTP Basic). */
  clientId: string;
  clientSecret: string;
  /** Seconds between polls once caught up; default 2. */
  intervalSeconds?: number;
  /**
   * Fail closed: once the list is older than this many seconds (the feed unreachable or
   * failing since), every token is refused with 503 until a poll succeeds again. Default:
   * none (keep serving with the list held, however old).
   */
  maxStalenessSeconds?: number;
  /**
   * Most revocations kept; default 100 000. Entries leave 300 s after their token's `exp` (the
   * most clock tolerance a verifier allows); past the bound the soonest to expire go first (and
   * it is logged once).
   */
  maxEntries?: number;
  /** Milliseconds before one request is abandoned; default 5 000. */
  timeoutMs?: number;
  /** Where the feed says it is unreachable, and when it is back (once each, never a token). */
  log?: (message: string) => void;
  fetch?: typeof fetch;
  /** Epoch milliseconds, for tests. */
  now?: () => number;
}

/**
 * The revoked access tokens an authorization server publishes, kept in memory and refreshed
 * in the background: pass it as `revocations` to `jwtVerifier` (or `cachedVerifier`).
 */
export interface RevocationFeed {
  /** Whether the token whose `jti` hashes (SHA-256, base64url) to this is revoked. */
  isRevoked(jtiSha256: string): boolean;
  /** Whether the list is older than `maxStalenessSeconds`: then every token is refused. */
  isStale(): boolean;
  /** Revocations held. */
  readonly size: number;
  /** Settles after the first poll (whatever its outcome). */
  readonly ready: Promise<void>;
  /** Polls now (and until caught up); settles when done. For tests and shutdown hooks. */
  refresh(): Promise<void>;
  /** Stops polling. */
  close(): void;
}

/**
 * Seconds an entry is kept past its `exp`: the feed's `exp` is the token record's expiry, which
 * may be a second off the JWT's, and a verifier accepts a token for its clock tolerance after
 * `exp` (at most 300 s in `jwtVerifier`).
 */
const KEEP_AFTER_EXP_SECONDS = 300;

/**
 * The largest answer read (a page of 1,000 entries is ~70 KB): a feed that sends more is
 * failing, and is not read into memory.
 */
const MAX_PAGE_BYTES = 1024 * 1024;

/** The body as text, or a throw once it passes `limit` bytes (read no further). */
async function boundedText(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit || response.body === null) {
    await response.body?.cancel();
    throw new FeedError('answered too much');
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new FeedError('answered too much');
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** At most this many pages read one after another before waiting for the next tick. */
const MAX_PAGES_PER_POLL = 100;

interface Page {
  revoked: { jti_sha256: string; exp: number }[];
  cursor: string;
  more: boolean;
}

/** A feed answer, checked; `undefined` when it is not one. */
function readPage(body: unknown): Page | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { revoked, cursor, more } = body as Record<string, unknown>;
  if (!Array.isArray(revoked) || typeof cursor !== 'string' || typeof more !== 'boolean')
    return undefined;
  for (const entry of revoked) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { jti_sha256: hash, exp } = entry as Record<string, unknown>;
    // A SHA-256 in unpadded base64url is 43 characters.
    if (typeof hash !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(hash)) return undefined;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  }
  return body as Page;
}

/** Why a poll failed: for the log, never with a credential (none is ever in these). */
class FeedError extends Error {}

/**
 * Polls an authorization server's revocation feed into a small denylist, so that JWT access
 * tokens revoked there (by `/revoke`, by refresh-token reuse revoking a family, by a user
 * withdrawing an app's consent) are refused here within seconds instead of working until
 * they expire. Each entry is the SHA-256 of a token's `jti` (no token ever crosses the wire)
 * and is dropped once the token has expired (300 s after its `exp`: clock tolerance). Authenticated like introspection (HTTP Basic with this
 * resource server's client credentials). When the feed cannot be reached the list held stays
 * in force and that is logged once; with `maxStalenessSeconds`, every token is refused (503)
 * once the list is older than that, until the feed answers again.
 *
 * @example
 * const revocations = revocationFeed({
 *   endpoint: 'http://localhost:3000/revocations',
 *   clientId: process.env.OAUTH_CLIENT_ID!, clientSecret: process.env.OAUTH_CLIENT_SECRET!,
 * });
 * const verifier = jwtVerifier({ issuer, audience, revocations });
 */
export function revocationFeed(options: RevocationFeedOptions): RevocationFeed {
  assertObject(options, 'options');
  const endpoint = assertResourceUrl(options.endpoint, 'endpoint');
  assertNonEmptyString(options.clientId, 'clientId');
  assertString(options.clientSecret, 'clientSecret');
  const intervalSeconds = options.intervalSeconds ?? 2;
  if (typeof intervalSeconds !== 'number' || !(intervalSeconds > 0) || intervalSeconds > 3600)
    throw invalidValue('intervalSeconds', 'must be a number of seconds above 0, at most 3600');
  const maxStaleness = options.maxStalenessSeconds;
  if (maxStaleness !== undefined && (typeof maxStaleness !== 'number' || !(maxStaleness > 0)))
    throw invalidValue('maxStalenessSeconds', 'must be a number of seconds above 0');
  const maxEntries = options.maxEntries ?? 100_000;
  assertPositiveInteger(maxEntries, 'maxEntries');
  const timeoutMs = options.timeoutMs ?? 5_000;
  assertPositiveInteger(timeoutMs, 'timeoutMs');
  const doFetch = options.fetch ?? fetch;
  if (typeof doFetch !== 'function') throw invalidType('fetch', 'a function', doFetch);
  const log =
    options.log ?? ((message: string) => console.warn(`[@portcullis/mcp-context] ${message}`));
  if (typeof log !== 'function') throw invalidType('log', 'a function', log);
  const now = options.now ?? Date.now;
  const authorization = basicCredentials(options.clientId, options.clientSecret);

  /** jti hash → the token's `exp` (epoch seconds). */
  const revoked = new Map<string, number>();
  let cursor: string | undefined;
  // Stale from `maxStalenessSeconds` after start until the first answer, and after each since.
  let staleAt = maxStaleness === undefined ? Infinity : now() + maxStaleness * 1000;
  let failing = false;
  let overflowLogged = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;

  const fetchPage = async (): Promise<Page> => {
    const url = new URL(endpoint);
    if (cursor !== undefined) url.searchParams.set('cursor', cursor);
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { Authorization: authorization, Accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (error) {
      throw new FeedError(
        `could not be reached (${error instanceof Error ? error.name : 'error'})`,
      );
    }
    if (response.status === 400 && cursor !== undefined) {
      // A cursor the server no longer knows (it restarted, say): read the whole feed again.
      await response.body?.cancel();
      cursor = undefined;
      return fetchPage();
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new FeedError(`answered HTTP ${response.status}`);
    }
    const text = await boundedText(response, MAX_PAGE_BYTES);
    let page: Page | undefined;
    try {
      page = readPage(JSON.parse(text));
    } catch {
      page = undefined;
    }
    if (!page) throw new FeedError('answered something that is not a revocation feed page');
    return page;
  };

  const add = (page: Page) => {
    const seconds = now() / 1000;
    for (const { jti_sha256: hash, exp } of page.revoked) {
      if (exp + KEEP_AFTER_EXP_SECONDS > seconds) revoked.set(hash, exp);
    }
  };

  /** Drops what expired, then the soonest to expire while over the bound. */
  const sweep = () => {
    const seconds = now() / 1000;
    for (const [hash, exp] of revoked)
      if (exp + KEEP_AFTER_EXP_SECONDS <= seconds) revoked.delete(hash);
    if (revoked.size <= maxEntries) return;
    if (!overflowLogged) {
      overflowLogged = true;
      log(
        `revocation feed ${endpoint.origin}: more than ${maxEntries} revoked tokens; the soonest to expire are dropped first (raise maxEntries)`,
      );
    }
    const byExpiry = [...revoked].sort((a, b) => a[1] - b[1]);
    for (const [hash] of byExpiry.slice(0, revoked.size - maxEntries)) revoked.delete(hash);
  };

  const poll = async () => {
    try {
      for (let pages = 0; pages < MAX_PAGES_PER_POLL; pages++) {
        const page = await fetchPage();
        add(page);
        cursor = page.cursor;
        if (!page.more) break;
      }
      sweep();
      if (maxStaleness !== undefined) staleAt = now() + maxStaleness * 1000;
      if (failing) {
        failing = false;
        log(`revocation feed ${endpoint.origin} is answering again`);
      }
    } catch (error) {
      sweep();
      if (!failing) {
        failing = true;
        const reason = error instanceof FeedError ? error.message : 'failed';
        log(
          `revocation feed ${endpoint.origin}${endpoint.pathname} ${reason}: serving with the ${revoked.size} revocations held${maxStaleness === undefined ? '' : `, refusing every token once they are ${maxStaleness} s old`}`,
        );
      }
    }
  };

  const schedule = () => {
    if (closed) return;
    timer = setTimeout(tick, intervalSeconds * 1000);
    // Polling never keeps a process alive on its own.
    (timer as { unref?: () => void }).unref?.();
  };
  const refresh = (): Promise<void> => {
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  };
  function tick() {
    void refresh().then(schedule);
  }

  const ready = refresh().then(schedule);
  return {
    isRevoked: (hash) => revoked.size !== 0 && revoked.has(hash),
    isStale: () => staleAt !== Infinity && now() >= staleAt,
    get size() {
      return revoked.size;
    },
    ready,
    refresh,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** Throws a TypeError unless `value` looks like a `RevocationFeed`. */
export function assertRevocations(value: unknown): asserts value is RevocationFeed {
  const feed = value as Partial<RevocationFeed> | null;
  if (
    typeof feed !== 'object' ||
    feed === null ||
    typeof feed.isRevoked !== 'function' ||
    typeof feed.isStale !== 'function'
  )
    throw invalidType('revocations', 'a RevocationFeed (revocationFeed())', value);
}
