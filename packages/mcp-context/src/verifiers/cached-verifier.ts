import { isB64Token } from '../lib/authorization-header.js';
import { assertObject, assertPositiveInteger, invalidType } from '../lib/errors.js';
import { Lru } from '../lib/lru.js';
import { sha256Base64url } from '../lib/sha256.js';
import { type MaybeSyncVerifier, verifiedNow } from '../lib/verified-now.js';
import type { AuthInfo, TokenVerifier } from '../types.js';
import { assertRevocations, type RevocationFeed } from './revocation-feed.js';

export interface CacheOptions {
  /**
   * Most tokens remembered; one not used since it came in (or since its last second chance)
   * goes first, an approximate LRU ("clock"). Default 10 000.
   */
  maxEntries?: number;
  /** Longest a verification is reused, in seconds, never past the token's `exp`. Default 300. */
  ttlSeconds?: number;
  /**
   * Revoked tokens to refuse even when cached (`revocationFeed`): each entry keeps the SHA-256
   * of its token's `jti` (from `extra.claims.jti`), worked out once when it is stored, and a
   * hit on a revoked or (past `maxStalenessSeconds`) unconfirmed token goes back to the
   * verifier, which refuses it. `jwtVerifier({ revocations })` sets it for its cache.
   */
  revocations?: RevocationFeed;
  /** Epoch milliseconds, for tests. */
  now?: () => number;
}

interface Entry {
  /** The verified AuthInfo without its token: the cache never holds a usable credential. */
  info: Omit<AuthInfo, 'token'> & { token: undefined };
  validUntil: number;
  /** SHA-256 (base64url) of the token's `jti`, for the revocation check of every hit. */
  jti: string | undefined;
}

/** The `jti` claim a verifier put under `extra.claims`, if any. */
function jtiOf(info: AuthInfo): string | undefined {
  const claims = (info.extra as { claims?: { jti?: unknown } } | undefined)?.claims;
  return typeof claims?.jti === 'string' ? claims.jti : undefined;
}

/**
 * Remembers successful verifications so a busy MCP server checks a JWT signature (or asks an
 * introspection endpoint) once per token, not once per request. Bounded (approximately LRU),
 * keyed by the SHA-256 of the token, so neither keys nor values are usable tokens; an entry is valid until
 * the token's `exp` or `ttlSeconds`, whichever comes first. Failures are not cached, nor are
 * tokens outside RFC 6750's b64token syntax (verified every time). Concurrent
 * verifications of one token share one call.
 * ([RFC 7662 §4](https://www.rfc-editor.org/rfc/rfc7662#section-4) on caching trade-offs.)
 *
 * @example
 * const verifier = cachedVerifier(introspectionVerifier({ endpoint, clientId, clientSecret }), { ttlSeconds: 30 });
 */
export function cachedVerifier(verifier: TokenVerifier, options: CacheOptions = {}): TokenVerifier {
  if (typeof verifier !== 'function')
    throw invalidType('verifier', 'a TokenVerifier function', verifier);
  assertObject(options, 'options');
  const maxEntries = options.maxEntries ?? 10_000;
  const ttlSeconds = options.ttlSeconds ?? 300;
  assertPositiveInteger(maxEntries, 'maxEntries');
  assertPositiveInteger(ttlSeconds, 'ttlSeconds');
  const clock = options.now;
  const now = clock ?? Date.now;
  const { revocations } = options;
  if (revocations !== undefined) assertRevocations(revocations);
  const entries = new Lru<Entry>(maxEntries);
  const inFlight = new Map<string, Promise<AuthInfo>>();

  /** A fresh copy of a live entry (its own scopes, the token as presented), or `undefined`. */
  const lookup = (key: string, token: string): AuthInfo | undefined => {
    const hit = entries.get(key);
    if (hit === undefined) return undefined;
    // The clock read in place (no closure call): this runs on every authenticated request.
    const time = clock === undefined ? Date.now() : clock();
    // A revoked token, or any while the revocation list is too old to trust, is left to the
    // verifier to refuse (one place for the answer): here it is only no longer a hit.
    if (
      time < hit.validUntil &&
      (revocations === undefined ||
        ((hit.jti === undefined || !revocations.isRevoked(hit.jti)) && !revocations.isStale()))
    )
      return { ...hit.info, scopes: [...hit.info.scopes], token };
    entries.delete(key);
    return undefined;
  };

  const cached: MaybeSyncVerifier = async (token) => {
    const digest = sha256Base64url(token);
    const key = typeof digest === 'string' ? digest : await digest;
    const hit = lookup(key, token);
    if (hit) return hit;
    const pending = inFlight.get(key);
    if (pending) return { ...(await pending), token };
    const verification = verifier(token);
    inFlight.set(key, verification);
    try {
      const info = await verification;
      const limit = now() + ttlSeconds * 1000;
      const validUntil =
        typeof info.expiresAt === 'number' ? Math.min(info.expiresAt * 1000, limit) : limit;
      // The token blanked by a spread, not left out by `{ token, ...rest }`: V8 copies a
      // spread's result on every hit about 15x faster than an object-rest result (~0.05 µs
      // against ~0.85 µs a request, measured with apps/mcp-server/bench/auth-ab.mjs). The
      // scopes are copied too: the caller gets `info` itself, and a tool that adds to its
      // scopes must not add to every later request's. `resourceMetadataUrl` gets its place
      // even when unset, because the guard sets it on every copy: V8 (Node 20) adds a
      // property to a spread's copy by making a new hidden class each time (~1 µs, and every
      // later read of the copy misses its inline cache), but writes one it has in place.
      // Only RFC 6750 b64tokens are kept (the guard checks the syntax of a token it does not
      // find here): a verifier called directly with anything else still verifies every time.
      if (validUntil > now() && isB64Token(token)) {
        const jti = revocations === undefined ? undefined : jtiOf(info);
        const digest = jti === undefined ? undefined : sha256Base64url(jti);
        entries.set(key, {
          info: {
            ...info,
            scopes: [...info.scopes],
            token: undefined,
            resourceMetadataUrl: info.resourceMetadataUrl,
          },
          validUntil,
          jti: typeof digest === 'string' || digest === undefined ? digest : await digest,
        });
      }
      return info;
    } finally {
      inFlight.delete(key);
    }
  };
  // The same lookup without a promise, where the runtime hashes synchronously (Node): the guard
  // uses it first and falls back to the call above on a miss.
  cached[verifiedNow] = (token) => {
    const digest = sha256Base64url(token);
    return typeof digest === 'string' ? lookup(digest, token) : undefined;
  };
  return cached;
}
