// The built apps, started as a newcomer's machine would run them: `next start` for the
// authorization server, `node dist/main.js` for the MCP server. Nothing is ever built here.
// Shared by apps/auth-server's tests and internal/e2e (tests and bench, the bench under plain
// `node`, hence JavaScript with JSDoc types).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnGroup, waitFor } from './processes.js';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const AUTH_DIR = path.join(ROOT, 'apps/auth-server');
export const MCP_DIR = path.join(ROOT, 'apps/mcp-server');
const NEXT_BIN = path.join(AUTH_DIR, 'node_modules/next/dist/bin/next');
const MCP_MAIN = path.join(MCP_DIR, 'dist/main.js');

/** What proves each app was built, and the package to build. */
const BUILDS = {
  auth: { file: path.join(AUTH_DIR, '.next/BUILD_ID'), name: '@portcullis/auth-server' },
  mcp: { file: MCP_MAIN, name: '@portcullis/mcp-server' },
};

/** Variables either app reads: cleared so the developer's shell cannot change a run. */
const APP_VARS = [
  'ISSUER_URL',
  'MCP_RESOURCE_URL',
  'NEXTAUTH_URL',
  'NEXTAUTH_SECRET',
  'AUTH_SECRET',
  'DATA_DIR',
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'REDIS_URL',
  'REDIS_PREFIX',
  'REDIS_CLUSTER',
  'REFRESH_TOKEN_GRACE_SECONDS',
  'SIGNING_KEY',
  'KEY_ENCRYPTION_SECRET',
  'DEV_LOGIN',
  'AUTH0_DOMAIN',
  'AUTH0_CLIENT_ID',
  'AUTH0_CLIENT_SECRET',
  'AUTH0_ISSUER',
  'FIREBASE_PROJECT_ID',
  'FIREBASE_API_KEY',
  'FIREBASE_AUTH_DOMAIN',
  'FIREBASE_AUTH_EMULATOR_HOST',
  'FIREBASE_PRIVATE_KEY',
  'FIREBASE_CLIENT_EMAIL',
  'TOKEN_EXPIRY_HOURS',
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'CIMD_ALLOW_INSECURE',
  'JWT_SECRET_KEY',
  'OAUTH_CLIENT_ID',
  'OAUTH_CLIENT_SECRET',
  'OAUTH_REDIRECT_URI',
  'TRUST_PROXY',
  'DEV_ALLOW_REMOTE',
  'VERCEL',
  'NODE_ENV',
  'AUTH_MODE',
  'HOST',
  'PORT',
  'JWKS_URI',
  'INTROSPECTION_ENDPOINT',
  'INTROSPECTION_CLIENT_ID',
  'INTROSPECTION_CLIENT_SECRET',
  'STATIC_TOKENS',
  'STATIC_TOKENS_FILE',
  'ALLOW_INSECURE_NO_AUTH',
  'RATE_LIMIT_PER_MINUTE',
  'LOG_LEVEL',
  'AUTH_PORT',
  'MCP_PORT',
  'ACCESS_TOKEN_CLAIMS',
  'DCR_CLIENT_TTL_SECONDS',
  'FIREBASE_JWKS_URL',
  'GRANT_MAX_LIFETIME_SECONDS',
  'INTROSPECTION_CLIENT_IDS',
  'TLS_TERMINATED_AT_PROXY',
  'REVOCATION_FEED_URL',
  'REVOCATION_FEED_INTERVAL_SECONDS',
  'REVOCATION_FEED_MAX_STALENESS_SECONDS',
  'MACHINE_CLIENTS',
  'DCR_CLIENT_CREDENTIALS_SCOPES',
  'DPOP_NONCE_SECRET',
  'MCP_DPOP',
];

/**
 * The environment without any app variable, plus `extra`.
 * @param {Record<string, string>} extra
 * @returns {NodeJS.ProcessEnv}
 */
export function cleanEnv(extra = {}) {
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  for (const name of APP_VARS) delete env[name];
  return { ...env, ...extra };
}

/**
 * Throws the command to run when an app has not been built: tests never build.
 * @param {...('auth' | 'mcp')} apps the apps that must be built (both when none is named)
 */
export function assertBuilt(...apps) {
  const wanted = apps.length > 0 ? apps : /** @type {const} */ (['auth', 'mcp']);
  const missing = wanted.map((app) => BUILDS[app]).filter(({ file }) => !existsSync(file));
  if (missing.length > 0) {
    const files = missing.map(({ file }) => path.relative(ROOT, file)).join(', ');
    const filters = missing.map(({ name }) => `--filter=${name}`).join(' ');
    throw new Error(
      `not built: ${files}; run \`npx -y pnpm@12.4.2 exec turbo run build ${filters}\` at the repository root first (the tests never build)`,
    );
  }
}

