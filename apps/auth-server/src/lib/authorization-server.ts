import type { AuthorizationServer } from '@portcullis/oauth-server';
import type { TokenStore } from '@portcullis/token-store';
import { addressKey, requestAddress } from './client-address';
import { type Config, getConfig } from './config';
import { log } from './log';
import { DEFAULT_SCOPES, SCOPES } from './scopes';
import {
  recordInBackground,
  redisSecurityEvents,
  type SecurityEventLog,
  securityEventOf,
  sqlSecurityEvents,
} from './security-events';
import { postgresLock, redisLock, type StartupLock } from './startup-lock';
import { redisUsers, sqlUsers, type UserDirectory } from './users';

export { DEFAULT_SCOPES, SCOPES } from './scopes';

export interface Server {
  as: AuthorizationServer;
  store: TokenStore;
  config: Config;
  /** Each user's recent security activity, shown on /account. */
  events: SecurityEventLog;
  /** Who signed in: opaque subs and the claims their providers vouched for. */
  users: UserDirectory;
}

/** The server could not be created (its store unreachable, most often); the next request retries. */
export class ServerStartError extends Error {
  constructor(cause: unknown) {
    super(`the authorization server could not start: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = 'ServerStartError';
  }
}

const SERVER = Symbol.for('portcullis.auth-server.instance');
type WithServer = typeof globalThis & { [SERVER]?: Promise<Server> };

/**
 * The process's authorization server and token store, created on the first request (never at
 * import: `next build` imports every route). Kept on globalThis because Next.js may evaluate
 * this module once per route bundle, and two PGlite instances on one directory would corrupt it.
 *
 * @example
 * const { as } = await getServer();
 * return (await as.handle(request)) ?? new Response(null, { status: 404 });
 */
export function getServer(): Promise<Server> {
  const g = globalThis as WithServer;
  if (!g[SERVER]) {
    g[SERVER] = createServer(getConfig()).catch((error: unknown) => {
      // Let the next request try again (a database that was down may be back).
      delete g[SERVER];
      throw new ServerStartError(error);
    });
  }
  return g[SERVER];
}

async function createServer(config: Config): Promise<Server> {
  const closers: (() => Promise<unknown>)[] = [];
  const { createTokenStore, hashSecret } = await import('@portcullis/token-store');

  let adapter: Parameters<typeof createTokenStore>[0]['adapter'];
  let pgPool: import('pg').Pool | undefined;
  // Instances sharing a store take turns to start (PGlite has one process anyway).
  let startupLock: StartupLock = (run) => run();
  let events: SecurityEventLog;
  let users: UserDirectory;
  if (config.storage.kind === 'postgres') {
    const [{ default: pg }, { postgresAdapter }] = await Promise.all([
      import('pg'),
      import('@portcullis/token-store/postgres'),
    ]);
    // pg's default of 10: with 5, concurrent grants (several queries each) waited for a
    // connection while the process sat half idle (e2e token bench, 24 clients).
    const pool = new pg.Pool({ connectionString: config.storage.url, max: 10 });
    closers.push(() => pool.end());
    adapter = postgresAdapter(pool, { schema: config.storage.schema });
    events = sqlSecurityEvents(pool, config.storage.schema);
    users = sqlUsers(pool, config.storage.schema);
    pgPool = pool;
    startupLock = postgresLock(pool, `portcullis-auth-server:start:${config.storage.schema}`);
  } else if (config.storage.kind === 'redis') {
    const { redisAdapter } = await import('@portcullis/token-store/redis');
    // No auto-pipelining: each grant is one script, and batching a tick's scripts makes every
    // request wait for the whole batch (token-store README; measured in the oauth-server bench).
    const redis = await connectRedis(config, { maxRetriesPerRequest: 1, commandTimeout: 2000 });
    redis.on('error', () => {}); // surfaced as StoreUnavailableError (503) per request
    closers.push(() => redis.quit());
    adapter = redisAdapter(redis, { prefix: `${config.storage.prefix}ts:` });
    events = redisSecurityEvents(redis, config.storage.prefix);
    users = redisUsers(redis, config.storage.prefix);
    startupLock = redisLock(redis, `${config.storage.prefix}start-lock`);
  } else {
    const [{ postgresAdapter }, { mkdir }, { startPGliteThread }] = await Promise.all([
      import('@portcullis/token-store/postgres'),
      import('node:fs/promises'),
      import('./pglite-thread'),
    ]);
    await mkdir(config.storage.dir, { recursive: true });
    // In a worker thread: PGlite's WebAssembly was most of a grant's CPU, and on this thread
    // it ran between requests (e2e token bench profile); there it runs beside them.
    const db =
      (await startPGliteThread(config.storage.dir)) ??
      (await (await import('@electric-sql/pglite')).PGlite.create(config.storage.dir));
    // Without close() PGlite keeps the process alive and may leave its WAL unflushed.
    closers.push(() => db.close());
    // One process owns the embedded database: the adapter serves client records from memory.
    adapter = postgresAdapter(db);
    events = sqlSecurityEvents(db);
    users = sqlUsers(db);
  }
  const recordEvent = recordInBackground(events);

  const store = createTokenStore({
    adapter,
    production: config.production,
    ...(config.keyEncryptionSecret ? { keyEncryptionSecret: config.keyEncryptionSecret } : {}),
    ttl: lifetimes(config),
  });
  closers.unshift(() => store.close());

  let rateLimitStore: import('@portcullis/oauth-server').AuthorizationServerOptions['rateLimit'];
  if (config.redisUrl) {
    const { redisStore } = await import('@portcullis/rate-limit/redis');
    // keyPrefix namespaces the limiter's keys (ioredis prefixes script KEYS too); the command
    // timeout makes a down Redis a quick store failure rather than a hung request.
    const redis = await connectRedis(config, {
      keyPrefix: `${config.redisPrefix}rl:`,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
    });
    redis.on('error', () => {}); // reported per request as store failures
    closers.push(() => redis.quit());
    rateLimitStore = { store: redisStore(redis) };
  } else if (pgPool && config.storage.kind === 'postgres') {
    // DATABASE_URL without REDIS_URL: instances share their limits through the same database
    // (one table next to the token records), never silently per-instance memory.
    const { postgresStore } = await import('@portcullis/rate-limit/postgres');
    rateLimitStore = { store: postgresStore(pgPool, { schema: config.storage.schema }) };
  }

  if (config.staticClient) {
    const { clientId, clientSecret, redirectUri } = config.staticClient;
    await store.clients.save({
      clientId,
      clientIdIssuedAt: Math.floor(Date.now() / 1000),
      createdAt: Date.now(),
      expiresAt: null,
      redirectUris: [redirectUri],
      tokenEndpointAuthMethod: clientSecret ? 'client_secret_basic' : 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      clientName: clientId,
      ...(clientSecret
        ? { clientSecretHash: await hashSecret(clientSecret), clientSecretExpiresAt: 0 }
        : {}),
    });
  }

  // The operator's machine clients (client credentials): confidential (a secret or keys), no
  // redirect URI, their scope. Marked as the operator's (`operator_client`): a client taken out
  // of MACHINE_CLIENTS keeps its record, but the server no longer lets it authenticate at all.
  for (const machine of config.clientCredentials.machineClients) {
    await store.clients.save({
      clientId: machine.clientId,
      clientIdIssuedAt: Math.floor(Date.now() / 1000),
      createdAt: Date.now(),
      expiresAt: null,
      redirectUris: [],
      grantTypes: ['client_credentials'],
      responseTypes: [],
      clientName: machine.clientId,
      scope: machine.scopes.join(' '),
      // A key-based client keeps its keys where /register keeps them (the record's metadata).
      ...('privateKeyJwt' in machine
        ? {
            tokenEndpointAuthMethod: 'private_key_jwt',
            metadata: { ...machine.privateKeyJwt, operator_client: true },
          }
        : {
            tokenEndpointAuthMethod: 'client_secret_basic',
            metadata: { operator_client: true },
            clientSecretHash: await hashSecret(machine.clientSecret),
            clientSecretExpiresAt: 0,
          }),
    });
  }

  const { createAuthorizationServer } = await import('@portcullis/oauth-server');
  // Creating the server reads the signing keys and, on an empty store, generates the first one:
  // under the lock, so that instances starting together end up with one key, not one each.
  const as = await startupLock(async () => {
    // The app's tables too (two instances creating it at once would collide in Postgres's catalog).
    await events.prepare();
    await users.prepare();
    return createAuthorizationServer({
      issuer: config.issuer,
      store,
      resources: config.resources.map((uri) => ({ uri })),
      scopes: SCOPES,
      defaultScopes: DEFAULT_SCOPES,
      ...(config.signingKey
        ? {
            signingKey: config.signingKey.startsWith('{')
              ? JSON.parse(config.signingKey)
              : config.signingKey,
          }
        : {}),
      ttl: lifetimes(config),
      ...(config.refreshTokenGraceSeconds !== undefined
        ? { refreshGraceSeconds: config.refreshTokenGraceSeconds }
        : {}),
      ...(config.dcrClientTtlSeconds !== undefined
        ? { dynamicClientTtlSeconds: config.dcrClientTtlSeconds }
        : {}),
      introspection: { clientIds: config.introspectionClientIds },
      // Client credentials: advertised and served only when someone may use it.
      clientCredentials: {
        enabled:
          config.clientCredentials.machineClients.length > 0 ||
          config.clientCredentials.dcrScopes.length > 0,
        clientIds: config.clientCredentials.machineClients.map((m) => m.clientId),
        dynamicRegistrationScopes: config.clientCredentials.dcrScopes,
      },
      // GET /revocations: the revoked, unexpired access tokens (SHA-256 of their jti) for the
      // same resource servers (INTROSPECTION_CLIENT_IDS), so they refuse one within seconds.
      revocationFeed: true,
      // DPoP (RFC 9449) is on in the library (proofs accepted); DPOP_NONCE_SECRET adds nonces.
      ...(config.dpopNonceSecret ? { dpop: { nonce: { secret: config.dpopNonceSecret } } } : {}),
      ...(rateLimitStore ? { rateLimit: rateLimitStore } : {}),
      clientIdMetadataDocuments: { allowInsecure: config.cimdAllowInsecure },
      // The library reads no header itself: the app knows its socket and its proxies. It asks
      // once per request (limits, audit and CIMD budgets share the answer).
      getClientIp: (request) => {
        const address = requestAddress(request, config.trustProxy);
        return address === undefined ? undefined : addressKey(address);
      },
      // One JSON line per audit event: ids, sub, family and address only, never a secret.
      // Sign-ins, grants and revocations are also kept per user for the account page.
      // OpenID Connect: ID tokens and /userinfo carry what the sign-in provider vouched for.
      openid: {
        claims: async (sub) => {
          const user = await users.find(sub);
          if (!user) return undefined;
          return {
            ...(user.email !== undefined ? { email: user.email } : {}),
            ...(user.emailVerified !== undefined ? { email_verified: user.emailVerified } : {}),
            ...(user.name !== undefined ? { name: user.name } : {}),
            updated_at: Math.floor(user.updatedAt / 1000),
          };
        },
        // ACCESS_TOKEN_CLAIMS: none unless listed, and then only what the grant's scopes release.
        accessTokenClaims: config.accessTokenClaims,
      },
      audit: (event) => {
        log('info', 'audit', { ...event });
        const entry = securityEventOf(event);
        if (entry) recordEvent(entry.sub, entry.event);
      },
    });
  });
  closers.unshift(() => as.close());

  // Unused dynamic clients expire by the store's clock; the sweep deletes them and logs a
  // `client.expired` audit line for each (once, whichever instance finds it). Every minute, well
  // inside the stores' five-minute retention of expired records, and once at start.
  let sweepFailing = false;
  const sweepClients = () =>
    void as.clients.sweepExpired().then(
      () => {
        sweepFailing = false;
      },
      (error: unknown) => {
        if (!sweepFailing) log('warn', 'expired-client sweep failed', { error: String(error) });
        sweepFailing = true;
      },
    );
  sweepClients();
  const sweepTimer = setInterval(sweepClients, CLIENT_SWEEP_MS);
  sweepTimer.unref();
  closers.unshift(async () => clearInterval(sweepTimer));

  onShutdown(async () => {
    for (const close of closers) await close().catch(() => {});
  });
  return { as, store, config, events, users };
}

const CLIENT_SWEEP_MS = 60_000;

/**
 * A client of `REDIS_URL`: one Redis, or with `REDIS_CLUSTER` an ioredis `Cluster` seeded with
 * the listed nodes (it discovers the others), credentials and TLS taken from the first URL.
 */
async function connectRedis(
  config: Config,
  options: {
    keyPrefix?: string;
    maxRetriesPerRequest: number;
    commandTimeout: number;
  },
): Promise<import('ioredis').Redis | import('ioredis').Cluster> {
  const { Redis, Cluster } = await import('ioredis');
  const url = config.redisUrl!;
  if (!config.redisCluster) return new Redis(url, options);
  const seeds = url.split(',').map((seed) => new URL(seed.trim()));
  const { keyPrefix, ...perNode } = options;
  const first = seeds[0]!;
  return new Cluster(
    seeds.map((seed) => ({
      host: seed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(seed.port) || 6379,
    })),
    {
      ...(keyPrefix ? { keyPrefix } : {}),
      redisOptions: {
        ...perNode,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}

/** The configured lifetimes, for the store and the server alike (unset: the libraries' defaults). */
function lifetimes(config: Config) {
  return {
    ...(config.accessTokenTtlSeconds ? { accessToken: config.accessTokenTtlSeconds } : {}),
    ...(config.refreshTokenTtlSeconds ? { refreshToken: config.refreshTokenTtlSeconds } : {}),
    ...(config.grantMaxLifetimeSeconds ? { grant: config.grantMaxLifetimeSeconds } : {}),
  };
}

function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    void close().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
