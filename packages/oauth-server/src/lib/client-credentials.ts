import {
  InvalidClientMetadataError,
  InvalidRedirectUriError,
  InvalidScopeError,
  UnauthorizedClientError,
} from '../errors.js';
import type { ClientCredentialsOptions } from '../options.js';
import type { Context } from './context.js';
import { parseScope } from './scopes.js';
import type { ClientRecord } from './store.js';
import { invalidArg, invalidArgType } from './type-error.js';

/** The client credentials grant's validated configuration. */
export interface ClientCredentialsConfig {
  enabled: boolean;
  /** Whether the operator vouches for this client: it may have any scope of its registration. */
  isOperatorClient: (client: ClientRecord) => boolean;
  /** What a client that registered itself may register for and be granted (see the option). */
  dynamicRegistrationScopes: string[];
}

/**
 * The scopes that stand for a person (OpenID Connect's `openid`, `profile`, `email`, and
 * `offline_access`): a client credentials token has no user, so no client may register for them
 * or be granted them by that grant. Check a machine client you configure against it.
 */
export const USER_SCOPES: readonly string[] = Object.freeze([
  'openid',
  'offline_access',
  'profile',
  'email',
]);

/** Validates the `clientCredentials` option (a caller's mistake throws TypeError). */
export function clientCredentialsConfig(
  options: ClientCredentialsOptions | undefined,
  known: string[],
): ClientCredentialsConfig {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgType(
      '"clientCredentials" must be an object { enabled?, clientIds?, allow?, dynamicRegistrationScopes? }',
    );
  }
  const { enabled = true, clientIds = [], allow, dynamicRegistrationScopes = [] } = options ?? {};
  if (typeof enabled !== 'boolean') {
    throw invalidArgType('"clientCredentials.enabled" must be a boolean');
  }
  if (!Array.isArray(clientIds) || clientIds.some((id) => typeof id !== 'string')) {
    throw invalidArgType('"clientCredentials.clientIds" must be an array of client ids');
  }
  if (allow !== undefined && typeof allow !== 'function') {
    throw invalidArgType('"clientCredentials.allow" must be a function of the client');
  }
  if (
    !Array.isArray(dynamicRegistrationScopes) ||
    dynamicRegistrationScopes.some((s) => typeof s !== 'string')
  ) {
    throw invalidArgType(
      '"clientCredentials.dynamicRegistrationScopes" must be an array of scopes',
    );
  }
  for (const s of dynamicRegistrationScopes) {
    if (!known.includes(s) || USER_SCOPES.includes(s)) {
      throw invalidArg(
        `"clientCredentials.dynamicRegistrationScopes": "${s}" is not a scope of "scopes" a machine client can hold`,
      );
    }
  }
  const listed = new Set(clientIds);
  return {
    enabled,
    isOperatorClient: (client) => listed.has(client.clientId) || (allow?.(client) ?? false),
    dynamicRegistrationScopes: [...dynamicRegistrationScopes],
  };
}

/** What /register stores about a client's grants (RFC 7591 §2). */
export interface RegisteredGrants {
  grantTypes: string[];
  responseTypes: string[];
  redirectUris: string[];
  /** The scope to register when the client is a machine client; otherwise the caller decides. */
  machineScope?: string;
}

/**
 * The grant types, response types and redirect URIs of a registration request, checked to
 * agree (RFC 7591 §2.1). A client registering for `client_credentials` registers itself, so it is
 * held to `dynamicRegistrationScopes`: confidential, and its scope within them (none → refused).
 */