/** A fresh temporary data directory. */
export function tempDir(prefix = 'portcullis-e2e-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * @typedef {object} AuthServer
 * @property {string} url the issuer, http://127.0.0.1:<port>
 * @property {number} port
 * @property {string} dataDir
 * @property {() => string} output
 * @property {number | undefined} pid the `next start` process (the bench's CPU figures)
 * @property {() => Promise<void>} stop stops the process (the data directory stays)
 * @property {() => Promise<void>} restart stops, then starts again on the same port and data
 * @property {() => Promise<void>} close stops and removes the data directory when it made it
 */

/**
 * @typedef {object} AuthServerOptions
 * @property {string[]} resources the MCP servers it issues tokens for (MCP_RESOURCE_URL)
 * @property {number} [port] a free one when absent
 * @property {string} [dataDir] kept by close() (restart tests); a fresh temporary one when absent
 * @property {Record<string, string>} [env] on top of the issuer, resources and DATA_DIR
 * @property {number} [readyTimeoutMs] how long `next start` may take to answer (90 s by default)
 * @property {string} [readyPath] what is polled until it answers 2xx: the metadata by default,
 *   which opens the store; `/api/auth/csrf` answers without touching it (a first request to the
 *   store left to the test)
 * @property {string[]} [nodeArgs] before `next` (the bench's `--cpu-prof`, which NODE_OPTIONS refuses)
 */

/**
 * `next start` on 127.0.0.1 with a clean environment: the issuer is its own URL.
 * @param {{ port: number, dataDir: string, resources: string[], env: Record<string, string>, nodeArgs?: string[] }} options
 */
function spawnAuthServer({ port, dataDir, resources, env, nodeArgs = [] }) {
  const url = `http://127.0.0.1:${port}`;
  return spawnGroup(
    process.execPath,
    [...nodeArgs, NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: AUTH_DIR,
      env: cleanEnv({
        ISSUER_URL: url,
        NEXTAUTH_URL: url,
        MCP_RESOURCE_URL: resources.join(','),
        DATA_DIR: dataDir,
        ...env,
      }),
    },
  );
}

/**
 * Starts the authorization server with `next start` on 127.0.0.1.
 * @param {AuthServerOptions} options
 * @returns {Promise<AuthServer>}
 */
export async function startAuthServer({
  resources,
  port,
  dataDir,
  env = {},
  readyTimeoutMs = 90_000,
  readyPath = '/.well-known/oauth-authorization-server',
  nodeArgs = [],
}) {
  assertBuilt('auth');
  const ownDir = !dataDir;
  const dir = dataDir ?? tempDir('portcullis-as-');
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const launch = async () => {
    const spawned = spawnAuthServer({ port: listenPort, dataDir: dir, resources, env, nodeArgs });
    try {
      await waitFor(
        'auth server (next start)',
        async () => (await fetch(`${url}${readyPath}`)).ok,
        { timeoutMs: readyTimeoutMs, spawned },
      );
    } catch (error) {
      await spawned.stop();
      throw error;
    }
    return spawned;
  };
  /** @type {import('./processes.js').Spawned} */
  let spawned;
  try {
    spawned = await launch();
  } catch (error) {
    // Never leave a half-started server's temporary directory behind a failed beforeAll.
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port: listenPort,
    dataDir: dir,
    output: () => spawned.output(),
    get pid() {
      return spawned.child.pid;
    },
    stop: () => spawned.stop(),
    async restart() {
      await spawned.stop();
      spawned = await launch();
    },
    async close() {
      await spawned.stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `next start` expecting it to refuse to start (a bad configuration); resolves its exit
 * code and output, and throws when it is still running after 30 s.
 * @param {{ resources: string[], env: Record<string, string> }} options
 * @returns {Promise<{ code: number | null, output: string }>}
 */
export async function startAuthServerExpectingFailure({ resources, env }) {
  assertBuilt('auth');
  const port = await freePort();
  const dataDir = tempDir('portcullis-as-');
  const spawned = spawnAuthServer({ port, dataDir, resources, env });
  /** @type {Promise<'timeout'>} */
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), 30_000));
  const exit = await Promise.race([spawned.exited, timeout]);
  await spawned.stop();
  rmSync(dataDir, { recursive: true, force: true });
  if (exit === 'timeout') throw new Error(`next start did not exit:\n${spawned.output()}`);
  return { code: exit.code, output: spawned.output() };
}

/**
 * @typedef {object} McpServer
 * @property {string} url the MCP endpoint (the resource), http://127.0.0.1:<port>/mcp
 * @property {number} port
 * @property {number | undefined} pid the server process, for the bench's CPU figures
 * @property {() => string} output
 * @property {() => Promise<void>} close
 */

/**
 * Starts the example MCP server (`node dist/main.js`) on 127.0.0.1.
 * `nodeArgs` go before the script (the bench's `--cpu-prof`, which NODE_OPTIONS refuses).
 * @param {{ issuer?: string, authMode?: 'oauth' | 'none' | 'static', port?: number, env?: Record<string, string>, nodeArgs?: string[] }} options
 * @returns {Promise<McpServer>}
 */
export async function startMcpServer({
  issuer,
  authMode = 'oauth',
  port,
  env = {},
  nodeArgs = [],
}) {
  assertBuilt('mcp');
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}/mcp`;
  const spawned = spawnGroup(process.execPath, [...nodeArgs, MCP_MAIN], {
    cwd: MCP_DIR,
    env: cleanEnv({
      AUTH_MODE: authMode,
      HOST: '127.0.0.1',
      PORT: String(listenPort),
      MCP_RESOURCE_URL: url,
      LOG_LEVEL: 'warn',
      ...(issuer ? { ISSUER_URL: issuer } : {}),
      ...env,
    }),
  });
  try {
    await waitFor(
      'MCP server',
      async () => (await fetch(`http://127.0.0.1:${listenPort}/healthz`)).ok,
      { timeoutMs: 30_000, spawned },
    );
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  return {
    url,
    port: listenPort,
    pid: spawned.child.pid,
    output: spawned.output,
    close: () => spawned.stop(),
  };
}
