import type { Context } from './context.js';
import type { AccessTokenRecord } from './store.js';
import type { AccessTokenClaims } from './tokens.js';
import { verifyAccessJwt } from './verify-jwt.js';

/**
 * The stored record of an access token this server issued, presented as it was handed out: a
 * JWT is verified (signature, issuer, `typ`) and its `jti` looked up, so a revoked grant is
 * refused; an opaque token is looked up as it is. In JWT mode a bare handle is not a token.
 * Expiry is the caller's to check (introspection says inactive, userinfo refuses).
 */
export async function findAccessToken(
  ctx: Context,
  token: string,
): Promise<{ record: AccessTokenRecord; claims: AccessTokenClaims | undefined } | undefined> {
  const claims = await verifyAccessJwt(ctx, token);
  const record = await ctx.store.accessTokens.find(claims ? claims.jti : token);
  if (!record || (!claims && record.extra?.format === 'jwt')) return undefined;
  return { record, claims };
}
