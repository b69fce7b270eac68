import {
  DEFAULT_REFRESH_GRACE_SECONDS,
  DEFAULT_REVOCATION_OVERLAP_SECONDS,
  DEFAULT_TTL,
  MAX_REVOCATION_PAGE,
} from '@portcullis/token-store';
import type { AuthorizationServerOptions } from '../options.js';
import { createEmitter, type Emit } from './audit.js';
import { type CimdFetcher, createCimdFetcher } from './cimd.js';
import { type ClientCredentialsConfig, clientCredentialsConfig } from './client-credentials.js';
import { type DpopConfig, dpopConfig } from './dpop.js';
import { forwardedForReader } from './forwarded-for.js';
import { createKeyManager, type KeyManager } from './keys.js';
import { standardRequest } from './node-bridge.js';
import { type OpenIdConfig, openIdConfig } from './openid.js';
import { createLimits, type Limits } from './rate-limits.js';
import { isLoopbackHost } from './redirect-uri.js';
import type { AuthorizationServerStore, ClientRecord } from './store.js';
import type { TracerLike } from './tracing.js';
import { invalidArg, invalidArgType } from './type-error.js';

export interface Endpoints {
  authorization: string;
  token: string;
  registration: string;
  revocation: string;
  introspection: string;
  jwks: string;
  userinfo: string;
  /** The revocation feed, when enabled. */
  revocationFeed: string | undefined;
}

/** The revocation feed's validated configuration. */
export interface RevocationFeedConfig {
  /** Path under the issuer's path, e.g. `/revocations`. */
  path: string;
  overlapSeconds: number;
  pageSize: number;
}

/** The validated configuration every endpoint shares. */
export interface Context {
  issuer: string;
  /** The issuer's path without a trailing slash ('' at the root). */
  issuerPath: string;
  endpoints: Endpoints;
  store: AuthorizationServerStore;
  resources: { uri: string; scopes: string[] }[];
  scopes: Record<string, string>;
  defaultScopes: string[] | undefined;
  keys: KeyManager;
  cimd: CimdFetcher;
  accessTokenFormat: 'jwt' | 'opaque';
  ttl: { authorizationCode: number; accessToken: number; refreshToken: number; grant: number };
  refreshGraceSeconds: number;
  allowRegistration: boolean;
  /** The client credentials grant's configuration. */
  clientCredentials: ClientCredentialsConfig;
  clientSecretTtlSeconds: number;
  dynamicClientTtlSeconds: number;
  /** The revocation feed, when enabled (JWT access tokens only). */
  revocationFeed: RevocationFeedConfig | undefined;
  /** Whether an authenticated confidential client may introspect (and read the revocation feed). */
  mayIntrospect: (client: ClientRecord) => boolean;
  maxBodyBytes: number;
  cors: boolean;
  limits: Limits;
  getClientIp: (request: Request) => string | undefined;
  interaction: AuthorizationServerOptions['interaction'];
  /** OpenID Connect, when configured. */
  openid: OpenIdConfig | undefined;
  /** DPoP (RFC 9449) at the token endpoint; `undefined` when turned off. */
  dpop: DpopConfig | undefined;
  /** Sends an audit event to the `audit` option (a no-op without one). */
  audit: Emit;
  /** The OpenTelemetry tracer, when there is one (set by createAuthorizationServer). */
  tracer: TracerLike | undefined;
  now: () => number;
}

export const PATHS = {
  authorization: '/authorize',
  token: '/token',
  registration: '/register',
  revocation: '/revoke',
  introspection: '/introspect',
  jwks: '/jwks.json',
  userinfo: '/userinfo',
} as const;

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

function positiveSeconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidArg(`"${name}" must be a positive number of seconds`);
  }
  return value;
}

function nonNegativeSeconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidArg(`"${name}" must be a number of seconds, 0 or more`);
  }
  return value;
}

function introspectionPolicy(
  options: AuthorizationServerOptions['introspection'],
): (client: ClientRecord) => boolean {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgType('"introspection" must be an object { clientIds?, allow? }');
  }
  const ids = options?.clientIds ?? [];
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw invalidArgType('"introspection.clientIds" must be an array of client ids');
  }
  const allow = options?.allow;
  if (allow !== undefined && typeof allow !== 'function') {
    throw invalidArgType('"introspection.allow" must be a function of the client');
  }
  const listed = new Set(ids);
  return (client) =>
    listed.has(client.clientId) ||
    client.metadata?.introspection === true ||
    (allow?.(client) ?? false);
}

