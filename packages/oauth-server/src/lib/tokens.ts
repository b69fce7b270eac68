import type { Context } from './context.js';
import { SIGNING_ALG } from './keys.js';
import { signEs256Jwt } from './sign-jwt.js';

/** The claims of an access token this server issues (RFC 9068 §2.2). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  exp: number;
  iat: number;
  jti: string;
}

export interface Grant {
  familyId: string;
  /** The grant's absolute end (epoch ms): no token outlives it. */
  grantExpiresAt?: number | undefined;
  clientId: string;
  userId: string;
  scopes: string[];
  resource: string;
}

/**
 * Issues an access token for a grant. In JWT mode the token is an RFC 9068 JWT
 * (`typ: at+jwt`, ES256, `kid`) whose `jti` is the handle of a store record in the grant's
 * family, so revoking the family (code replay, refresh reuse, consent revoked) makes
 * introspection and revocation see it as inactive. In opaque mode the handle is the token.
 * The store refuses a revoked family (`FamilyRevokedError`) and cuts the lifetime at the
 * grant's end.
 */
export async function issueAccessToken(
  ctx: Context,
  grant: Grant,
): Promise<{ token: string; expiresIn: number }> {
  const { token: handle, record } = await ctx.store.accessTokens.issue(
    {
      familyId: grant.familyId,
      grantExpiresAt: grant.grantExpiresAt,
      clientId: grant.clientId,
      userId: grant.userId,
      scopes: grant.scopes,
      resource: grant.resource,
      extra: { format: ctx.accessTokenFormat },
    },
    { ttlSeconds: ctx.ttl.accessToken },
  );
  // Shorter than the TTL when the grant ends sooner.
  const expiresIn =
    record.expiresAt === null
      ? ctx.ttl.accessToken
      : Math.max(0, Math.floor((record.expiresAt - record.createdAt) / 1000));
  if (ctx.accessTokenFormat === 'opaque') return { token: handle, expiresIn };
  const { kid, key } = await ctx.keys.signingKey();
  const iat = Math.floor(ctx.now() / 1000);
  const claims: AccessTokenClaims = {
    iss: ctx.issuer,
    sub: grant.userId,
    aud: grant.resource,
    client_id: grant.clientId,
    scope: grant.scopes.join(' '),
    exp: iat + expiresIn,
    iat,
    jti: handle,
  };
  const token = await signEs256Jwt({ alg: SIGNING_ALG, typ: 'at+jwt', kid }, { ...claims }, key);
  return { token, expiresIn };
}

export async function issueRefreshToken(ctx: Context, grant: Grant): Promise<string> {
  const { token } = await ctx.store.refreshTokens.issue(
    {
      familyId: grant.familyId,
      grantExpiresAt: grant.grantExpiresAt,
      clientId: grant.clientId,
      userId: grant.userId,
      scopes: grant.scopes,
      resource: grant.resource,
    },
    { ttlSeconds: ctx.ttl.refreshToken },
  );
  return token;
}
