import { authenticateClient } from '../lib/clients.js';
import type { Context } from '../lib/context.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { NO_STORE, readForm } from '../lib/http.js';
import { parseWith, revokeSchema } from '../lib/schemas.js';
import { verifyAccessJwt } from '../lib/verify-jwt.js';

/**
 * Token revocation (RFC 7009 §2): the client authenticates; a refresh token revokes its whole
 * grant, an access token itself. 200 whatever the token was (§2.2), so the endpoint tells
 * nothing about tokens the caller does not own.
 */
export function createRevokeHandler(ctx: Context): Handler {
  return endpoint(ctx, { methods: ['POST'], cors: true }, async (request) => {
    const form = await readForm(request, ctx.maxBodyBytes);
    const params = parseWith(revokeSchema, form);
    const { client } = await authenticateClient(ctx, request, params);
    const { token } = params;
    const refresh = await ctx.store.refreshTokens.find(token);
    const ip = ctx.getClientIp(request);
    if (refresh) {
      if (refresh.clientId === client.clientId && (await ctx.store.refreshTokens.revoke(token))) {
        ctx.audit({
          event: 'token.revoked',
          tokenType: 'refresh_token',
          clientId: client.clientId,
          sub: refresh.userId,
          familyId: refresh.familyId,
          ip,
        });
      }
    } else {
      const claims = await verifyAccessJwt(ctx, token);
      const handle = claims ? claims.jti : token;
      const access = await ctx.store.accessTokens.find(handle);
      const opaqueInJwtMode = !claims && access?.extra?.format === 'jwt';
      if (
        access &&
        !opaqueInJwtMode &&
        access.clientId === client.clientId &&
        (await ctx.store.accessTokens.revoke(handle))
      ) {
        ctx.audit({
          event: 'token.revoked',
          tokenType: 'access_token',
          clientId: client.clientId,
          sub: access.userId,
          familyId: access.familyId,
          // In opaque mode the handle is the token: only a JWT's jti is an identifier.
          jti: claims ? handle : undefined,
          ip,
        });
      }
    }
    return new Response(null, { status: 200, headers: NO_STORE });
  });
}
