import type { StoreUnavailableError } from '@portcullis/token-store';
import { InvalidTokenError, VerifierUnavailableError } from '../errors.js';
import { assertObject, assertResourceUrl, invalidType } from '../lib/errors.js';
import type { AuthInfo, TokenVerifier } from '../types.js';

/**
 * token-store's `StoreUnavailableError.code`, typed by that class so a change there fails to
 * compile here; a type-only import keeps token-store out of this package's runtime dependencies.
 */
const STORE_UNAVAILABLE: StoreUnavailableError['code'] = 'store_unavailable';

/** The part of an `@portcullis/token-store` access-token record this verifier reads. */
export interface StoredAccessToken {
  clientId: string;
  userId: string;
  scopes: string[];
  resource?: string | undefined;
  /** Epoch milliseconds, or `null` for no expiry. */
  expiresAt: number | null;
  familyId?: string;
  extra?: Record<string, unknown> | undefined;
}

/** What `tokenStoreVerifier` needs of a `TokenStore` from `@portcullis/token-store`. */
export interface AccessTokenLookup {
  accessTokens: { find(token: string): Promise<StoredAccessToken | undefined> };
}

export interface TokenStoreVerifierOptions {
  /** When set, a stored token must have been issued for exactly this resource (RFC 8707). */
  resource?: string;
}

/**
 * Verifies opaque access tokens issued into an `@portcullis/token-store` store (the store
 * looks them up by SHA-256, so it never holds them in clear): unknown, revoked or expired →
 * `InvalidTokenError`; a store failure (token-store's `StoreUnavailableError`) →
 * `VerifierUnavailableError` (503). Use it when the MCP server and the authorization server
 * share a store; otherwise use `introspectionVerifier`
 * ([RFC 6750 §1.3](https://www.rfc-editor.org/rfc/rfc6750#section-1.3)).
 *
 * @example
 * const verifier = tokenStoreVerifier(store, { resource: 'http://localhost:8000/mcp' });
 */
export function tokenStoreVerifier(
  store: AccessTokenLookup,
  options: TokenStoreVerifierOptions = {},
): TokenVerifier {
  assertObject(store, 'store');
  if (typeof store.accessTokens?.find !== 'function') {
    throw invalidType('store', 'a TokenStore (with accessTokens.find)', store);
  }
  assertObject(options, 'options');
  if (options.resource !== undefined) assertResourceUrl(options.resource, 'resource');
  const { resource } = options;

  return async (token) => {
    if (typeof token !== 'string') throw invalidType('token', 'a string', token);
    let record: StoredAccessToken | undefined;
    try {
      record = await store.accessTokens.find(token);
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === STORE_UNAVAILABLE) {
        throw new VerifierUnavailableError('The token store is unavailable', { cause: error });
      }
      throw error;
    }
    if (!record) throw new InvalidTokenError('The access token is not recognised');
    if (record.expiresAt !== null && record.expiresAt <= Date.now()) {
      throw new InvalidTokenError('The access token has expired');
    }
    if (resource !== undefined && record.resource !== resource) {
      throw new InvalidTokenError('The access token was not issued for this resource');
    }
    const info: AuthInfo = {
      token,
      clientId: record.clientId,
      scopes: [...record.scopes],
      userId: record.userId,
      extra: { claims: { ...(record.extra ?? {}), family_id: record.familyId } },
    };
    if (record.expiresAt !== null) info.expiresAt = Math.floor(record.expiresAt / 1000);
    if (record.resource !== undefined) info.resource = new URL(record.resource);
    return info;
  };
}