const FEED_PATH = /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

function revocationFeedConfig(
  option: AuthorizationServerOptions['revocationFeed'],
  format: 'jwt' | 'opaque',
  store: AuthorizationServerOptions['store'],
): RevocationFeedConfig | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw invalidArgType('"revocationFeed" must be true or { path?, overlapSeconds?, pageSize? }');
  }
  const given = option === true ? {} : option;
  if (format !== 'jwt') {
    throw invalidArg(
      '"revocationFeed" needs accessTokenFormat "jwt": opaque access tokens are checked by introspection, which knows of revocations already',
    );
  }
  if (typeof store.revocations?.list !== 'function' || store.revocations.supported === false) {
    throw invalidArgType(
      '"revocationFeed" needs a store that keeps one (store.revocations, @portcullis/token-store with one of its adapters)',
    );
  }
  const path = given.path ?? '/revocations';
  if (
    typeof path !== 'string' ||
    !FEED_PATH.test(path) ||
    path.length > 200 ||
    path.split('/').some((segment) => segment === '.' || segment === '..')
  ) {
    throw invalidArg('"revocationFeed.path" must be a path such as "/revocations"');
  }
  if ((Object.values(PATHS) as string[]).includes(path)) {
    throw invalidArg(`"revocationFeed.path" ${path} is another endpoint's`);
  }
  const pageSize = given.pageSize ?? MAX_REVOCATION_PAGE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_REVOCATION_PAGE) {
    throw invalidArg(
      `"revocationFeed.pageSize" must be an integer from 1 to ${MAX_REVOCATION_PAGE}`,
    );
  }
  return {
    path,
    overlapSeconds: nonNegativeSeconds(
      given.overlapSeconds,
      'revocationFeed.overlapSeconds',
      DEFAULT_REVOCATION_OVERLAP_SECONDS,
    ),
    pageSize,
  };
}

/** The caller's `getClientIp`, always given a standard Request (see node-bridge.ts). */
function clientIpOption(
  option: AuthorizationServerOptions['getClientIp'],
): Context['getClientIp'] | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'function') throw invalidArgType('"getClientIp" must be a function');
  return (request) => option(standardRequest(request));
}

/**
 * `getClientIp` worked out once per request: a request's limits (per address, per client ×
 * address), its CIMD fetch budget and its audit event all ask. A throw is not kept.
 */
function oncePerRequest(getClientIp: Context['getClientIp']): Context['getClientIp'] {
  const known = new WeakMap<Request, string | undefined>();
  return (request) => {
    if (known.has(request)) return known.get(request);
    const ip = getClientIp(request);
    known.set(request, ip);
    return ip;
  };
}

