// `pnpm start`: the Portcullis authorization server on :3000 and the example MCP server on :8000,
// on the embedded defaults (PGlite under apps/auth-server/.data, a generated signing key, dev
// login). Both stop cleanly on Ctrl-C; a second start reuses the same data.
//
// Environment (all optional; empty counts as unset): AUTH_PORT (3000), MCP_PORT (8000),
// DATA_DIR (apps/auth-server/.data; a relative path is taken from the directory you run this in),
// ISSUER_URL, MCP_RESOURCE_URL, NEXTAUTH_URL; every other variable reaches both apps unchanged
// (see their .env.example).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { build, checkServices } from './start-steps.mjs';

const AUTH_PORT = Number(process.env.AUTH_PORT || 3000);
const MCP_PORT = Number(process.env.MCP_PORT || 8000);
const ISSUER = process.env.ISSUER_URL || `http://localhost:${AUTH_PORT}`;
const RESOURCE = process.env.MCP_RESOURCE_URL || `http://localhost:${MCP_PORT}/mcp`;
const root = new URL('..', import.meta.url);
const DATA_DIR = path.resolve(
  process.env.DATA_DIR || fileURLToPath(new URL('apps/auth-server/.data', root)),
);
// Loopback only: the development login lets anyone who reaches the page sign in as anyone.
const HOST = '127.0.0.1';

for (const [name, port] of [
  ['AUTH_PORT', AUTH_PORT],
  ['MCP_PORT', MCP_PORT],
]) {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name} must be a TCP port number (got "${process.env[name]}")`);
    process.exit(1);
  }
}

await checkServices(process.env);
// `pnpm start` builds first (`--build`); run without it, the script starts what is built.
if (process.argv.includes('--build')) await build(root);

for (const built of ['apps/auth-server/.next/BUILD_ID', 'apps/mcp-server/dist/main.js']) {
  if (!existsSync(new URL(built, root))) {
    console.error(`${built} is missing: run \`pnpm build\` first (\`pnpm start\` does).`);
    process.exit(1);
  }
}

const children = [];
let stopping = false;

function run(name, cwd, command, args, env) {
  const child = spawn(command, args, {
    cwd: new URL(cwd, root),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) console.log(prefix + line);
    });
  }
  child.on('exit', async (code, signal) => {
    // A terminal's Ctrl-C signals the children too: give our own SIGINT handler its turn first.
    await sleep(200);
    if (!stopping) {
      console.error(`${prefix}exited (${signal ?? code}); stopping the other server`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

const alive = (child) => child.exitCode === null && child.signalCode === null;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // A terminal's Ctrl-C reaches the children too; SIGTERM covers `kill <pid>` of this script.
  for (const child of children) if (alive(child)) child.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (children.some(alive) && Date.now() < deadline) await sleep(100);
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  process.exit(code);
}

let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts === 1) {
    console.log('\nStopping both servers (Ctrl-C again to force)…');
    stop(0);
    return;
  }
  for (const child of children) if (alive(child)) child.kill('SIGKILL');
  process.exit(130);
});
process.on('SIGTERM', () => stop(0));

run(
  'auth',
  'apps/auth-server/',
  process.execPath,
  ['node_modules/next/dist/bin/next', 'start', '-p', String(AUTH_PORT), '-H', HOST],
  {
    ISSUER_URL: ISSUER,
    NEXTAUTH_URL: process.env.NEXTAUTH_URL || ISSUER,
    MCP_RESOURCE_URL: RESOURCE,
    DATA_DIR,
    NEXT_TELEMETRY_DISABLED: process.env.NEXT_TELEMETRY_DISABLED || '1',
  },
);
run('mcp', 'apps/mcp-server/', process.execPath, ['dist/main.js'], {
  HOST,
  PORT: String(MCP_PORT),
  ISSUER_URL: ISSUER,
  MCP_RESOURCE_URL: RESOURCE,
});

async function ready(url) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {}
    await sleep(250);
  }
  return false;
}

const [authReady, mcpReady] = await Promise.all([
  ready(`http://${HOST}:${AUTH_PORT}/.well-known/oauth-authorization-server`),
  ready(`http://${HOST}:${MCP_PORT}/healthz`),
]);
if (!authReady || !mcpReady) {
  // When a server exited early, stop() is already under way and says why.
  if (!stopping) console.error('The servers did not become ready within 120 s.');
  await stop(1);
} else {
  // Inspector 2.12 needs Node >= 22.19; npm's node-<platform>-<arch> package brings one for
  // that command alone when this Node is older.
  const [major, minor] = process.versions.node.split('.').map(Number);
  const modernNode = major > 22 || (major === 22 && minor >= 19);
  const inspectorArgs = `-p @modelcontextprotocol/inspector@2.12.0 mcp-inspector --web --transport http --server-url ${RESOURCE}`;
  const inspector = modernNode
    ? `npx -y ${inspectorArgs}`
    : `npx -y -p node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}@22 ${inspectorArgs}`;
  const claude = JSON.stringify(
    {
      mcpServers: { portcullis: { command: 'npx', args: ['-y', 'mcp-remote@0.15.1', RESOURCE] } },
    },
    null,
    2,
  );
  console.log(`
Portcullis is running.

  Authorization server  ${ISSUER}        (sign in with the development login: any email)
  MCP server            ${RESOURCE}
  Data                  ${DATA_DIR}        (tokens, clients, keys; delete it to start afresh)

Connect a client:
  MCP Inspector   ${inspector}
                  opens in the browser with this server added; connect, then sign in and approve
  mcp-remote      npx -y mcp-remote@0.15.1 ${RESOURCE}
  Claude Desktop  add to claude_desktop_config.json:
${claude.replace(/^/gm, '                  ')}

Press Ctrl-C to stop both.`);
}
