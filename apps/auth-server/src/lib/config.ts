import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { redirectUriProblem, USER_CLAIM_NAMES, type UserClaimName } from '@portcullis/oauth-server';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { type ClientCredentialsConfig, clientCredentialsConfig } from './machine-clients';

/**
 * The app's configuration, read from the environment at run time (never inlined at build time,
 * so one `next build` serves every deployment). `loadConfig()` validates everything once and
 * throws a `ConfigError` whose message is one line naming the offending variable.
 */

export { ConfigError } from './config-error';

export type StorageConfig =
  | { kind: 'pglite'; dir: string }
  | { kind: 'postgres'; url: string; schema: string }
  | { kind: 'redis'; url: string; prefix: string };

/**
 * Where the caller's address comes from, for per-address rate limits:
 * - `socket`: the TCP peer (nothing in front of the app, or nothing trusted);
 * - `vercel`: the `x-real-ip` header Vercel's edge writes (it overwrites what the client sent);
 * - `hops`: that many proxies append to `X-Forwarded-For`; the entry that many places from the
 *   right of "X-Forwarded-For, socket peer" is the caller;
 * - `addresses`: the proxies' own addresses; walking from the right, the first address that is
 *   not one of them is the caller.
 */
export type TrustProxy =
  | { kind: 'socket' }
  | { kind: 'vercel' }
  | { kind: 'hops'; hops: number }
  | { kind: 'addresses'; addresses: string[] };

export interface Config {
  /** Deployed: on Vercel, or NODE_ENV=production with an issuer that is not a loopback address. */
  production: boolean;
  vercel: boolean;
  issuer: string;
  resources: string[];
  nextauthUrl: string;
  nextauthSecret: string;
  dataDir: string;
  storage: StorageConfig;
  /** Rate limits (and the token store when no DATABASE_URL) live here when set. */
  redisUrl?: string | undefined;
  /** Namespace of every key this app writes to Redis (tokens and rate limits). */
  redisPrefix: string;
  /** `REDIS_URL` names seed nodes of a Redis Cluster (comma-separated), reached with ioredis `Cluster`. */
  redisCluster: boolean;
  signingKey?: string | undefined;
  keyEncryptionSecret?: string | undefined;
  /** DPoP server nonces (RFC 9449 §8) when set: the HMAC secret every instance shares. */
  dpopNonceSecret?: string | undefined;
  devLogin: boolean;
  auth0?: { issuer: string; clientId: string; clientSecret: string } | undefined;
  firebase?:
    | {
        projectId: string;
        apiKey: string;
        authDomain: string;
        emulatorHost?: string | undefined;
        /** Where Firebase ID tokens' signing keys are fetched (`FIREBASE_JWKS_URL`); Google's by default. */
        jwksUrl?: string | undefined;
      }
    | undefined;
  accessTokenTtlSeconds?: number | undefined;
  refreshTokenTtlSeconds?: number | undefined;
  /** Seconds a rotated refresh token still gets the same successor (0 = off); library default 30. */
  refreshTokenGraceSeconds?: number | undefined;
  /** Absolute lifetime of a grant in seconds; library default 7 776 000 (90 days). */
  grantMaxLifetimeSeconds?: number | undefined;
  /** How long a dynamically registered client that is never used is kept (0 = always); library default 30 days. */
  dcrClientTtlSeconds?: number | undefined;
  /** Clients allowed to introspect tokens and read the revocation feed (resource servers); nobody else may. */
  introspectionClientIds: string[];
  /** User claims access tokens carry when their scopes release them (`ACCESS_TOKEN_CLAIMS`); none by default. */
  accessTokenClaims: UserClaimName[];
  cimdAllowInsecure: boolean;
  /** Where the caller's address for per-address limits comes from (`TRUST_PROXY`). */
  trustProxy: TrustProxy;
  /** Development mode answers connections from other machines too (`DEV_ALLOW_REMOTE`). */
  devAllowRemote: boolean;
  /** The guide's OAUTH_CLIENT_ID/SECRET/REDIRECT_URI: one client registered at start-up. */
  staticClient?: { clientId: string; clientSecret?: string; redirectUri: string } | undefined;
  /** Machine clients and the dynamic registration allowance of the client credentials grant. */
  clientCredentials: ClientCredentialsConfig;
}

