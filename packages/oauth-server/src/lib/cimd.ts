import type { JWK } from 'jose';
import { InvalidClientError } from '../errors.js';
import { readLimited } from './http.js';
import { isPublicAddress } from './ip.js';
import { ASSERTION_SIGNING_ALGS, fetchedKeys, jwksUriProblem, registeredKeys } from './jwks.js';
import { redirectUriProblem } from './redirect-uri.js';
import { metadataDocumentSchema } from './schemas.js';
import type { ClientRecord } from './store.js';

/** Resolves a host name to the IP addresses a connection to it would use. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/** Fetches a URL over a connection to exactly `address` (the one the SSRF check passed). */
export type ConnectPinned = (
  url: string,
  address: string,
  init: { signal?: AbortSignal; headers?: Record<string, string> },
) => Promise<Response>;

/** Options for Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document). */
export interface ClientIdMetadataDocumentOptions {
  /** Accept https client_id URLs at all (default `true`). */
  enabled?: boolean;
  /** Development only: allow http URLs and loopback/private addresses. */
  allowInsecure?: boolean;
  /**
   * A fetch to use instead of the pinned connection (it must not follow redirects, and must
   * itself connect only to public addresses: it is not pinned to the checked one).
   */
  fetch?: typeof fetch;
  /**
   * Connects to the very address that passed the private-range check (default on Node.js:
   * `nodePinnedFetch` from `@portcullis/oauth-server/node`), so DNS rebinding cannot reach a
   * private address. Elsewhere pass one, or a `fetch` that pins addresses.
   */
  connect?: ConnectPinned;
  /** How long a failed document is remembered and refused without a new fetch (default 60 s). */
  failureCacheSeconds?: number;
  /** Abort the fetch after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Refuse documents larger than this (default 10 240 bytes); the download is cut off. */
  maxBytes?: number;
  /**
   * Resolves host names for the SSRF check. Default: `node:dns` when running on Node.js;
   * elsewhere only IP-literal hosts can be checked, so pass a resolver (or a `fetch` that pins
   * addresses) on other runtimes.
   */
  resolveHost?: ResolveHost;
  /** Upper bound on how long a document is cached, whatever its Cache-Control says (default 86 400 s). */
  maxCacheSeconds?: number;
  /** Freshness when the response carries no Cache-Control max-age (default 60 s). */
  defaultCacheSeconds?: number;
}

/** A client_id URL or its document cannot be used: at /authorize it is shown, at /token it is `invalid_client`. */
export class ClientMetadataDocumentError extends InvalidClientError {}

interface CacheEntry {
  client: ClientRecord;
  freshUntil: number;
}

interface FailureEntry {
  error: ClientMetadataDocumentError;
  until: number;
}

const MAX_CACHE_ENTRIES = 1000;

export interface CimdFetcher {
  enabled: boolean;
  isClientIdUrl(clientId: string): boolean;
  /**
   * The client a document describes: from the cache, or fetched once `beforeFetch` (the fetch
   * budgets) let it through. A failure is remembered for `failureCacheSeconds`.
   */
  resolve(clientId: string, beforeFetch?: () => Promise<void>): Promise<ClientRecord>;
  /**
   * The signature keys a client publishes at its `jwks_uri` (private_key_jwt), fetched with the
   * same rules and budgets as documents (`beforeFetch`), cached by the response's freshness
   * (at least `MIN_JWKS_CACHE_SECONDS`). `refresh` (an assertion names a key not in the cached
   * set: a rotated key) fetches again, at most once per `MIN_JWKS_CACHE_SECONDS` per URL.
   */
  jwks(
    uri: string,
    options?: { refresh?: boolean; beforeFetch?: () => Promise<void> },
  ): Promise<JWK[]>;
  /** Whether http URLs and loopback/private addresses are allowed (development only). */
  allowInsecure: boolean;
  clear(): void;
}

/** The shortest time a fetched key set is kept, and the least time between two fetches of one. */
const MIN_JWKS_CACHE_SECONDS = 60;

