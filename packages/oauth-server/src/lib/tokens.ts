import type { Context } from './context.js';
import { SIGNING_ALG } from './keys.js';
import { signEs256Jwt } from './sign-jwt.js';
import type { AccessTokenRecord } from './store.js';

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

/** How the store records an access token of this server: its `extra` says the format. */
export function accessTokenOptions(ctx: Context): {
  ttlSeconds: number;
  extra: { format: Context['accessTokenFormat'] };
} {
  return { ttlSeconds: ctx.ttl.accessToken, extra: { format: ctx.accessTokenFormat } };
}

/**
 * The access token to hand out for a stored access-token record (`handle` is its clear
 * secret). In JWT mode the token is an RFC 9068 JWT (`typ: at+jwt`, ES256, `kid`) whose `jti`
 * is the handle, so revoking the family (code replay, refresh reuse, consent revoked) makes
 * introspection and revocation see it as inactive. In opaque mode the handle is the token. The
 * store refused a revoked family and cut the lifetime at the grant's end before this runs.
 */
export async function accessTokenFor(
  ctx: Context,
  handle: string,
  record: AccessTokenRecord,
): Promise<{ token: string; expiresIn: number }> {
  // Shorter than the TTL when the grant ends sooner.
  const expiresIn =
    record.expiresAt === null
      ? ctx.ttl.accessToken
      : Math.max(0, Math.floor((record.expiresAt - record.createdAt) / 1000));
  if (ctx.accessTokenFormat === 'opaque') return { token: handle, expiresIn };
  const { kid, key } = ctx.keys.current() ?? (await ctx.keys.signingKey());
  const iat = Math.floor(ctx.now() / 1000);
  const claims: AccessTokenClaims = {
    iss: ctx.issuer,
    sub: record.userId,
    aud: record.resource ?? ctx.resources[0]!.uri,
    client_id: record.clientId,
    scope: record.scopes.join(' '),
    exp: iat + expiresIn,
    iat,
    jti: handle,
  };
  const token = await signEs256Jwt(
    { alg: SIGNING_ALG, typ: 'at+jwt', kid },
    claims as unknown as Record<string, unknown>,
    key,
  );
  return { token, expiresIn };
}
