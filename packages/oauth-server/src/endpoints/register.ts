import { hashSecret } from '@portcullis/token-store';
import {
  AccessDeniedError,
  InvalidClientMetadataError,
  InvalidRedirectUriError,
} from '../errors.js';
import { supportsPrivateKeyJwt } from '../lib/client-assertion.js';
import { registeredGrants } from '../lib/client-credentials.js';
import type { Context } from '../lib/context.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { jsonReply, NO_STORE, readJsonObject } from '../lib/http.js';
import { jwksUriProblem, registeredKeys } from '../lib/jwks.js';
import { isOpenIdScope } from '../lib/openid.js';
import { randomId } from '../lib/random.js';
import { redirectUriProblem } from '../lib/redirect-uri.js';
import { parseWith, registrationError, registrationSchema } from '../lib/schemas.js';
import type { ClientRecord } from '../lib/store.js';

const URI_FIELDS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;

/**
 * RFC 7591 §2 / RFC 7523: a `private_key_jwt` client registers its public keys, `jwks` (checked:
 * public signature keys only, at most `MAX_REGISTERED_KEYS`) or `jwks_uri` (https; fetched when
 * an assertion is verified, under the rules client metadata documents are fetched with), not
 * both, and optionally its `token_endpoint_auth_signing_alg`; no other method takes keys. What
 * the client record keeps in `metadata`.
 */
function privateKeyJwtMetadata(
  ctx: Context,
  meta: ReturnType<typeof registrationSchema.parse>,
  method: string,
): Record<string, unknown> {
  const { jwks, jwks_uri, token_endpoint_auth_signing_alg: alg } = meta;
  if (method !== 'private_key_jwt') {
    if (jwks !== undefined || jwks_uri !== undefined || alg !== undefined) {
      throw new InvalidClientMetadataError(
        'jwks, jwks_uri and token_endpoint_auth_signing_alg are for token_endpoint_auth_method private_key_jwt',
      );
    }
    return {};
  }
  if (!supportsPrivateKeyJwt(ctx)) {
    throw new InvalidClientMetadataError(
      'token_endpoint_auth_method private_key_jwt is not available on this server',
    );
  }
  if ((jwks === undefined) === (jwks_uri === undefined)) {
    throw new InvalidClientMetadataError(
      'private_key_jwt needs one of jwks and jwks_uri, not both',
    );
  }
  const out: Record<string, unknown> =
    alg === undefined ? {} : { token_endpoint_auth_signing_alg: alg };
  if (jwks_uri !== undefined) {
    const problem = jwksUriProblem(jwks_uri, ctx.cimd.allowInsecure);
    if (problem) throw new InvalidClientMetadataError(problem);
    return { ...out, jwks_uri };
  }
  const keys = registeredKeys(jwks);
  if ('problem' in keys) throw new InvalidClientMetadataError(keys.problem);
  return { ...out, jwks: { keys: keys.keys } };
}

/**
 * Dynamic Client Registration (RFC 7591 §3): 201 with the client's metadata; a secret for
 * confidential clients, returned once and stored only as its SHA-256.
 */
