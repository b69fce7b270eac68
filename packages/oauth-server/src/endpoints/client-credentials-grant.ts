import { UnauthorizedClientError } from '../errors.js';
import { clientCredentialsScopes } from '../lib/client-credentials.js';
import type { AuthenticatedClient } from '../lib/clients.js';
import type { Context } from '../lib/context.js';
import { tokenResponseHeaders } from '../lib/dpop.js';
import { type JsonReply, jsonReply } from '../lib/http.js';
import { randomId } from '../lib/random.js';
import { resolveResource } from '../lib/resources.js';
import type { clientCredentialsGrantSchema } from '../lib/schemas.js';
import { accessTokenFor, accessTokenOptions } from '../lib/tokens.js';

/**
 * RFC 6749 §4.4 (MCP's OAuth client credentials extension): an authenticated confidential
 * client gets an access token for itself — `sub` and `client_id` its client id, the scopes
 * within its registration (see `clientCredentialsScopes`), the audience a resource as for a
 * user's grant (RFC 8707) — and no refresh token or ID token (§4.4.3: there is no user). The
 * token is stored like a user's (its own family), so /revoke, introspection and the revocation
 * feed know it.
 */
export async function clientCredentialsGrant(
  ctx: Context,
  { client, method }: AuthenticatedClient,
  params: ReturnType<typeof clientCredentialsGrantSchema.parse>,
  ip: string | undefined,
  /** The DPoP key the token is bound to (RFC 9449 §5), when the request carried a proof. */
  jkt?: string,
): Promise<JsonReply> {
  // §4.4: "The client credentials grant type MUST only be used by confidential clients."
  if (method === 'none' || client.tokenEndpointAuthMethod === 'none') {
    throw new UnauthorizedClientError('the client credentials grant is for confidential clients');
  }
  const resource = resolveResource(ctx, params.resource);
  const scopes = clientCredentialsScopes(ctx, client, resource, params.scope);
  const options = accessTokenOptions(ctx, jkt);
  const issued = await ctx.store.accessTokens.issue(
    {
      familyId: randomId(16),
      clientId: client.clientId,
      userId: client.clientId,
      scopes,
      resource: resource.uri,
      extra: { ...options.extra, grant: 'client_credentials' },
    },
    { ttlSeconds: options.ttlSeconds },
  );
  // A client that registered itself is in use from now on: it no longer expires unused.
  if (client.expiresAt !== null && !ctx.cimd.isClientIdUrl(client.clientId)) {
    await ctx.store.clients.save({ ...client, expiresAt: null });
  }
  const access = await accessTokenFor(ctx, issued.token, issued.record);
  ctx.audit({
    event: 'token.issued',
    grantType: 'client_credentials',
    clientId: client.clientId,
    sub: client.clientId,
    familyId: issued.record.familyId,
    scopes,
    resource: resource.uri,
    jti: ctx.accessTokenFormat === 'jwt' ? issued.token : undefined,
    refreshToken: false,
    ip,
  });
  // §5.1: Cache-Control: no-store on every response with a token.
  return jsonReply(
    {
      access_token: access.token,
      token_type: jkt === undefined ? 'Bearer' : 'DPoP',
      expires_in: access.expiresIn,
      scope: scopes.join(' '),
    },
    200,
    await tokenResponseHeaders(ctx),
  );
}