interface JwksEntry {
  keys: JWK[];
  freshUntil: number;
  /** When an unknown kid last made a fetch (epoch ms). */
  refreshedAt: number;
}

/** Caches, validates and fetches Client ID Metadata Documents. */
export function createCimdFetcher(
  options: ClientIdMetadataDocumentOptions,
  now: () => number,
): CimdFetcher {
  const allowInsecure = options.allowInsecure === true;
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 10_240;
  const maxCache = options.maxCacheSeconds ?? 86_400;
  const defaultCache = options.defaultCacheSeconds ?? 60;
  const cache = new Map<string, CacheEntry>();
  const failures = new Map<string, FailureEntry>();
  const failureMs = (options.failureCacheSeconds ?? 60) * 1000;
  const inFlight = new Map<string, Promise<ClientRecord>>();
  const enabled = options.enabled !== false;

  function isClientIdUrl(clientId: string): boolean {
    if (!enabled) return false;
    return clientId.startsWith('https://') || (allowInsecure && clientId.startsWith('http://'));
  }

  async function resolve(
    clientId: string,
    beforeFetch?: () => Promise<void>,
  ): Promise<ClientRecord> {
    const cached = cache.get(clientId);
    if (cached && cached.freshUntil > now()) return cached.client;
    const failed = failures.get(clientId);
    if (failed && failed.until > now()) throw failed.error;
    const pending = inFlight.get(clientId);
    if (pending) return pending;
    // The budgets are spent before anything leaves the server.
    await beforeFetch?.();
    const promise = fetchDocument(clientId)
      .catch((error: unknown) => {
        if (error instanceof ClientMetadataDocumentError && failureMs > 0) {
          if (failures.size >= MAX_CACHE_ENTRIES) failures.delete(failures.keys().next().value!);
          failures.set(clientId, { error, until: now() + failureMs });
        }
        throw error;
      })
      .finally(() => inFlight.delete(clientId));
    inFlight.set(clientId, promise);
    return promise;
  }

  /**
   * GETs a JSON document from `url` under every rule documents are fetched with: public
   * addresses only (the connection pinned to the checked one), no redirect, HTTP 200, at most
   * `maxBytes`, within `timeoutMs`. `what` names it in errors.
   */
  async function fetchJson(
    url: URL,
    what: string,
  ): Promise<{ json: unknown; cacheControl: string | null }> {
    const addresses = allowInsecure
      ? undefined
      : await assertPublicHost(url.hostname, options.resolveHost);
    const signal = AbortSignal.timeout(timeoutMs);
    const headers = { Accept: 'application/json' };
    let response: Response;
    try {
      const connect = options.fetch ? undefined : (options.connect ?? (await defaultConnect()));
      response =
        connect && addresses
          ? // The connection goes to the address that was checked, not to a new DNS answer.
            await connect(url.href, addresses[0]!, { signal, headers })
          : await (options.fetch ?? globalThis.fetch)(url.href, {
              redirect: 'manual',
              signal,
              headers,
            });
    } catch (error) {
      throw new ClientMetadataDocumentError(`the ${what} could not be fetched`, {
        cause: error,
      });
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => {});
      throw new ClientMetadataDocumentError(
        `the ${what} URL redirects; redirects are not followed`,
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new ClientMetadataDocumentError(`fetching the ${what} gave HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new ClientMetadataDocumentError(`the ${what} exceeds ${maxBytes} bytes`);
    }
    let bytes: Uint8Array;
    try {
      bytes = response.body
        ? await readLimited(response.body, maxBytes, () => {
            throw new ClientMetadataDocumentError(`the ${what} exceeds ${maxBytes} bytes`);
          })
        : new Uint8Array();
    } catch (error) {
      if (error instanceof ClientMetadataDocumentError) throw error;
      throw new ClientMetadataDocumentError(`the ${what} could not be read`, { cause: error });
    }
    try {
      return {
        json: JSON.parse(new TextDecoder().decode(bytes)),
        cacheControl: response.headers.get('cache-control'),
      };
    } catch {
      throw new ClientMetadataDocumentError(`the ${what} is not JSON`);
    }
  }

  async function fetchDocument(clientId: string): Promise<ClientRecord> {
    const url = checkClientIdUrl(clientId, allowInsecure);
    const { json, cacheControl } = await fetchJson(url, 'client metadata document');
    const client = toClientRecord(clientId, json, now(), allowInsecure);
    const freshFor = Math.min(freshness(cacheControl, defaultCache), maxCache);
    if (freshFor > 0) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(clientId, { client, freshUntil: now() + freshFor * 1000 });
    } else {
      cache.delete(clientId);
    }
    return client;
  }

  const keySets = new Map<string, JwksEntry>();
  const keyFailures = new Map<string, FailureEntry>();
  const keysInFlight = new Map<string, Promise<JWK[]>>();

  async function jwks(
    uri: string,
    { refresh = false, beforeFetch }: { refresh?: boolean; beforeFetch?: () => Promise<void> } = {},
  ): Promise<JWK[]> {
    const at = now();
    const cached = keySets.get(uri);
    // An unknown kid fetches again at once (a rotated key), then not again for a while: the
    // caller names the kid, and must not make us fetch on every request.
    const refreshedAt = cached?.refreshedAt ?? Number.NEGATIVE_INFINITY;
    if (cached) {
      const fresh = cached.freshUntil > at;
      if (fresh && (!refresh || at - refreshedAt < MIN_JWKS_CACHE_SECONDS * 1000)) {
        return cached.keys;
      }
    }
    const failed = keyFailures.get(uri);
    if (failed && failed.until > at) throw failed.error;
    const pending = keysInFlight.get(uri);
    if (pending) return pending;
    const problem = jwksUriProblem(uri, allowInsecure);
    if (problem) throw new ClientMetadataDocumentError(problem);
    await beforeFetch?.();
    const promise = (async () => {
      const { json, cacheControl } = await fetchJson(new URL(uri), 'jwks_uri document');
      const parsed = fetchedKeys(json);
      if ('problem' in parsed) throw new ClientMetadataDocumentError(parsed.problem);
      const freshFor = Math.max(
        Math.min(freshness(cacheControl, defaultCache), maxCache),
        MIN_JWKS_CACHE_SECONDS,
      );
      if (keySets.size >= MAX_CACHE_ENTRIES) keySets.delete(keySets.keys().next().value!);
      const fetchedAt = now();
      keySets.set(uri, {
        keys: parsed.keys,
        freshUntil: fetchedAt + freshFor * 1000,
        refreshedAt: refresh ? fetchedAt : refreshedAt,
      });
      return parsed.keys;
    })()
      .catch((error: unknown) => {
        if (error instanceof ClientMetadataDocumentError && failureMs > 0) {
          if (keyFailures.size >= MAX_CACHE_ENTRIES)
            keyFailures.delete(keyFailures.keys().next().value!);
          keyFailures.set(uri, { error, until: now() + failureMs });
        }
        throw error;
      })
      .finally(() => keysInFlight.delete(uri));
    keysInFlight.set(uri, promise);
    return promise;
  }

  return {
    enabled,
    allowInsecure,
    isClientIdUrl,
    resolve,
    jwks,
    clear: () => {
      cache.clear();
      failures.clear();
      keySets.clear();
      keyFailures.clear();
    },
  };
}

/** draft §3: https, a path, no dot segments, no fragment, no credentials; in normalised form. */
function checkClientIdUrl(clientId: string, allowInsecure: boolean): URL {
  if (!URL.canParse(clientId))
    throw new ClientMetadataDocumentError('client_id is not a valid URL');
  const url = new URL(clientId);
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    throw new ClientMetadataDocumentError('a client_id URL must use https');
  }
  if (url.username || url.password)
    throw new ClientMetadataDocumentError('a client_id URL must not contain credentials');
  if (clientId.includes('#'))
    throw new ClientMetadataDocumentError('a client_id URL must not contain a fragment');
  if (url.pathname === '/' || url.pathname === '') {
    throw new ClientMetadataDocumentError('a client_id URL must contain a path');
  }
  if (/\/\.\.?(\/|$|\?)/.test(clientId.replace(/^[a-z]+:\/\/[^/]*/i, ''))) {
    throw new ClientMetadataDocumentError('a client_id URL must not contain dot segments');
  }
  if (url.href !== clientId)
    throw new ClientMetadataDocumentError('a client_id URL must be in normalised form');
  return url;
}

/** The checked, public addresses of the host (`undefined` when no resolver is available). */
async function assertPublicHost(
  hostname: string,
  resolveHost: ResolveHost | undefined,
): Promise<string[] | undefined> {
  const host = hostname.toLowerCase();
  const literal = isPublicAddress(host);
  if (literal === false)
    throw new ClientMetadataDocumentError('the client_id URL points to a non-public address');
  if (literal === true) return [host.replace(/^\[|\]$/g, '')];
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    throw new ClientMetadataDocumentError('the client_id URL points to a non-public host');
  }
  const resolver = resolveHost ?? (await defaultResolver());
  if (!resolver) return undefined;
  let addresses: string[];
  try {
    addresses = await resolver(host);
  } catch (error) {
    throw new ClientMetadataDocumentError('the client_id host could not be resolved', {
      cause: error,
    });
  }
  if (addresses.length === 0 || addresses.some((address) => isPublicAddress(address) !== true)) {
    throw new ClientMetadataDocumentError('the client_id URL points to a non-public address');
  }
  return addresses;
}

let nodeConnect: Promise<ConnectPinned | undefined> | undefined;

/** `nodePinnedFetch` when on Node.js, loaded lazily so this entry point stays runtime-agnostic. */
function defaultConnect(): Promise<ConnectPinned | undefined> {
  nodeConnect ??= (async () => {
    const runtime = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
    if (typeof runtime?.versions?.node !== 'string') return undefined;
    try {
      const specifier = '../node/pinned-fetch.js';
      const module = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as {
        nodePinnedFetch: ConnectPinned;
      };
      return module.nodePinnedFetch;
    } catch {
      return undefined;
    }
  })();
  return nodeConnect;
}

let nodeResolver: Promise<ResolveHost | undefined> | undefined;

/** node:dns when on Node.js, loaded lazily so the entry point stays runtime-agnostic. */
function defaultResolver(): Promise<ResolveHost | undefined> {
  nodeResolver ??= (async () => {
    const runtime = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
    const isNode = typeof runtime?.versions?.node === 'string';
    if (!isNode) return undefined;
    try {
      const specifier = 'node:dns';
      const dns = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as {
        promises: {
          lookup(host: string, o: { all: true; verbatim: boolean }): Promise<{ address: string }[]>;
        };
      };
      return async (host: string) =>
        (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return undefined;
    }
  })();
  return nodeResolver;
}

function freshness(cacheControl: string | null, fallback: number): number {
  if (cacheControl === null) return fallback;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const directive of directives) {
    const match = /^max-age=(\d{1,10})$/.exec(directive);
    if (match) return Number(match[1]);
  }
  return fallback;
}

const SHARED_SECRET_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];

/**
 * How a document's client authenticates at the token endpoint: `none` (a public client, PKCE)
 * and `private_key_jwt` (an assertion signed with a key of its `jwks` or `jwks_uri`), from its
 * `token_endpoint_auth_method` and, where it offers more than one (as ChatGPT's documents do),
 * `token_endpoint_auth_methods_supported`. Shared secrets are refused (draft §4.1). A document
 * that offers `none` as well keeps working as a public client when its keys cannot be used.
 */
function authMethods(
  doc: ReturnType<typeof metadataDocumentSchema.parse>,
  allowInsecure: boolean,
): { tokenEndpointAuthMethod: 'none' | 'private_key_jwt'; metadata: Record<string, unknown> } {
  const declared = doc.token_endpoint_auth_method ?? 'none';
  if ('client_secret' in doc || SHARED_SECRET_METHODS.includes(declared)) {
    throw new ClientMetadataDocumentError(
      'a client metadata document client must not use a shared secret (token_endpoint_auth_method none or private_key_jwt)',
    );
  }
  let offered = [
    ...new Set([declared, ...(doc.token_endpoint_auth_methods_supported ?? [])]),
  ].filter(
    (method): method is 'none' | 'private_key_jwt' =>
      method === 'none' || method === 'private_key_jwt',
  );
  if (offered.length === 0) {
    throw new ClientMetadataDocumentError(
      'a client metadata document client must use token_endpoint_auth_method none or private_key_jwt',
    );
  }
  const metadata: Record<string, unknown> = {};
  if (offered.includes('private_key_jwt')) {
    const problem = keysProblem(doc, metadata, allowInsecure);
    if (problem !== undefined) {
      if (!offered.includes('none')) throw new ClientMetadataDocumentError(problem);
      offered = ['none'];
      for (const key of Object.keys(metadata)) delete metadata[key];
    }
  }
  if (offered.length > 1) metadata.token_endpoint_auth_methods = offered;
  const method = offered.find((m) => m === declared) ?? offered[0]!;
  return { tokenEndpointAuthMethod: method, metadata };
}

/** Checks a document's keys for private_key_jwt, copying them into `metadata`; the problem, if any. */
function keysProblem(
  doc: ReturnType<typeof metadataDocumentSchema.parse>,
  metadata: Record<string, unknown>,
  allowInsecure: boolean,
): string | undefined {
  const alg = doc.token_endpoint_auth_signing_alg;
  if (alg !== undefined && !(ASSERTION_SIGNING_ALGS as readonly string[]).includes(alg)) {
    return 'the client metadata document names an unsupported token_endpoint_auth_signing_alg';
  }
  if (alg !== undefined) metadata.token_endpoint_auth_signing_alg = alg;
  if (doc.jwks !== undefined && doc.jwks_uri !== undefined) {
    return 'a client metadata document must not have both jwks and jwks_uri';
  }
  if (doc.jwks !== undefined) {
    const keys = registeredKeys(doc.jwks);
    if ('problem' in keys) return `the client metadata document's ${keys.problem}`;
    metadata.jwks = { keys: keys.keys };
    return undefined;
  }
  if (doc.jwks_uri !== undefined) {
    const problem = jwksUriProblem(doc.jwks_uri, allowInsecure);
    if (problem) return `the client metadata document's ${problem}`;
    metadata.jwks_uri = doc.jwks_uri;
    return undefined;
  }
  return 'a private_key_jwt client metadata document needs jwks or jwks_uri';
}

/** draft §4: the document's client_id must equal the URL exactly; no shared-secret auth. */
function toClientRecord(
  clientId: string,
  json: unknown,
  now: number,
  allowInsecure: boolean,
): ClientRecord {
  const parsed = metadataDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? 'document').replace(/[^a-z_]/g, '');
    throw new ClientMetadataDocumentError(
      `the client metadata document has an invalid ${field || 'field'}`,
    );
  }
  const doc = parsed.data;
  if (doc.client_id !== clientId) {
    throw new ClientMetadataDocumentError(
      'the client_id in the metadata document differs from its URL',
    );
  }
  const { tokenEndpointAuthMethod, metadata } = authMethods(doc, allowInsecure);
  for (const uri of doc.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem)
      throw new ClientMetadataDocumentError(
        `a redirect_uri in the client metadata document ${problem}`,
      );
  }
  const grantTypes = doc.grant_types?.filter(
    (g) => g === 'authorization_code' || g === 'refresh_token',
  ) ?? ['authorization_code', 'refresh_token'];
  return {
    clientId,
    redirectUris: doc.redirect_uris,
    tokenEndpointAuthMethod,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    grantTypes,
    responseTypes: ['code'],
    applicationType: doc.application_type,
    clientName: doc.client_name,
    clientUri: doc.client_uri,
    logoUri: doc.logo_uri,
    scope: doc.scope,
    clientIdIssuedAt: 0,
    createdAt: now,
    expiresAt: null,
  };
}
