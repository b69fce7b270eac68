import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { createTestDatabase } from '@portcullis/internal-testing';
import {
  type AuthServer,
  freePort,
  type McpServer,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import { startRedisCluster } from '@portcullis/internal-testing/redis-cluster';
import { type RoundRobinProxy, startRoundRobinProxy } from './round-robin-proxy.js';

export type SharedStore = 'postgres' | 'redis-cluster';

/** A fresh store nobody else uses: a new Postgres database, or a new 3-master Redis Cluster. */
export async function freshStore(kind: SharedStore): Promise<{
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  if (kind === 'postgres') {
    const db = await createTestDatabase('portcullis_mi');
    // Without REDIS_URL the rate limits live in the same database, shared by the instances.
    return { env: { DATABASE_URL: db.url }, close: () => db.drop() };
  }
  const cluster = await startRedisCluster(3);
  return {
    env: {
      REDIS_CLUSTER: 'true',
      REDIS_URL: cluster.nodes.map(({ host, port }) => `redis://${host}:${port}`).join(','),
    },
    close: () => cluster.stop(),
  };
}

/** What every instance of one deployment must share besides the store. */
export function sharedSecrets(): Record<string, string> {
  return {
    NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
  };
}

export interface Stack {
  /** The proxy's URL: the issuer every instance publishes. */
  issuer: string;
  /** The MCP endpoint (the resource), whose issuer is the proxy. */
  resource: string;
  proxy: RoundRobinProxy;
  instances: AuthServer[];
  /** Absent when started with `mcp: false`. */
  mcp?: McpServer;
  close(): Promise<void>;
}

export interface StackOptions {
  store: SharedStore;
  /** How many `next start` behind the proxy (2 by default). */
  instances?: number;
  /** On top of the issuer, the store and the shared secrets, for every instance. */
  env?: Record<string, string>;
  /**
   * What tells that an instance is up (see `startAuthServer`): `/api/auth/csrf` leaves the
   * store untouched, so that the test makes the instances' first use of it.
   */
  readyPath?: string;
  /** Whether to start the MCP server (true by default). */
  mcp?: boolean;
}

/**
 * One deployment of several authorization servers: `next start` instances on one fresh store
 * (their own DATA_DIR each, so nothing is shared through the disk), the same NEXTAUTH_SECRET and
 * KEY_ENCRYPTION_SECRET, behind a round-robin proxy whose URL is their issuer (TRUST_PROXY=1),
 * and the example MCP server trusting that issuer. The instances start at the same time.
 */
export async function startStack({
  store,
  instances = 2,
  env = {},
  readyPath,
  mcp: withMcp = true,
}: StackOptions): Promise<Stack> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {});
  };
  try {
    const shared = await freshStore(store);
    closers.push(() => shared.close());
    const ports = await distinctFreePorts(instances + 1);
    const mcpPort = ports.pop() as number;
    const resource = `http://127.0.0.1:${mcpPort}/mcp`;
    const proxy = await startRoundRobinProxy(ports.map((p) => `http://127.0.0.1:${p}`));
    closers.push(() => proxy.close());
    const secrets = sharedSecrets();
    const started = await Promise.allSettled(
      ports.map((port) =>
        startAuthServer({
          port,
          resources: [resource],
          ...(readyPath ? { readyPath } : {}),
          env: {
            ISSUER_URL: proxy.url,
            NEXTAUTH_URL: proxy.url,
            TRUST_PROXY: '1',
            ...secrets,
            ...shared.env,
            ...env,
          },
        }),
      ),
    );
    const servers: AuthServer[] = [];
    for (const result of started) {
      if (result.status === 'fulfilled') {
        servers.push(result.value);
        closers.push(() => result.value.close());
      }
    }
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const mcp = withMcp ? await startMcpServer({ issuer: proxy.url, port: mcpPort }) : undefined;
    if (mcp) closers.push(() => mcp.close());
    return { issuer: proxy.url, resource, proxy, instances: servers, mcp, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `count` free ports, all different. */
export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

interface Jwk {
  kid: string;
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
}

/** The keys an instance publishes, by its own address (not through the proxy). */
export async function jwksOf(instanceUrl: string): Promise<Jwk[]> {
  const response = await fetch(`${instanceUrl}/jwks.json`);
  if (!response.ok) throw new Error(`jwks.json answered ${response.status}`);
  return ((await response.json()) as { keys: Jwk[] }).keys;
}

/**
 * Whether an ES256 JWT's signature verifies with a key of `keys` (chosen by its `kid`): the
 * check a resource server makes with the JWKS it fetched, by node:crypto alone.
 */
export function verifiesWith(jwt: string, keys: Jwk[]): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return false;
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as {
    kid?: string;
    alg?: string;
  };
  const jwk = keys.find((k) => k.kid === kid);
  if (!jwk || alg !== 'ES256') return false;
  const key = createPublicKey({
    key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    format: 'jwk',
  });
  return verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
}

/** The `kid` in a JWT's header. */
export function kidOf(jwt: string): string | undefined {
  return (
    JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid?: string }
  ).kid;
}