type Env = Record<string, string | undefined>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a URL points at this machine (http allowed there, development defaults apply). */
export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

function fail(variable: string, message: string): never {
  throw new ConfigError(variable, message);
}

/** Empty strings count as unset: `.env` files often carry `NAME=`. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function url(env: Env, name: string, fallback?: string): string | undefined {
  const value = read(env, name) ?? fallback;
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    fail(name, `must be an absolute URL (got "${value.slice(0, 80)}")`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    fail(name, `must be an http(s) URL (got "${parsed.protocol}")`);
  }
  if (parsed.search || parsed.hash) fail(name, 'must not have a query or fragment');
  // RFC 8414 §2: the issuer is compared as a string, so one canonical form without trailing "/".
  return parsed.href.replace(/\/$/, '');
}

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

function bool(env: Env, name: string): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const parsed = flag.safeParse(value.toLowerCase());
  if (!parsed.success) fail(name, `must be true or false (got "${value.slice(0, 20)}")`);
  return parsed.data;
}

function positive(env: Env, name: string, integer: boolean): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    fail(
      name,
      `must be a positive ${integer ? 'integer' : 'number'} (got "${value.slice(0, 20)}")`,
    );
  }
  return n;
}

function nonNegativeInteger(env: Env, name: string): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    fail(name, `must be a whole number of seconds, 0 or more (got "${value.slice(0, 20)}")`);
  }
  return n;
}

function secret(env: Env, name: string): string | undefined {
  const value = read(env, name);
  if (value !== undefined && value.length < 32) {
    fail(name, 'must be at least 32 characters (try: openssl rand -base64 32)');
  }
  return value;
}

function signingKey(env: Env): string | undefined {
  const value = read(env, 'SIGNING_KEY');
  if (value === undefined) return undefined;
  if (value.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(value);
    } catch {
      fail('SIGNING_KEY', 'is not valid JSON (expected a private JWK or a PEM key)');
    }
    if (typeof jwk !== 'object' || jwk === null || !('kty' in jwk) || !('d' in jwk)) {
      fail('SIGNING_KEY', 'must be a private JWK (with "kty" and "d")');
    }
    return value;
  }
  // Environment UIs often flatten newlines to "\n".
  const pem = value.replace(/\\n/g, '\n');
  if (!/-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(pem)) {
    fail('SIGNING_KEY', 'must be a private JWK (JSON) or a PKCS#8 PEM private key');
  }
  return pem;
}

/**
 * `TRUST_PROXY`: unset → the socket (Vercel: its `x-real-ip`); `false`/`0` → the socket;
 * `true` or a count → that many proxies; a comma-separated list → the proxies' addresses.
 */
function trustProxy(env: Env, vercel: boolean): TrustProxy {
  const value = read(env, 'TRUST_PROXY');
  if (value === undefined) return vercel ? { kind: 'vercel' } : { kind: 'socket' };
  const lower = value.toLowerCase();
  if (['false', 'no', 'off', '0'].includes(lower)) return { kind: 'socket' };
  if (['true', 'yes', 'on'].includes(lower)) return { kind: 'hops', hops: 1 };
  if (/^\d{1,2}$/.test(value)) return { kind: 'hops', hops: Number(value) };
  const addresses = value.split(',').map((a) => a.trim());
  const bad = addresses.find((a) => isIP(a) === 0);
  if (bad !== undefined) {
    fail(
      'TRUST_PROXY',
      `must be false, true, a number of proxies, or their IP addresses separated by commas (got "${bad.slice(0, 45)}")`,
    );
  }
  return { kind: 'addresses', addresses };
}

