import { InvalidScopeError } from '../errors.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** RFC 6749 §3.3: space-delimited scope-tokens, order-free, duplicates collapsed. */
export function parseScope(value: string): string[] {
  const scopes = [...new Set(value.split(' ').filter((s) => s !== ''))];
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope))
      throw new InvalidScopeError('scope contains a character RFC 6749 §3.3 does not allow');
  }
  return scopes;
}

/**
 * OpenID Connect scopes a client sends because this server publishes an OpenID configuration:
 * unless the server defines them, they are accepted and dropped, the same way at registration
 * and at /authorize (`offline_access` means nothing extra: refresh tokens are always issued).
 */
export const TOLERATED_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'offline_access'];
