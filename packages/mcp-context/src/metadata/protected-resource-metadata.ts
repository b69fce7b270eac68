import { type DpopOptions, dpopAlgorithms } from '../guard/dpop.js';
import {
  assertNonEmptyString,
  assertObject,
  assertResourceUrl,
  assertStringArray,
  invalidType,
} from '../lib/errors.js';

/** RFC 9728 §2 metadata, as served. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
  resource_documentation?: string;
  [parameter: string]: unknown;
}

export interface ProtectedResourceMetadataOptions {
  /** The MCP endpoint URL, exactly as clients use it (`http://localhost:8000/mcp`). */
  resource: string;
  /** Issuer identifiers of the authorization servers, as strings (RFC 9728 §2). */
  authorizationServers: string[];
  scopesSupported?: string[];
  resourceName?: string;
  resourceDocumentation?: string;
  /** Further RFC 9728 parameters, served as given (e.g. `{ resource_policy_uri }`). */
  extra?: Record<string, unknown>;
  /**
   * DPoP as the guard takes it (`BearerAuthOptions.dpop`, the same object will do): publishes
   * `dpop_signing_alg_values_supported` and, with `required`, `dpop_bound_access_tokens_required`.
   */
  dpop?: boolean | Pick<DpopOptions, 'required' | 'algorithms'>;
}

/**
 * Builds the protected resource metadata document
 * ([RFC 9728 §2](https://www.rfc-editor.org/rfc/rfc9728#section-2)): `resource` is the MCP
 * URL exactly as given (clients compare it byte for byte with the URL they called),
 * `authorization_servers` issuer strings (never objects: the MCP SDK client rejects those),
 * `bearer_methods_supported: ["header"]` since MCP forbids tokens in the query.
 *
 * @example
 * const metadata = protectedResourceMetadata({
 *   resource: 'http://localhost:8000/mcp',
 *   authorizationServers: ['http://localhost:3000'],
 *   scopesSupported: ['read', 'write', 'admin'],
 * });
 */
export function protectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  assertObject(options, 'options');
  assertResourceUrl(options.resource, 'resource');
  if (typeof options.resource !== 'string')
    throw invalidType('resource', 'a string', options.resource);
  if (!Array.isArray(options.authorizationServers)) {
    throw invalidType(
      'authorizationServers',
      'an array of issuer strings',
      options.authorizationServers,
    );
  }
  options.authorizationServers.forEach((issuer, i) => {
    if (typeof issuer !== 'string') {
      throw invalidType(`authorizationServers[${i}]`, 'an issuer string (RFC 9728 §2)', issuer);
    }
    assertResourceUrl(issuer, `authorizationServers[${i}]`);
  });
  const metadata: ProtectedResourceMetadata = {
    ...(options.extra ?? {}),
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: ['header'],
  };
  if (options.dpop !== undefined && options.dpop !== false) {
    const dpop = options.dpop === true ? {} : options.dpop;
    assertObject(dpop, 'dpop');
    // RFC 9728 §2: the algorithms of proofs, and whether plain Bearer tokens are refused.
    metadata.dpop_signing_alg_values_supported = [...dpopAlgorithms(dpop)];
    if (dpop.required === true) metadata.dpop_bound_access_tokens_required = true;
  }
  if (options.scopesSupported !== undefined) {
    assertStringArray(options.scopesSupported, 'scopesSupported');
    metadata.scopes_supported = [...options.scopesSupported];
  }
  if (options.resourceName !== undefined) {
    assertNonEmptyString(options.resourceName, 'resourceName');
    metadata.resource_name = options.resourceName;
  }
  if (options.resourceDocumentation !== undefined) {
    assertResourceUrl(options.resourceDocumentation, 'resourceDocumentation');
    metadata.resource_documentation = options.resourceDocumentation;
  }
  return metadata;
}