/** The development NEXTAUTH_SECRET: generated once, kept (0600) in the data directory. */
function persistedSecret(dataDir: string, file: string): string {
  const target = path.join(dataDir, file);
  try {
    return readFileSync(target, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const value = randomBytes(32).toString('base64url');
    try {
      writeFileSync(target, `${value}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      // Another process won the race: use what it wrote.
      return readFileSync(target, 'utf8').trim();
    }
    chmodSync(target, 0o600);
    return value;
  }
}

/**
 * Reads and validates the whole configuration.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError('Invalid configuration: ISSUER_URL …')
 */
export function loadConfig(env: Env = process.env): Config {
  const vercel = read(env, 'VERCEL') === '1';
  const issuer = url(env, 'ISSUER_URL', 'http://localhost:3000')!;
  const production = vercel || (env.NODE_ENV === 'production' && !isLoopbackUrl(issuer));
  if (production && !issuer.startsWith('https://')) {
    fail('ISSUER_URL', 'must be https in production (OAuth 2.1 §1.5)');
  }

  const resourceList = (read(env, 'MCP_RESOURCE_URL') ?? 'http://localhost:8000/mcp')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (resourceList.length === 0) fail('MCP_RESOURCE_URL', 'must list at least one URL');
  const resources = resourceList.map((r) => {
    try {
      const u = new URL(r);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      if (u.hash) throw new Error();
      return u.href;
    } catch {
      return fail('MCP_RESOURCE_URL', `has an entry that is not an http(s) URL: "${r}"`);
    }
  });

  // The data directory is chosen at run time; tell the bundler not to trace it.
  const dataDir = path.resolve(
    /*turbopackIgnore: true*/ process.cwd(),
    read(env, 'DATA_DIR') ?? '.data',
  );
  const nextauthUrl = url(env, 'NEXTAUTH_URL', issuer)!;
  if (production && !nextauthUrl.startsWith('https://')) {
    fail('NEXTAUTH_URL', 'must be https in production (secure, __Host- cookies)');
  }
  let nextauthSecret = secret(env, 'NEXTAUTH_SECRET');
  if (!nextauthSecret) {
    if (production) fail('NEXTAUTH_SECRET', 'is required in production (openssl rand -base64 32)');
    nextauthSecret = persistedSecret(dataDir, 'nextauth-secret');
  }

  const databaseUrl = read(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    fail('DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const redisUrl = read(env, 'REDIS_URL');
  const redisCluster = bool(env, 'REDIS_CLUSTER') ?? false;
  if (redisCluster && !redisUrl) fail('REDIS_URL', 'is required when REDIS_CLUSTER is on');
  // A cluster is reached through one or more seed nodes; a single Redis through one URL.
  for (const seed of redisCluster ? (redisUrl ?? '').split(',') : redisUrl ? [redisUrl] : []) {
    if (!/^rediss?:\/\//.test(seed.trim())) {
      fail(
        'REDIS_URL',
        redisCluster
          ? 'must be redis:// or rediss:// URLs of cluster nodes, separated by commas'
          : 'must be a redis:// or rediss:// URL',
      );
    }
  }
  const schema = read(env, 'DATABASE_SCHEMA') ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    fail('DATABASE_SCHEMA', 'must be a lower-case SQL identifier');
  }
  const redisPrefix = read(env, 'REDIS_PREFIX') ?? 'portcullis:';
  if (!/^[\w:.-]{1,64}$/.test(redisPrefix)) fail('REDIS_PREFIX', 'must be 1-64 of [A-Za-z0-9_:.-]');
  const storage: StorageConfig = databaseUrl
    ? { kind: 'postgres', url: databaseUrl, schema }
    : redisUrl
      ? { kind: 'redis', url: redisUrl, prefix: redisPrefix }
      : { kind: 'pglite', dir: path.join(dataDir, 'pglite') };

  const key = signingKey(env);
  const keyEncryptionSecret = secret(env, 'KEY_ENCRYPTION_SECRET');
  if (vercel) {
    if (storage.kind === 'pglite') {
      fail(
        'DATABASE_URL',
        'or REDIS_URL is required on Vercel (VERCEL=1): the embedded PGlite and memory stores do not survive serverless instances',
      );
    }
    if (!key)
      fail('SIGNING_KEY', 'is required on Vercel (VERCEL=1); see README "Deploy to Vercel"');
  }
  if (production && !keyEncryptionSecret) {
    fail('KEY_ENCRYPTION_SECRET', 'is required in production (it seals signing keys at rest)');
  }

  const devLogin = bool(env, 'DEV_LOGIN') ?? !production;

  const auth0Domain = read(env, 'AUTH0_DOMAIN');
  const auth0IssuerRaw = url(env, 'AUTH0_ISSUER');
  const auth0ClientId = read(env, 'AUTH0_CLIENT_ID');
  const auth0ClientSecret = read(env, 'AUTH0_CLIENT_SECRET');
  let auth0: Config['auth0'];
  if (auth0Domain || auth0IssuerRaw || auth0ClientId || auth0ClientSecret) {
    if (!auth0Domain && !auth0IssuerRaw)
      fail('AUTH0_DOMAIN', 'is required when Auth0 is configured');
    if (!auth0ClientId) fail('AUTH0_CLIENT_ID', 'is required when Auth0 is configured');
    if (!auth0ClientSecret) fail('AUTH0_CLIENT_SECRET', 'is required when Auth0 is configured');
    const domain = auth0Domain?.replace(/^https?:\/\//, '').replace(/\/$/, '');
    if (domain !== undefined && !/^[\w.-]+(:\d+)?$/.test(domain)) {
      fail(
        'AUTH0_DOMAIN',
        `must be a host name like tenant.eu.auth0.com (got "${domain.slice(0, 60)}")`,
      );
    }
    const auth0Issuer = auth0IssuerRaw ?? `https://${domain}`;
    auth0 = { issuer: auth0Issuer, clientId: auth0ClientId, clientSecret: auth0ClientSecret };
  }

  const projectId = read(env, 'FIREBASE_PROJECT_ID');
  const apiKey = read(env, 'FIREBASE_API_KEY');
  const emulatorHost = read(env, 'FIREBASE_AUTH_EMULATOR_HOST');
  let firebase: Config['firebase'];
  if (projectId || apiKey) {
    if (!projectId) fail('FIREBASE_PROJECT_ID', 'is required when FIREBASE_API_KEY is set');
    if (!apiKey) {
      fail(
        'FIREBASE_API_KEY',
        "is required with FIREBASE_PROJECT_ID: the login page signs in through the Firebase web SDK, which needs the web app's apiKey (Firebase console → Project settings → Your apps); FIREBASE_PRIVATE_KEY and FIREBASE_CLIENT_EMAIL are not needed",
      );
    }
    if (!/^[a-z0-9-]{4,40}$/.test(projectId)) {
      fail('FIREBASE_PROJECT_ID', `is not a Firebase project id (got "${projectId.slice(0, 40)}")`);
    }
    if (emulatorHost) {
      if (production) fail('FIREBASE_AUTH_EMULATOR_HOST', 'must not be set in production');
      if (!/^[\w.-]+:\d+$/.test(emulatorHost)) {
        fail('FIREBASE_AUTH_EMULATOR_HOST', 'must be host:port (e.g. 127.0.0.1:9099)');
      }
    }
    const jwksUrl = read(env, 'FIREBASE_JWKS_URL');
    if (jwksUrl) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(jwksUrl);
      } catch {
        parsed = undefined;
      }
      const loopbackHttp = parsed?.protocol === 'http:' && isLoopbackUrl(jwksUrl) && !production;
      if (!parsed || (parsed.protocol !== 'https:' && !loopbackHttp)) {
        fail(
          'FIREBASE_JWKS_URL',
          'must be an https URL (http only on a loopback address outside production)',
        );
      }
    }
    firebase = {
      projectId,
      apiKey,
      authDomain: read(env, 'FIREBASE_AUTH_DOMAIN') ?? `${projectId}.firebaseapp.com`,
      emulatorHost,
      jwksUrl,
    };
  } else if (emulatorHost) {
    fail('FIREBASE_PROJECT_ID', 'is required when FIREBASE_AUTH_EMULATOR_HOST is set');
  }

  if (!devLogin && !auth0 && !firebase) {
    fail(
      'DEV_LOGIN',
      'is off and neither Auth0 (AUTH0_*) nor Firebase (FIREBASE_*) is configured: nobody could sign in',
    );
  }

  const hours = positive(env, 'TOKEN_EXPIRY_HOURS', false);
  const accessTokenTtlSeconds =
    positive(env, 'ACCESS_TOKEN_TTL_SECONDS', true) ??
    (hours === undefined ? undefined : Math.round(hours * 3600));

  const cimdAllowInsecure = bool(env, 'CIMD_ALLOW_INSECURE') ?? false;
  if (cimdAllowInsecure && production) {
    fail('CIMD_ALLOW_INSECURE', 'must not be enabled in production');
  }

  const staticClientId = read(env, 'OAUTH_CLIENT_ID');
  // Kept byte for byte: redirect URIs are compared exactly (OAuth 2.1 §4.1.1).
  const staticRedirect = read(env, 'OAUTH_REDIRECT_URI');
  let staticClient: Config['staticClient'];
  if (staticClientId || staticRedirect) {
    if (!staticClientId) fail('OAUTH_CLIENT_ID', 'is required when OAUTH_REDIRECT_URI is set');
    if (!staticRedirect) fail('OAUTH_REDIRECT_URI', 'is required when OAUTH_CLIENT_ID is set');
    if (!/^[\x21-\x7e]{1,255}$/.test(staticClientId)) {
      fail('OAUTH_CLIENT_ID', 'must be 1-255 printable ASCII characters without spaces');
    }
    if (/^https?:\/\//i.test(staticClientId)) {
      fail(
        'OAUTH_CLIENT_ID',
        'must not be a URL (a URL client_id is a Client ID Metadata Document)',
      );
    }
    // The rule /register applies to every dynamically registered client (RFC 7591 §2).
    const problem = redirectUriProblem(staticRedirect);
    if (problem) fail('OAUTH_REDIRECT_URI', `${problem} (got "${staticRedirect.slice(0, 80)}")`);
    const clientSecret = secret(env, 'OAUTH_CLIENT_SECRET');
    staticClient = {
      clientId: staticClientId,
      redirectUri: staticRedirect,
      ...(clientSecret ? { clientSecret } : {}),
    };
  }

  return {
    production,
    vercel,
    issuer,
    resources,
    nextauthUrl,
    nextauthSecret,
    dataDir,
    storage,
    redisUrl,
    redisPrefix,
    redisCluster,
    signingKey: key,
    keyEncryptionSecret,
    dpopNonceSecret: secret(env, 'DPOP_NONCE_SECRET'),
    devLogin,
    auth0,
    firebase,
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds: positive(env, 'REFRESH_TOKEN_TTL_SECONDS', true),
    refreshTokenGraceSeconds: nonNegativeInteger(env, 'REFRESH_TOKEN_GRACE_SECONDS'),
    grantMaxLifetimeSeconds: positive(env, 'GRANT_MAX_LIFETIME_SECONDS', true),
    dcrClientTtlSeconds: nonNegativeInteger(env, 'DCR_CLIENT_TTL_SECONDS'),
    introspectionClientIds: (read(env, 'INTROSPECTION_CLIENT_IDS') ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    accessTokenClaims: accessTokenClaims(env),
    cimdAllowInsecure,
    trustProxy: trustProxy(env, vercel),
    devAllowRemote: bool(env, 'DEV_ALLOW_REMOTE') ?? false,
    staticClient,
    clientCredentials: clientCredentialsConfig(
      env,
      staticClient ? [staticClient.clientId] : [],
      cimdAllowInsecure,
    ),
  };
}

/** `ACCESS_TOKEN_CLAIMS=email,name`: user claims the library may copy into access tokens. */
function accessTokenClaims(env: Env): UserClaimName[] {
  const names = (read(env, 'ACCESS_TOKEN_CLAIMS') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(USER_CLAIM_NAMES as readonly string[]).includes(name)) {
      fail(
        'ACCESS_TOKEN_CLAIMS',
        `lists "${name.slice(0, 40)}", which is not a user claim (known: ${USER_CLAIM_NAMES.join(', ')})`,
      );
    }
  }
  return names as UserClaimName[];
}

const CONFIG = Symbol.for('portcullis.auth-server.config');
type WithConfig = typeof globalThis & { [CONFIG]?: Config };

/**
 * The validated configuration of this process, read on first use. next-auth reads
 * NEXTAUTH_URL from the environment itself, so the default is written back there.
 */
export function getConfig(): Config {
  const g = globalThis as WithConfig;
  if (!g[CONFIG]) {
    const config = loadConfig(process.env);
    process.env.NEXTAUTH_URL ??= config.nextauthUrl;
    g[CONFIG] = config;
  }
  return g[CONFIG];
}
