import type {
  AccessTokenRecord,
  AuthorizationCodeRecord,
  RefreshTokenRecord,
  RotateRequest,
} from '../types.js';

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
  const resource = previous.resource ?? request.resource;
  const refresh = grantRecord<RefreshTokenRecord>(
    previous,
    grantExpiresAt,
    resource,
    // A refresh token's grant data rides on to its successor; a code's stays with the code.
    // (a code exchange may give the new refresh token its own: `refreshExtra`).
    (request.kind ?? 'refresh_token') === 'refresh_token' ? previous.extra : request.refreshExtra,
    now,
    Math.min(now + request.refresh.ttlMs, grantExpiresAt),
  );
  if (request.access === undefined) return { refresh };
  const access = grantRecord<AccessTokenRecord>(
    previous,
    grantExpiresAt,
    resource,
    request.access.extra,
    now,
    Math.min(now + request.access.ttlMs, grantExpiresAt),
  );
  return { refresh, access };
}

/**
 * A record of the grant, its fields in a fixed order and those that are undefined left out (as
 * `compact` would). Built field by field, not as `compact({ ...grant, extra, … })`: on this V8 an
 * object spread followed by more properties costs over a microsecond (a new hidden class each
 * time), about a hundred times this.
 */
function grantRecord<T extends RefreshTokenRecord | AccessTokenRecord>(
  previous: RefreshTokenRecord | AuthorizationCodeRecord,
  grantExpiresAt: number,
  resource: string | undefined,
  extra: Record<string, unknown> | undefined,
  createdAt: number,
  expiresAt: number,
): T {
  const record: Record<string, unknown> = {};
  if (previous.familyId !== undefined) record.familyId = previous.familyId;
  record.grantExpiresAt = grantExpiresAt;
  if (previous.clientId !== undefined) record.clientId = previous.clientId;
  if (previous.userId !== undefined) record.userId = previous.userId;
  if (previous.scopes !== undefined) record.scopes = previous.scopes;
  if (resource !== undefined) record.resource = resource;
  if (extra !== undefined) record.extra = extra;
  record.createdAt = createdAt;
  record.expiresAt = expiresAt;
  return record as T;
}
