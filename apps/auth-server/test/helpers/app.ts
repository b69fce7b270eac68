import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, type Spawned, spawnGroup, waitFor } from './processes';

export const APP_DIR = path.resolve(import.meta.dirname, '../..');
const NEXT_BIN = path.join(APP_DIR, 'node_modules/next/dist/bin/next');

/** Variables the app reads; cleared so the developer's own shell cannot change a test. */
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
  'VERCEL',
  'NODE_ENV',
];

export const MCP_RESOURCE = 'http://127.0.0.1:8000/mcp';

export interface RunningApp {
  url: string;
  port: number;
  dataDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Fails with the command to run when the app has not been built (tests never build it). */
export function assertBuilt(): void {
  if (!existsSync(path.join(APP_DIR, '.next', 'BUILD_ID'))) {
    throw new Error(
      'apps/auth-server has no production build (.next/BUILD_ID missing): run `npx turbo run build --filter=@portcullis/auth-server` first',
    );
  }
}

export function appEnv(extra: Record<string, string>, port: number, dataDir: string) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of APP_VARS) delete env[name];
  return {
    ...env,
    NEXT_TELEMETRY_DISABLED: '1',
    ISSUER_URL: `http://127.0.0.1:${port}`,
    NEXTAUTH_URL: `http://127.0.0.1:${port}`,
    MCP_RESOURCE_URL: MCP_RESOURCE,
    DATA_DIR: dataDir,
    ...extra,
  };
}

/** Runs the built app with `next start` on a free port with the given environment. */
export async function startApp(extra: Record<string, string> = {}): Promise<RunningApp> {
  assertBuilt();
  const port = Number(extra.PORT ?? (await freePort()));
  // A caller-provided DATA_DIR outlives this server (restart tests); a generated one does not.
  const ownDir = !extra.DATA_DIR;
  const dataDir = extra.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'portcullis-as-'));
  const spawned: Spawned = spawnGroup(
    process.execPath,
    [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'],
    { cwd: APP_DIR, env: appEnv(extra, port, dataDir) },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'next start',
      async () => (await fetch(`${url}/.well-known/oauth-authorization-server`)).status === 200,
      { timeoutMs: 45_000, spawned },
    );
  } catch (error) {
    // Never leave a half-started server behind a failed beforeAll.
    await spawned.stop();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    output: spawned.output,
    stop: async () => {
      await spawned.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `next start` expecting it to refuse to start; resolves its exit code and output. */
export async function startAppExpectingFailure(
  extra: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  assertBuilt();
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-as-'));
  const spawned = spawnGroup(
    process.execPath,
    [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: APP_DIR,
      env: appEnv(extra, port, dataDir),
    },
  );
  const code = await Promise.race([
    spawned.exited,
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
  ]);
  await spawned.stop();
  rmSync(dataDir, { recursive: true, force: true });
  if (code === 'timeout') throw new Error(`next start did not exit:\n${spawned.output()}`);
  return { code, output: spawned.output() };
}
