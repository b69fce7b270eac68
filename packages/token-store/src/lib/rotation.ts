import type {
  AccessTokenRecord,
  AuthorizationCodeRecord,
  RefreshTokenRecord,
  RotateRequest,
} from '../types.js';
import { compact } from './context.js';

/**
 * The records a rotation stores, derived from the consumed refresh token (or, for a code
 * exchange, the consumed code): a refresh token and (with `request.access`) an access token of
 * the same grant. The one definition: the memory
 * adapter and the facade use it, and the SQL and Lua rotations compute the same (the conformance
 * tests compare what they store with it).
 */
export function rotatedRecords(
  previous: RefreshTokenRecord | AuthorizationCodeRecord,
  request: RotateRequest,
): { refresh: RefreshTokenRecord; access?: AccessTokenRecord } {
  const { now } = request;
  const grantExpiresAt = previous.grantExpiresAt ?? now + request.grantTtlMs;
  const grant = {
    familyId: previous.familyId,
    grantExpiresAt,
    clientId: previous.clientId,
    userId: previous.userId,
    scopes: previous.scopes,
    resource: previous.resource ?? request.resource,
  };
  const refresh = compact<RefreshTokenRecord>({
    ...grant,
    // A refresh token's grant data rides on to its successor; a code's stays with the code.
    extra: (request.kind ?? 'refresh_token') === 'refresh_token' ? previous.extra : undefined,
    createdAt: now,
    expiresAt: Math.min(now + request.refresh.ttlMs, grantExpiresAt),
  });
  if (request.access === undefined) return { refresh };
  const access = compact<AccessTokenRecord>({
    ...grant,
    extra: request.access.extra,
    createdAt: now,
    expiresAt: Math.min(now + request.access.ttlMs, grantExpiresAt),
  });
  return { refresh, access };
}
