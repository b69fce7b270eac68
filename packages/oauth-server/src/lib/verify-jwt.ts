import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Context } from './context.js';
import { SIGNING_ALG } from './keys.js';
import type { AccessTokenClaims } from './tokens.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

/** Verifies an access token JWT this server issued; `undefined` for anything else. */
export async function verifyAccessJwt(
  ctx: Context,
  token: string,
): Promise<AccessTokenClaims | undefined> {
  if (!looksLikeJwt(token)) return undefined;
  try {
    const jwks = createLocalJWKSet({ keys: await ctx.keys.publicKeys() });
    const { payload } = await jwtVerify(token, jwks, {
      issuer: ctx.issuer,
      algorithms: [SIGNING_ALG],
      typ: 'at+jwt',
      currentDate: new Date(ctx.now()),
    });
    if (typeof payload.jti !== 'string' || typeof payload.client_id !== 'string') return undefined;
    return payload as unknown as AccessTokenClaims;
  } catch {
    return undefined;
  }
}
