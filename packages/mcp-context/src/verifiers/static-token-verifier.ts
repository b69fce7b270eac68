import { InvalidTokenError } from '../errors.js';
import { constantTimeEqual } from '../lib/constant-time.js';
import {
  assertNonEmptyString,
  assertObject,
  assertStringArray,
  invalidType,
} from '../lib/errors.js';
import { sha256 } from '../lib/sha256.js';
import type { AuthInfo, TokenVerifier } from '../types.js';

export interface StaticTokenEntry {
  userId: string;
  /** Defaults to `userId`: the guide's `ctx.client_id` is the user of a static token. */
  clientId?: string;
  scopes: string[];
  /** Seconds since the epoch; static tokens do not expire unless you say so. */
  expiresAt?: number;
}

/**
 * The guide's `VALID_TOKENS` table, done right: each presented token is hashed (SHA-256) and
 * compared in constant time against the hash of every configured token, so response times do
 * not reveal how much of a token was right, and the table's clear tokens are not kept.
 * For development and internal tools; use `jwtVerifier` for anything with users
 * ([RFC 6750 §5.2](https://www.rfc-editor.org/rfc/rfc6750#section-5.2)).
 *
 * @example
 * const verifier = staticTokenVerifier({
 *   [process.env.ALICE_TOKEN!]: { userId: '123', scopes: ['read', 'write'] },
 *   [process.env.BOB_TOKEN!]: { userId: '456', scopes: ['read'] },
 * });
 */
export function staticTokenVerifier(tokens: Record<string, StaticTokenEntry>): TokenVerifier {
  assertObject(tokens, 'tokens');
  const entries = Object.entries(tokens).map(([token, entry]) => {
    assertNonEmptyString(token, 'token');
    assertObject(entry, `tokens[…]`);
    assertNonEmptyString(entry.userId, 'userId');
    if (entry.clientId !== undefined) assertNonEmptyString(entry.clientId, 'clientId');
    assertStringArray(entry.scopes, 'scopes');
    if (entry.expiresAt !== undefined && typeof entry.expiresAt !== 'number') {
      throw invalidType('expiresAt', 'a number of seconds', entry.expiresAt);
    }
    return { hash: sha256(token), entry: { ...entry, scopes: [...entry.scopes] } };
  });

  return async (token) => {
    if (typeof token !== 'string') throw invalidType('token', 'a string', token);
    const presented = await sha256(token);
    let found: StaticTokenEntry | undefined;
    // Every entry is compared, match or not, so the position of a match is not observable.
    for (const { hash, entry } of entries) {
      if (constantTimeEqual(presented, await hash) && found === undefined) found = entry;
    }
    if (!found) throw new InvalidTokenError('The access token is not recognised');
    const info: AuthInfo = {
      token,
      clientId: found.clientId ?? found.userId,
      scopes: [...found.scopes],
      userId: found.userId,
    };
    if (found.expiresAt !== undefined) info.expiresAt = found.expiresAt;
    return info;
  };
}