/** Validates options (a caller's mistake throws TypeError) and builds the shared context. */
export function createContext(options: AuthorizationServerOptions): Context {
  if (typeof options !== 'object' || options === null)
    throw invalidArgType('options must be an object');
  const { issuer } = options;
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) {
    throw invalidArgType('"issuer" must be an absolute URL string');
  }
  const url = new URL(issuer);
  if (url.search || url.hash || issuer.includes('?') || issuer.includes('#')) {
    throw invalidArg('"issuer" must not have a query or fragment (RFC 8414 §2)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw invalidArg('"issuer" must use https (http only on localhost, 127.0.0.1 or [::1])');
  }
  const base = issuer.replace(/\/+$/, '');
  const issuerPath = url.pathname.replace(/\/+$/, '');

  if (typeof options.store !== 'object' || options.store === null) {
    throw invalidArgType('"store" must be a TokenStore from @portcullis/token-store');
  }
  if (typeof options.scopes !== 'object' || options.scopes === null) {
    throw invalidArgType('"scopes" must be an object of scope → description');
  }
  for (const scope of Object.keys(options.scopes)) {
    if (!SCOPE_TOKEN.test(scope))
      throw invalidArg(`scope "${scope}" is not a valid scope-token (RFC 6749 §3.3)`);
  }
  const known = Object.keys(options.scopes);
  if (!Array.isArray(options.resources) || options.resources.length === 0) {
    throw invalidArgType('"resources" must be a non-empty array of { uri, scopes? }');
  }
  const resources = options.resources.map((r) => {
    if (typeof r?.uri !== 'string' || !URL.canParse(r.uri) || r.uri.includes('#')) {
      throw invalidArg(
        'each resource "uri" must be an absolute URL without fragment (RFC 8707 §2)',
      );
    }
    const scopes = r.scopes ?? known;
    for (const s of scopes)
      if (!known.includes(s)) throw invalidArg(`resource scope "${s}" is not in "scopes"`);
    return { uri: r.uri, scopes: [...scopes] };
  });
  if (options.defaultScopes !== undefined) {
    if (!Array.isArray(options.defaultScopes))
      throw invalidArgType('"defaultScopes" must be an array');
    for (const s of options.defaultScopes) {
      if (!known.includes(s)) throw invalidArg(`default scope "${s}" is not in "scopes"`);
    }
  }
  const format = options.accessTokenFormat ?? 'jwt';
  if (format !== 'jwt' && format !== 'opaque')
    throw invalidArg('"accessTokenFormat" must be "jwt" or "opaque"');
  const now = options.now ?? Date.now;
  // The defaults are token-store's (one definition); the store cuts every token at the grant's end.
  const ttl = {
    authorizationCode: positiveSeconds(
      options.ttl?.authorizationCode,
      'ttl.authorizationCode',
      DEFAULT_TTL.authorizationCode,
    ),
    accessToken: positiveSeconds(
      options.ttl?.accessToken,
      'ttl.accessToken',
      DEFAULT_TTL.accessToken,
    ),
    refreshToken: positiveSeconds(
      options.ttl?.refreshToken,
      'ttl.refreshToken',
      DEFAULT_TTL.refreshToken,
    ),
    grant: positiveSeconds(options.ttl?.grant, 'ttl.grant', DEFAULT_TTL.grant),
  };
  const grace = options.refreshGraceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS;
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
    throw invalidArg('"refreshGraceSeconds" must be a number of seconds, 0 or more');
  }
  const fromForwardedFor = forwardedForReader(options.trustProxy ?? false);
  const revocationFeed = revocationFeedConfig(options.revocationFeed, format, options.store);
  return {
    issuer,
    issuerPath,
    endpoints: {
      authorization: base + PATHS.authorization,
      token: base + PATHS.token,
      registration: base + PATHS.registration,
      revocation: base + PATHS.revocation,
      introspection: base + PATHS.introspection,
      jwks: base + PATHS.jwks,
      userinfo: base + PATHS.userinfo,
      revocationFeed: revocationFeed && base + revocationFeed.path,
    },
    store: options.store,
    resources,
    scopes: { ...options.scopes },
    defaultScopes: options.defaultScopes ? [...options.defaultScopes] : undefined,
    keys: createKeyManager({
      store: options.store,
      signingKey: options.signingKey,
      now,
      accessTokenTtlSeconds: ttl.accessToken,
    }),
    cimd: createCimdFetcher(options.clientIdMetadataDocuments ?? {}, now),
    accessTokenFormat: format,
    ttl,
    refreshGraceSeconds: grace,
    allowRegistration: options.allowDynamicRegistration !== false,
    clientCredentials: clientCredentialsConfig(options.clientCredentials, known),
    clientSecretTtlSeconds: options.clientSecretTtlSeconds ?? 0,
    mayIntrospect: introspectionPolicy(options.introspection),
    revocationFeed,
    dynamicClientTtlSeconds: nonNegativeSeconds(
      options.dynamicClientTtlSeconds,
      'dynamicClientTtlSeconds',
      2_592_000,
    ),
    maxBodyBytes: options.maxBodyBytes ?? 32_768,
    cors: options.cors !== false,
    limits: createLimits(options.rateLimit, now),
    getClientIp: oncePerRequest(clientIpOption(options.getClientIp) ?? fromForwardedFor),
    interaction: options.interaction,
    openid: openIdConfig(options.openid),
    dpop: dpopConfig(options.dpop, options.store, options.signingKey, now),
    audit: createEmitter(options.audit, now),
    tracer: undefined,
    now,
  };
}
