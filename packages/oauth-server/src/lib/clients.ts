import { InvalidClientError, InvalidRequestError } from '../errors.js';
import { ClientMetadataDocumentError } from './cimd.js';
import {
  assertedClientId,
  CLIENT_ASSERTION_TYPE,
  clientAuthMethods,
  verifyClientAssertion,
} from './client-assertion.js';
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
    return ctx.cimd.resolve(clientId, fetchBudget(ctx, request, limits));
  }
  if (ctx.cimd.enabled && clientId.startsWith('http://')) {
    // Looks like a client metadata document URL, but not https: say so, rather than "unknown".
    throw new ClientMetadataDocumentError(
      'a client_id URL must use https; http client_id URLs are accepted only with the development allowance (clientIdMetadataDocuments.allowInsecure, CIMD_ALLOW_INSECURE=true in the Portcullis auth server)',
    );
  }
  // A grant step checks a looked-up client in its own atomic step (see `clients.lookup`).
  const client =
    lookup && ctx.store.clients.lookup
      ? await ctx.store.clients.lookup(clientId)
      : await ctx.store.clients.find(clientId);
  return client === undefined || withdrawn(ctx, client) ? undefined : client;
}

/**
 * An operator's client (`metadata.operator_client: true` on its record) that the configuration
 * no longer names (`clientCredentials.clientIds`, `allow`): not a client any more, anywhere.
 * Its record may outlive its removal from the configuration; its credentials must not.
 */
function withdrawn(ctx: Context, client: ClientRecord): boolean {
  return (
    client.metadata?.operator_client === true && !ctx.clientCredentials.isOperatorClient(client)
  );
}

