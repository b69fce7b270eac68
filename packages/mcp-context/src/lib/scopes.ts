import type { ToolScopes } from '../types.js';

/** The union of the scopes every part of a request needs, in first-seen order. */
export function neededScopes(
  required: readonly string[],
  toolScopes: ToolScopes | undefined,
  toolNames: readonly string[],
): string[] {
  const needed = new Set(required);
  if (toolScopes) {
    for (const name of toolNames) {
      if (!Object.hasOwn(toolScopes, name)) continue;
      for (const scope of toolScopes[name] ?? []) needed.add(scope);
    }
  }
  return [...needed];
}

/** Whether `granted` holds every scope of `needed` (no allocation: both lists are short). */
export function coversScopes(granted: readonly string[], needed: readonly string[]): boolean {
  for (const scope of needed) if (!granted.includes(scope)) return false;
  return true;
}

export function missingScopes(granted: readonly string[], needed: readonly string[]): string[] {
  const have = new Set(granted);
  return needed.filter((scope) => !have.has(scope));
}

/** Space-separated `scope` (RFC 6749 §3.3) or an `scp` array (Okta, Entra) into a list. */
export function scopesFromClaims(claims: Record<string, unknown>): string[] {
  const { scope, scp } = claims;
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '');
  if (Array.isArray(scp)) return scp.filter((s): s is string => typeof s === 'string' && s !== '');
  if (typeof scp === 'string') return scp.split(' ').filter((s) => s !== '');
  return [];
}