export function registeredGrants(
  ctx: Context,
  meta: {
    redirect_uris?: string[] | undefined;
    grant_types?: string[] | undefined;
    response_types?: string[] | undefined;
    scope?: string | undefined;
  },
  method: string,
): RegisteredGrants {
  const grantTypes = meta.grant_types ?? ['authorization_code', 'refresh_token'];
  const redirectUris = meta.redirect_uris ?? [];
  const code = grantTypes.includes('authorization_code');
  const machine = grantTypes.includes('client_credentials');
  if (!code && !machine) {
    throw new InvalidClientMetadataError(
      'grant_types must include authorization_code or client_credentials',
    );
  }
  if (!code && grantTypes.includes('refresh_token')) {
    // Client credentials issue no refresh token (RFC 6749 §4.4.3): it comes with a user's grant.
    throw new InvalidClientMetadataError('refresh_token needs authorization_code in grant_types');
  }
  if (code && redirectUris.length === 0) {
    throw new InvalidRedirectUriError('parameter redirect_uris is required');
  }
  const responseTypes = meta.response_types ?? (code ? ['code'] : []);
  if (responseTypes.includes('code') !== code) {
    throw new InvalidClientMetadataError(
      'response_types must be ["code"] with authorization_code, and empty without it',
    );
  }
  if (!code && redirectUris.length > 0) {
    throw new InvalidClientMetadataError(
      'redirect_uris are for authorization_code; a client_credentials client has none',
    );
  }
  if (!machine) return { grantTypes, responseTypes, redirectUris };
  if (
    !ctx.clientCredentials.enabled ||
    ctx.clientCredentials.dynamicRegistrationScopes.length === 0
  ) {
    throw new InvalidClientMetadataError(
      'this server does not register client_credentials clients dynamically; ask its operator',
    );
  }
  if (method === 'none') {
    throw new InvalidClientMetadataError(
      'a client_credentials client must be confidential (token_endpoint_auth_method other than none)',
    );
  }
  const allowed = ctx.clientCredentials.dynamicRegistrationScopes;
  // RFC 7591 §2: the server may register fewer scopes than asked for, and says so.
  const asked = meta.scope === undefined ? allowed : meta.scope.split(' ').filter(Boolean);
  const kept = [...new Set(asked)].filter((s) => allowed.includes(s));
  if (kept.length === 0) {
    throw new InvalidClientMetadataError(
      'scope holds no scope a client_credentials client may register on this server',
    );
  }
  return { grantTypes, responseTypes, redirectUris, machineScope: kept.join(' ') };
}

/**
 * The scopes of a client credentials request (RFC 6749 §4.4.2, §3.3). The ceiling is the
 * client's registered scope, for a client the operator did not vouch for also cut to
 * `dynamicRegistrationScopes` (so a narrower option applies to clients registered before it);
 * `scope` absent → the whole ceiling. No scope that stands for a user (`openid`,
 * `offline_access`…): there is none.
 */
export function clientCredentialsScopes(
  ctx: Context,
  client: ClientRecord,
  resource: { scopes: string[] },
  scope: string | undefined,
): string[] {
  const operator = ctx.clientCredentials.isOperatorClient(client);
  const allowed = ctx.clientCredentials.dynamicRegistrationScopes;
  if (!operator && allowed.length === 0) {
    throw new UnauthorizedClientError(
      'this server grants client credentials only to the clients its operator configured',
    );
  }
  const registered = (client.scope ?? '').split(' ').filter(Boolean);
  const ceiling = registered.filter(
    (s) =>
      Object.hasOwn(ctx.scopes, s) &&
      !USER_SCOPES.includes(s) &&
      resource.scopes.includes(s) &&
      (operator || allowed.includes(s)),
  );
  const requested = scope === undefined ? [] : parseScope(scope);
  if (requested.length === 0) {
    if (ceiling.length === 0) {
      throw new InvalidScopeError('this client has no registered scope it may be granted here');
    }
    return ceiling;
  }
  for (const s of requested) {
    if (USER_SCOPES.includes(s)) {
      throw new InvalidScopeError(
        `scope ${s} needs a user; the client credentials grant has none (no ID token, no refresh token)`,
      );
    }
    if (!ceiling.includes(s)) {
      throw new InvalidScopeError(
        'scope exceeds what this client is registered for at this resource',
      );
    }
  }
  return requested;
}
