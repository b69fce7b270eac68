import { supportsPrivateKeyJwt } from '../lib/client-assertion.js';
import type { Context } from '../lib/context.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { jsonReply } from '../lib/http.js';
import { ASSERTION_SIGNING_ALGS } from '../lib/jwks.js';
import { SIGNING_ALG } from '../lib/keys.js';
import { CLAIMS_SUPPORTED, OPENID_SCOPES } from '../lib/openid.js';

/** RFC 8414 §2 authorization server metadata (and the OIDC Discovery fields when asked). */
export function buildMetadata(ctx: Context, openid: boolean): Record<string, unknown> {
  const scopes = Object.keys(ctx.scopes).filter((s) => s !== 'offline_access');
  if (ctx.openid) for (const s of OPENID_SCOPES) if (!scopes.includes(s)) scopes.push(s);
  // RFC 7523 / OpenID Connect Core §9: offered where the store can refuse replayed assertions.
  const jwt = supportsPrivateKeyJwt(ctx) ? ['private_key_jwt'] : [];
  const algs = [...ASSERTION_SIGNING_ALGS];
  const metadata: Record<string, unknown> = {
    issuer: ctx.issuer,
    authorization_endpoint: ctx.endpoints.authorization,
    token_endpoint: ctx.endpoints.token,
    jwks_uri: ctx.endpoints.jwks,
    ...(ctx.allowRegistration ? { registration_endpoint: ctx.endpoints.registration } : {}),
    revocation_endpoint: ctx.endpoints.revocation,
    introspection_endpoint: ctx.endpoints.introspection,
    ...(ctx.endpoints.revocationFeed === undefined
      ? {}
      : { revocation_feed_endpoint: ctx.endpoints.revocationFeed }),
    scopes_supported: scopes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      ...(ctx.clientCredentials.enabled ? ['client_credentials'] : []),
    ],
    token_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      ...jwt,
    ],
    ...(jwt.length > 0 ? { token_endpoint_auth_signing_alg_values_supported: algs } : {}),
    revocation_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      ...jwt,
    ],
    ...(jwt.length > 0 ? { revocation_endpoint_auth_signing_alg_values_supported: algs } : {}),
    introspection_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      ...jwt,
    ],
    ...(jwt.length > 0 ? { introspection_endpoint_auth_signing_alg_values_supported: algs } : {}),
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.cimd.enabled,
    ...(ctx.accessTokenFormat === 'jwt'
      ? { access_token_signing_alg_values_supported: [SIGNING_ALG] }
      : {}),
    // RFC 9449 §5.1: the proof algorithms the token endpoint accepts.
    ...(ctx.dpop ? { dpop_signing_alg_values_supported: [...ctx.dpop.algorithms] } : {}),
  };
  if (openid) {
    // OpenID Connect Discovery 1.0 §3 REQUIRED fields (published even without the `openid`
    // option, which is when this server issues ID tokens and serves userinfo).
    metadata.subject_types_supported = ['public'];
    metadata.id_token_signing_alg_values_supported = [SIGNING_ALG];
    if (ctx.openid) {
      metadata.userinfo_endpoint = ctx.endpoints.userinfo;
      metadata.claims_supported = [...CLAIMS_SUPPORTED];
    }
  }
  return metadata;
}

function metadataHandler(ctx: Context, openid: boolean): Handler {
  return endpoint(ctx, { methods: ['GET', 'HEAD'], cors: true }, async () =>
    jsonReply(buildMetadata(ctx, openid), 200, { 'Cache-Control': 'public, max-age=300' }),
  );
}

export const createMetadataHandler = (ctx: Context) => metadataHandler(ctx, false);
export const createOpenidConfigurationHandler = (ctx: Context) => metadataHandler(ctx, true);

/** RFC 7517 JWK Set of the keys that sign access tokens (RFC 9068 §4). */
export function createJwksHandler(ctx: Context): Handler {
  return endpoint(ctx, { methods: ['GET', 'HEAD'], cors: true }, async () =>
    jsonReply({ keys: await ctx.keys.publicKeys() }, 200, {
      'Cache-Control': 'public, max-age=300',
      'Content-Type': 'application/jwk-set+json',
    }),
  );
}
