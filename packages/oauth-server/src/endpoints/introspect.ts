import { boundJkt } from '@portcullis/token-store';
import { findAccessToken } from '../lib/access-token-record.js';
import { authenticateResourceServer } from '../lib/clients.js';
import type { Context } from '../lib/context.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { jsonReply, NO_STORE, readForm } from '../lib/http.js';
import { accessTokenUserClaims, releasesListed } from '../lib/openid.js';
import { introspectSchema, parseWith } from '../lib/schemas.js';
import type { AccessTokenRecord, RefreshTokenRecord } from '../lib/store.js';
import type { OpenIdClaims } from '../options.js';

/**
 * An RFC 7662 §2.2 introspection response; for an access token, with the user claims
 * `openid.accessTokenClaims` lists that its scopes release (read when introspected).
 */
export interface IntrospectionResponse extends Partial<OpenIdClaims> {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  aud?: string;
  iss?: string;
  exp?: number;
  iat?: number;
  jti?: string;
  token_type?: 'access_token' | 'refresh_token';
  /** RFC 9449 §6.2: the DPoP key an access token is bound to. */
  cnf?: { jkt: string };
}

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * Token introspection (RFC 7662 §2) for resource servers only: authenticated confidential
 * clients the operator allowed (`introspection` option, or `metadata.introspection` on the
 * client record). `{ active: false }` for anything not currently valid (§2.2).
 */
export function createIntrospectHandler(ctx: Context): Handler {
  return endpoint(ctx, { methods: ['POST'], cors: false }, async (request) => {
    const form = await readForm(request, ctx.maxBodyBytes);
    const params = parseWith(introspectSchema, form);
    await authenticateResourceServer(ctx, request, params);
    return jsonReply(await introspect(ctx, params.token, params.token_type_hint), 200, NO_STORE);
  });
}

async function introspect(
  ctx: Context,
  token: string,
  hint: string | undefined,
): Promise<IntrospectionResponse> {
  const asRefresh = async () => {
    const record = await ctx.store.refreshTokens.find(token);
    return record && !record.consumedAt ? describe(ctx, record, 'refresh_token') : undefined;
  };
  const asAccess = async () => {
    const found = await findAccessToken(ctx, token);
    if (!found) return undefined;
    const { record, claims } = found;
    const described = describe(ctx, record, 'access_token');
    if (!described) return undefined;
    const withJti = claims ? { ...described, jti: claims.jti } : described;
    const jkt = boundJkt(record);
    if (jkt !== undefined) withJti.cnf = { jkt };
    return { ...(await userClaimsOf(ctx, record)), ...withJti };
  };
  const order = hint === 'refresh_token' ? [asRefresh, asAccess] : [asAccess, asRefresh];
  for (const attempt of order) {
    const result = await attempt();
    if (result) return result;
  }
  return INACTIVE;
}

/**
 * The listed user claims an access token's scopes release, as the user has them now (the same
 * as a JWT access token refreshed now would carry; none if the callback fails).
 */
async function userClaimsOf(
  ctx: Context,
  record: AccessTokenRecord,
): Promise<Partial<OpenIdClaims>> {
  if (!ctx.openid || !releasesListed(ctx.openid, record.scopes)) return {};
  try {
    return accessTokenUserClaims(ctx, record.scopes, await ctx.openid.claims(record.userId));
  } catch {
    return {};
  }
}

function describe(
  ctx: Context,
  record: AccessTokenRecord | RefreshTokenRecord,
  type: 'access_token' | 'refresh_token',
): IntrospectionResponse | undefined {
  if (record.expiresAt !== null && record.expiresAt <= ctx.now()) return undefined;
  return {
    active: true,
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    sub: record.userId,
    ...(record.resource ? { aud: record.resource } : {}),
    iss: ctx.issuer,
    ...(record.expiresAt !== null ? { exp: Math.floor(record.expiresAt / 1000) } : {}),
    iat: Math.floor(record.createdAt / 1000),
    token_type: type,
  };
}