export function createRegisterHandler(ctx: Context): Handler {
  return endpoint(ctx, { methods: ['POST'], cors: true }, async (request, limits) => {
    if (!ctx.allowRegistration) {
      throw new AccessDeniedError('dynamic client registration is disabled on this server');
    }
    await ctx.limits.check(limits, 'register', 'perIp', ctx.getClientIp(request));
    await ctx.limits.check(limits, 'register', 'global', 'all');
    const body = await readJsonObject(request, ctx.maxBodyBytes);
    if ('client_id' in body || 'client_secret' in body) {
      throw new InvalidClientMetadataError(
        'client_id and client_secret are assigned by the server',
      );
    }
    const meta = parseWith(registrationSchema, body, registrationError);
    for (const uri of meta.redirect_uris ?? []) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new InvalidRedirectUriError(`a redirect_uri ${problem}`);
    }
    for (const field of URI_FIELDS) {
      const value = meta[field];
      if (
        value !== undefined &&
        !(URL.canParse(value) && /^https?:$/.test(new URL(value).protocol))
      ) {
        throw new InvalidClientMetadataError(`${field} must be an http(s) URL`);
      }
    }
    const method = meta.token_endpoint_auth_method ?? 'client_secret_basic';
    const { grantTypes, responseTypes, redirectUris, machineScope } = registeredGrants(
      ctx,
      meta,
      method,
    );
    // RFC 7591 §2: the server may register fewer scopes than asked for, and says so in the
    // response. The supported subset is kept; the rest (openid, offline_access, …) is dropped.
    let scope = machineScope;
    if (machineScope === undefined && meta.scope !== undefined) {
      const kept = [...new Set(meta.scope.split(' ').filter(Boolean))].filter(
        (s) => Object.hasOwn(ctx.scopes, s) || isOpenIdScope(ctx, s),
      );
      scope = kept.length > 0 ? kept.join(' ') : undefined;
    }
    const keys = privateKeyJwtMetadata(ctx, meta, method);
    const issuedAt = Math.floor(ctx.now() / 1000);
    // No secret for a public client, nor for one that signs its assertions with its own key.
    const secret = method === 'none' || method === 'private_key_jwt' ? undefined : randomId(32);
    const secretExpiresAt =
      secret && ctx.clientSecretTtlSeconds > 0 ? issuedAt + ctx.clientSecretTtlSeconds : 0;
    const clientId = randomId(16);
    const record: ClientRecord = {
      clientId,
      clientSecretHash: secret ? await hashSecret(secret) : undefined,
      clientSecretExpiresAt: secret ? secretExpiresAt : undefined,
      clientIdIssuedAt: issuedAt,
      redirectUris,
      tokenEndpointAuthMethod: method,
      grantTypes,
      responseTypes,
      applicationType: meta.application_type ?? 'web',
      clientName: meta.client_name,
      clientUri: meta.client_uri,
      logoUri: meta.logo_uri,
      scope,
      metadata: {
        ...keys,
        ...(meta.tos_uri ? { tos_uri: meta.tos_uri } : {}),
        ...(meta.policy_uri ? { policy_uri: meta.policy_uri } : {}),
        ...(meta.contacts ? { contacts: meta.contacts } : {}),
        ...(meta.software_id ? { software_id: meta.software_id } : {}),
        ...(meta.software_version ? { software_version: meta.software_version } : {}),
      },
      createdAt: ctx.now(),
      expiresAt: null,
    };
    // Unused, it is deleted by the store's own expiry; the first approval keeps it for good.
    await ctx.store.clients.save(
      record,
      ctx.dynamicClientTtlSeconds > 0 ? { ttlSeconds: ctx.dynamicClientTtlSeconds } : {},
    );
    ctx.audit({
      event: 'client.registered',
      clientId,
      tokenEndpointAuthMethod: method,
      clientName: meta.client_name,
      ip: ctx.getClientIp(request),
    });
    return jsonReply(
      {
        client_id: clientId,
        ...(secret ? { client_secret: secret, client_secret_expires_at: secretExpiresAt } : {}),
        client_id_issued_at: issuedAt,
        redirect_uris: record.redirectUris,
        token_endpoint_auth_method: method,
        grant_types: grantTypes,
        response_types: responseTypes,
        application_type: record.applicationType,
        ...(meta.client_name ? { client_name: meta.client_name } : {}),
        ...(meta.client_uri ? { client_uri: meta.client_uri } : {}),
        ...(meta.logo_uri ? { logo_uri: meta.logo_uri } : {}),
        ...(scope !== undefined ? { scope } : {}),
        ...record.metadata,
      },
      201,
      NO_STORE,
    );
  });
}
