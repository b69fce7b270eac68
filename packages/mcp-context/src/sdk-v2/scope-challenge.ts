import type { ScopeChallengeHandler } from '@modelcontextprotocol/server';
import { assertStringArray, invalidValue } from '../lib/errors.js';
import { missingScopes } from '../lib/scopes.js';

/**
 * A `scopeChallenge` for SDK 2.x's `registerTool` (and `registerResource`,
 * `registerPrompt`): when the caller's token lacks one of `scopes`, the SDK's transport
 * answers `403` with `error="insufficient_scope"` and a `scope` listing the token's current
 * scopes plus these — the same challenge `authenticate`/`bearerAuth` send for `toolScopes`, so
 * a client that asks for exactly the challenged scopes keeps what it could already do
 * ([RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)). Requests without
 * auth are left to the authentication in front.
 *
 * @example
 * server.registerTool('secure_operation', { scopeChallenge: scopeChallenge('admin') }, handler);
 */
export function scopeChallenge(...scopes: string[]): ScopeChallengeHandler {
  assertStringArray(scopes, 'scopes');
  if (scopes.length === 0) throw invalidValue('scopes', 'must name at least one scope');
  const description = `This request requires the scopes: ${scopes.join(' ')}`;
  return ({ authInfo }) => {
    if (!authInfo || missingScopes(authInfo.scopes, scopes).length === 0) return undefined;
    const all = [...new Set([...authInfo.scopes, ...scopes])] as [string, ...string[]];
    return { scopes: all, errorDescription: description };
  };
}