export interface AuthenticatedClient {
  client: ClientRecord;
  method: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

/** The client authentication parameters of a request body. */
export interface ClientAuthParams {
  client_id?: string | undefined;
  client_secret?: string | undefined;
  client_assertion_type?: string | undefined;
  client_assertion?: string | undefined;
}

const CLIENT_ID = /^[\x20-\x7E]{1,2048}$/;

/** The fetch budgets a client's documents (metadata, jwks_uri) are fetched within. */
function fetchBudget(ctx: Context, request: Request | undefined, limits: RateLimitState) {
  return async () => {
    // Per address first, so one address over its budget does not spend everyone's.
    if (request) await ctx.limits.check(limits, 'cimd', 'perIp', ctx.getClientIp(request));
    await ctx.limits.check(limits, 'cimd', 'global', 'all');
  };
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
 * `client_secret_basic` or `client_secret_post` (the secret is checked by the store in constant
 * time), or `private_key_jwt` (RFC 7523 §2.2: `client_assertion_type` jwt-bearer and a
 * `client_assertion` signed with one of the client's keys, see `verifyClientAssertion`).
 * Exactly one method per request (§2.3), and only one the client is registered for: a client
 * that offers both `none` and `private_key_jwt` (a ChatGPT-style metadata document) may use
 * either. Every refusal is `invalid_client`.
 */
export async function authenticateClient(
  ctx: Context,
  request: Request,
  params: ClientAuthParams,
  options: {
    confidentialOnly?: boolean;
    /**
     * Take the client from the store's `clients.lookup` (the token endpoint, whose grant steps
     * check it). A refusal decided on that record is decided again on a fresh read, unless the
     * fresh read is the same record (the refusal stands: nothing is verified twice).
     */
    lookup?: boolean;
    /**
     * This request has authenticated once already, and is decided again on a fresh read (its
     * client changed): its assertion's `jti`, remembered then, is not remembered again.
     */
    again?: boolean;
  } = {},
): Promise<AuthenticatedClient> {
  const authorization = request.headers.get('authorization');
  if (params.client_assertion !== undefined || params.client_assertion_type !== undefined) {
    return assertionClient(ctx, request, params, authorization, options);
  }
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
  if (!CLIENT_ID.test(clientId) || (secret !== undefined && !/^[\x20-\x7E]{0,512}$/.test(secret))) {
    throw new InvalidClientError('client authentication failed');
  }
  return decided(ctx, clientId, request, undefined, options.lookup, (client) =>
    secretClient(ctx, client, secret, method, options.confidentialOnly),
  );
}

/**
 * `check` on the client `clientId` names. With `lookup`, the client comes from the store's
 * memory, and an `invalid_client` decided on it is decided again on a fresh read when that
 * differs from it (the client may have changed elsewhere: a new secret, new keys).
 */
async function decided(
  ctx: Context,
  clientId: string,
  request: Request,
  limits: RateLimitState | undefined,
  lookup: boolean | undefined,
  check: (client: ClientRecord) => Promise<AuthenticatedClient>,
): Promise<AuthenticatedClient> {
  const client = await findClient(ctx, clientId, request, limits, lookup);
  try {
    if (!client) throw new InvalidClientError('client authentication failed');
    return await check(client);
  } catch (error) {
    if (!lookup || !(error instanceof InvalidClientError)) throw error;
    const fresh = await changedClient(ctx, clientId, client, request, limits);
    // The same record: the refusal stands (a refused assertion is not verified again).
    if (!fresh) throw error;
    return check(fresh);
  }
}

/**
 * A fresh read of a client a refusal was decided on from the store's memory (`remembered`):
 * `undefined` when it is the same record (a decision taken on it stands, and is not taken
 * again), the new record when it changed; a client gone since is `invalid_client`.
 */
export async function changedClient(
  ctx: Context,
  clientId: string,
  remembered: ClientRecord | undefined,
  request: Request,
  limits: RateLimitState | undefined,
): Promise<ClientRecord | undefined> {
  const fresh = await findClient(ctx, clientId, request, limits);
  if (JSON.stringify(fresh) === JSON.stringify(remembered)) return undefined;
  if (!fresh) throw new InvalidClientError('client authentication failed');
  return fresh;
}

/** `none`, `client_secret_basic` or `client_secret_post` on `client`'s record. */
async function secretClient(
  ctx: Context,
  client: ClientRecord,
  secret: string | undefined,
  method: AuthenticatedClient['method'],
  confidentialOnly: boolean | undefined,
): Promise<AuthenticatedClient> {
  const methods = clientAuthMethods(client);
  if (secret === undefined && methods.includes('none')) {
    if (confidentialOnly)
      throw new InvalidClientError('this endpoint requires an authenticated confidential client');
    return { client, method };
  }
  if (client.tokenEndpointAuthMethod === 'none') {
    throw new InvalidClientError('this is a public client; it has no secret');
  }
  if (secret === undefined && methods.includes('private_key_jwt')) {
    throw new InvalidClientError(
      'this client authenticates with private_key_jwt (client_assertion)',
    );
  }
  if (secret === undefined || client.clientSecretHash === undefined) {
    throw new InvalidClientError('client authentication failed');
  }
  const expiresAt = client.clientSecretExpiresAt ?? 0;
  const valid = await ctx.store.clients.verifySecret(client, secret);
  if (!valid || (expiresAt !== 0 && expiresAt * 1000 <= ctx.now())) {
    throw new InvalidClientError('client authentication failed');
  }
  return { client, method };
}

/** `private_key_jwt`: the assertion alone authenticates; with nothing else (§2.3). */
async function assertionClient(
  ctx: Context,
  request: Request,
  params: ClientAuthParams,
  authorization: string | null,
  options: { lookup?: boolean; again?: boolean },
): Promise<AuthenticatedClient> {
  if (params.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
    throw new InvalidClientError(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  }
  const assertion = params.client_assertion;
  if (assertion === undefined || assertion === '') {
    throw new InvalidClientError('client_assertion is required with client_assertion_type');
  }
  if (authorization !== null || params.client_secret !== undefined) {
    throw new InvalidClientError(
      'use one client authentication method: client_assertion, without Basic or client_secret',
    );
  }
  // RFC 7523 §3: the assertion names the client (sub); client_id, when sent, must agree.
  const clientId = params.client_id ?? assertedClientId(assertion);
  if (clientId === undefined || !CLIENT_ID.test(clientId)) {
    throw new InvalidClientError('client_assertion does not name a client (sub)');
  }
  const limits = new RateLimitState(ctx.now);
  return decided(ctx, clientId, request, limits, options.lookup, async (client) => {
    if (!clientAuthMethods(client).includes('private_key_jwt')) {
      throw new InvalidClientError('this client does not authenticate with private_key_jwt');
    }
    const budget = fetchBudget(ctx, request, limits);
    await verifyClientAssertion(ctx, client, assertion, budget, options.again === true);
    return { client, method: 'private_key_jwt' };
  });
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
  params: ClientAuthParams,
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
