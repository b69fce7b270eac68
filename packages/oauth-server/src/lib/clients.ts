import { InvalidClientError, InvalidRequestError } from '../errors.js';
import { ClientMetadataDocumentError } from './cimd.js';
import type { Context } from './context.js';
import { RateLimitState } from './rate-limits.js';
import type { ClientRecord } from './store.js';

/**
 * A registered client, or the client a Client ID Metadata Document URL describes. A document
 * not in the cache is fetched only within the fetch budgets (per caller address and global),
 * spent before the fetch.
 */
export async function findClient(
  ctx: Context,
  clientId: string,
  request?: Request,
  limits: RateLimitState = new RateLimitState(ctx.now),
  lookup = false,
): Promise<ClientRecord | undefined> {
  if (ctx.cimd.isClientIdUrl(clientId)) {
    return ctx.cimd.resolve(clientId, async () => {
      // Per address first, so one address over its budget does not spend everyone's.
      if (request) await ctx.limits.check(limits, 'cimd', 'perIp', ctx.getClientIp(request));
      await ctx.limits.check(limits, 'cimd', 'global', 'all');
    });
  }
  if (ctx.cimd.enabled && clientId.startsWith('http://')) {
    // Looks like a client metadata document URL, but not https: say so, rather than "unknown".
    throw new ClientMetadataDocumentError(
      'a client_id URL must use https; http client_id URLs are accepted only with the development allowance (clientIdMetadataDocuments.allowInsecure, CIMD_ALLOW_INSECURE=true in the Portcullis auth server)',
    );
  }
  // A grant step checks a looked-up client in its own atomic step (see `clients.lookup`).
  if (lookup && ctx.store.clients.lookup) return ctx.store.clients.lookup(clientId);
  return ctx.store.clients.find(clientId);
}

export interface AuthenticatedClient {
  client: ClientRecord;
  method: 'none' | 'client_secret_basic' | 'client_secret_post';
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`. */
function parseBasic(header: string): { id: string; secret: string } {
  const encoded = header.slice(6).trim();
  let decoded: string;
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error('not base64');
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new InvalidClientError('the Authorization header is not valid Basic credentials');
  }
  const colon = decoded.indexOf(':');
  if (colon === -1)
    throw new InvalidClientError('the Authorization header is not valid Basic credentials');
  try {
    return {
      id: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    throw new InvalidClientError('the Basic credentials are not form-urlencoded');
  }
}

/**
 * Client authentication at the token, revocation and introspection endpoints
 * (RFC 6749 §2.3, §3.2.1): `none` (public clients name themselves with client_id),
 * `client_secret_basic` or `client_secret_post`; the secret is checked by the store in
 * constant time. Exactly one method per request (§2.3).
 */
export async function authenticateClient(
  ctx: Context,
  request: Request,
  params: { client_id?: string | undefined; client_secret?: string | undefined },
  options: {
    confidentialOnly?: boolean;
    /**
     * Take the client from the store's `clients.lookup` (the token endpoint, whose grant steps
     * check it): the caller decides a refusal again without it.
     */
    lookup?: boolean;
  } = {},
): Promise<AuthenticatedClient> {
  const authorization = request.headers.get('authorization');
  let clientId = params.client_id;
  let secret: string | undefined;
  let method: AuthenticatedClient['method'] = 'none';
  if (authorization !== null && /^basic\s/i.test(authorization)) {
    if (params.client_secret !== undefined) {
      throw new InvalidRequestError(
        'use one client authentication method, not Basic and client_secret both',
      );
    }
    const basic = parseBasic(authorization);
    if (clientId !== undefined && clientId !== basic.id) {
      throw new InvalidClientError('client_id differs from the Basic credentials');
    }
    clientId = basic.id;
    secret = basic.secret;
    method = 'client_secret_basic';
  } else if (authorization !== null) {
    throw new InvalidClientError('unsupported Authorization scheme, use Basic');
  } else if (params.client_secret !== undefined) {
    secret = params.client_secret;
    method = 'client_secret_post';
  }
  if (clientId === undefined || clientId === '') {
    throw new InvalidClientError('client authentication is required (client_id)');
  }
  if (
    !/^[\x20-\x7E]{1,2048}$/.test(clientId) ||
    (secret !== undefined && !/^[\x20-\x7E]{0,512}$/.test(secret))
  ) {
    throw new InvalidClientError('client authentication failed');
  }
  const client = await findClient(ctx, clientId, request, undefined, options.lookup);
  if (!client) throw new InvalidClientError('client authentication failed');
  if (client.tokenEndpointAuthMethod === 'none') {
    if (secret !== undefined)
      throw new InvalidClientError('this is a public client; it has no secret');
    if (options.confidentialOnly)
      throw new InvalidClientError('this endpoint requires an authenticated confidential client');
    return { client, method };
  }
  if (secret === undefined) throw new InvalidClientError('client authentication failed');
  const expiresAt = client.clientSecretExpiresAt ?? 0;
  const valid = await ctx.store.clients.verifySecret(client, secret);
  if (!valid || (expiresAt !== 0 && expiresAt * 1000 <= ctx.now())) {
    throw new InvalidClientError('client authentication failed');
  }
  return { client, method };
}

/**
 * Authenticates a resource server (introspection, the revocation feed): a confidential client
 * the operator allowed (`introspection` option, or `metadata.introspection` on its record). One
 * answer for every refusal (unknown, public, wrong secret, not a resource server), so the
 * endpoint tells a caller nothing about which clients exist.
 */
export async function authenticateResourceServer(
  ctx: Context,
  request: Request,
  params: { client_id?: string | undefined; client_secret?: string | undefined },
): Promise<void> {
  let allowed = false;
  try {
    const { client } = await authenticateClient(ctx, request, params, { confidentialOnly: true });
    allowed = ctx.mayIntrospect(client);
  } catch (error) {
    if (!(error instanceof InvalidClientError)) throw error;
  }
  if (!allowed) throw new InvalidClientError('client authentication failed');
}
