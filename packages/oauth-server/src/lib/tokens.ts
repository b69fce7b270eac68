import { boundJkt } from '@portcullis/token-store';
import type { OpenIdClaims } from '../options.js';
import type { Context } from './context.js';
import { type ActiveKey, SIGNING_ALG } from './keys.js';
import { signEs256Jwt, signEs256JwtNow } from './sign-jwt.js';
import type { AccessTokenRecord } from './store.js';

/**
 * The claims of an access token this server issues (RFC 9068 §2.2), with the user claims
 * `openid.accessTokenClaims` lists when the scopes release them.
 */
export interface AccessTokenClaims extends Partial<OpenIdClaims> {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  exp: number;
  iat: number;
  jti: string;
  /** RFC 9449 §6.1: the SHA-256 thumbprint of the DPoP key the token is bound to. */
  cnf?: { jkt: string };
}

/**
 * How the store records an access token of this server: its `extra` says the format and, for
 * a token bound to a DPoP key (RFC 9449 §6), `cnf: { jkt }` — what introspection answers and
 * what a resource server reading the store (mcp-context's tokenStoreVerifier) sees.
 */
export function accessTokenOptions(
  ctx: Context,
  jkt?: string,
): {
  ttlSeconds: number;
  extra: { format: Context['accessTokenFormat']; cnf?: { jkt: string } };
} {
  const format = ctx.accessTokenFormat;
  return {
    ttlSeconds: ctx.ttl.accessToken,
    extra: jkt === undefined ? { format } : { format, cnf: { jkt } },
  };
}

/**
 * The access token to hand out for a stored access-token record (`handle` is its clear
 * secret). In JWT mode the token is an RFC 9068 JWT (`typ: at+jwt`, ES256, `kid`) whose `jti`
 * is the handle, so revoking the family (code replay, refresh reuse, consent revoked) makes
 * introspection and revocation see it as inactive. In opaque mode the handle is the token. The
 * store refused a revoked family and cut the lifetime at the grant's end before this runs.
 * `userClaims` (from accessTokenUserClaims) go into a JWT only, never an opaque token.
 */
export function accessTokenFor(
  ctx: Context,
  handle: string,
  record: AccessTokenRecord,
  userClaims?: Partial<OpenIdClaims>,
): { token: string; expiresIn: number } | Promise<{ token: string; expiresIn: number }> {
  // Shorter than the TTL when the grant ends sooner.
  const expiresIn =
    record.expiresAt === null
      ? ctx.ttl.accessToken
      : Math.max(0, Math.floor((record.expiresAt - record.createdAt) / 1000));
  if (ctx.accessTokenFormat === 'opaque') return { token: handle, expiresIn };
  // Without a promise where it can: the key known and node:crypto to sign.
  const active = ctx.keys.current();
  const token =
    active &&
    signEs256JwtNow(...accessTokenJws(ctx, record, handle, expiresIn, active, userClaims));
  if (token) return { token, expiresIn };
  return (async () => {
    const key = await ctx.keys.signingKey();
    return {
      token: await signEs256Jwt(...accessTokenJws(ctx, record, handle, expiresIn, key, userClaims)),
      expiresIn,
    };
  })();
}

/** The protected header, claims and key of an access token's JWS. */
function accessTokenJws(
  ctx: Context,
  record: AccessTokenRecord,
  handle: string,
  expiresIn: number,
  { kid, key }: ActiveKey,
  userClaims: Partial<OpenIdClaims> | undefined,
): [{ alg: typeof SIGNING_ALG; typ: 'at+jwt'; kid: string }, Record<string, unknown>, CryptoKey] {
  const iat = Math.floor(ctx.now() / 1000);
  // The user's claims first: the server's own can never be overwritten (none is a user claim).
  const claims: AccessTokenClaims = {
    ...userClaims,
    iss: ctx.issuer,
    sub: record.userId,
    aud: record.resource ?? ctx.resources[0]!.uri,
    client_id: record.clientId,
    scope: record.scopes.join(' '),
    exp: iat + expiresIn,
    iat,
    jti: handle,
  };
  const jkt = boundJkt(record);
  if (jkt !== undefined) claims.cnf = { jkt };
  return [
    { alg: SIGNING_ALG, typ: 'at+jwt', kid },
    claims as unknown as Record<string, unknown>,
    key,
  ];
}
