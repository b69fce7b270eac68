import { generateSecret } from '../generate-secret.js';
import type { AccessTokenRecord, RefreshTokenRecord } from '../types.js';
import { type AccessTokenInput, assertAccessTokenInput, newAccessToken } from './access-tokens.js';
import { compact, expiryWithin, type StoreContext, setManyInFamily } from './context.js';
import { assertObject, assertOptionalSeconds } from './errors.js';
import { sha256 } from './sha256.js';

export interface IssueTokensOptions {
  /** The access token: its lifetime (default the store's) and `extra` stored on its record only. */
  accessToken?: { ttlSeconds?: number; extra?: Record<string, unknown> };
  /** Also issue a refresh token, with this lifetime (default the store's); omit for none. */
  refreshToken?: { ttlSeconds?: number };
  /** When the tokens start a grant (no `grantExpiresAt` given): the grant's lifetime. */
  grantTtlSeconds?: number;
}

export interface GrantTokens {
  accessToken: { token: string; record: AccessTokenRecord };
  refreshToken?: { token: string; record: RefreshTokenRecord };
}

/**
 * Issues a grant's access token and (optionally) refresh token in one atomic write, one round
 * trip where the adapter has `setMany`: what a code exchange stores (RFC 6749 §4.1.4). A revoked
 * family refuses both (`FamilyRevokedError`).
 */
export async function issueTokens(
  ctx: StoreContext,
  data: AccessTokenInput,
  options: IssueTokensOptions = {},
): Promise<GrantTokens> {
  assertAccessTokenInput(data, options);
  if (options.accessToken !== undefined) {
    assertObject(options.accessToken, 'accessToken');
    assertOptionalSeconds(options.accessToken.ttlSeconds, 'accessToken.ttlSeconds');
  }
  if (options.refreshToken !== undefined) {
    assertObject(options.refreshToken, 'refreshToken');
    assertOptionalSeconds(options.refreshToken.ttlSeconds, 'refreshToken.ttlSeconds');
  }
  const now = ctx.now();
  const grant = {
    ...data,
    familyId: data.familyId ?? generateSecret(),
    grantExpiresAt: data.grantExpiresAt ?? now + (options.grantTtlSeconds ?? ctx.ttl.grant) * 1000,
  };
  const accessToken = newAccessToken(
    ctx,
    { ...grant, extra: options.accessToken?.extra ?? grant.extra },
    now,
    options.accessToken?.ttlSeconds,
  );
  const entries: Parameters<typeof setManyInFamily>[1] = [
    { kind: 'access_token', id: await sha256(accessToken.token), record: accessToken.record },
  ];
  let refreshToken: GrantTokens['refreshToken'];
  if (options.refreshToken !== undefined) {
    const record: RefreshTokenRecord = compact({
      familyId: grant.familyId,
      grantExpiresAt: grant.grantExpiresAt,
      clientId: grant.clientId,
      userId: grant.userId,
      scopes: grant.scopes,
      resource: grant.resource,
      extra: grant.extra,
      createdAt: now,
      expiresAt: expiryWithin(
        now,
        options.refreshToken.ttlSeconds ?? ctx.ttl.refreshToken,
        grant.grantExpiresAt,
      ),
    });
    refreshToken = { token: generateSecret(), record };
    entries.push({ kind: 'refresh_token', id: await sha256(refreshToken.token), record });
  }
  await setManyInFamily(ctx, entries);
  return refreshToken === undefined ? { accessToken } : { accessToken, refreshToken };
}
