// The built apps, started as a newcomer's machine would run them: `next start` for the
// authorization server, `node dist/main.js` for the MCP server. Nothing is ever built here.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnGroup, waitFor } from './processes.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const AUTH_DIR = path.join(ROOT, 'apps/auth-server');
export const MCP_DIR = path.join(ROOT, 'apps/mcp-server');
const NEXT_BIN = path.join(AUTH_DIR, 'node_modules/next/dist/bin/next');
const MCP_MAIN = path.join(MCP_DIR, 'dist/main.js');

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
  'TOKEN_EXPIRY_HOURS',
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'CIMD_ALLOW_INSECURE',
  'OAUTH_CLIENT_ID',
  'OAUTH_CLIENT_SECRET',
  'OAUTH_REDIRECT_URI',
  'TRUST_PROXY',
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

/** Throws the command to run when an app has not been built: tests never build. */
export function assertBuilt() {
  const missing = [
    [path.join(AUTH_DIR, '.next/BUILD_ID'), '@portcullis/auth-server'],
    [MCP_MAIN, '@portcullis/mcp-server'],
  ].filter(([file]) => !existsSync(/** @type {string} */ (file)));
  if (missing.length > 0) {
    throw new Error(
      `not built: ${missing.map(([file]) => path.relative(ROOT, /** @type {string} */ (file))).join(', ')}; run \`npx turbo run build\` at the repository root first (the e2e tests never build)`,
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
 * @property {() => Promise<void>} stop stops the process (the data directory stays)
 * @property {() => Promise<void>} restart stops, then starts again on the same port and data
 * @property {() => Promise<void>} close stops and removes the data directory when it made it
 */

/**
 * Starts the authorization server with `next start` on 127.0.0.1.
 * @param {{ resources: string[], port?: number, dataDir?: string, env?: Record<string, string> }} options
 * @returns {Promise<AuthServer>}
 */
export async function startAuthServer({ resources, port, dataDir, env = {} }) {
  assertBuilt();
  const ownDir = !dataDir;
  const dir = dataDir ?? tempDir('portcullis-as-');
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const launch = async () => {
    const spawned = spawnGroup(
      process.execPath,
      [NEXT_BIN, 'start', '-p', String(listenPort), '-H', '127.0.0.1'],
      {
        cwd: AUTH_DIR,
        env: cleanEnv({
          ISSUER_URL: url,
          NEXTAUTH_URL: url,
          MCP_RESOURCE_URL: resources.join(','),
          DATA_DIR: dir,
          ...env,
        }),
      },
    );
    try {
      await waitFor(
        'auth server (next start)',
        async () => (await fetch(`${url}/.well-known/oauth-authorization-server`)).ok,
        { timeoutMs: 90_000, spawned },
      );
    } catch (error) {
      await spawned.stop();
      throw error;
    }
    return spawned;
  };
  let spawned = await launch();
  return {
    url,
    port: listenPort,
    dataDir: dir,
    output: () => spawned.output(),
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
 * @typedef {object} McpServer
 * @property {string} url the MCP endpoint (the resource), http://127.0.0.1:<port>/mcp
 * @property {number} port
 * @property {() => string} output
 * @property {() => Promise<void>} close
 */

/**
 * Starts the example MCP server (`node dist/main.js`) on 127.0.0.1.
 * @param {{ issuer?: string, authMode?: 'oauth' | 'none' | 'static', port?: number, env?: Record<string, string> }} options
 * @returns {Promise<McpServer>}
 */
export async function startMcpServer({ issuer, authMode = 'oauth', port, env = {} }) {
  assertBuilt();
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}/mcp`;
  const spawned = spawnGroup(process.execPath, [MCP_MAIN], {
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
  return { url, port: listenPort, output: spawned.output, close: () => spawned.stop() };
}
