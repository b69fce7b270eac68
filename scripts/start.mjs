// `pnpm start`: the Portcullis authorization server on :3000 and the example MCP server on :8000,
// on the embedded defaults (PGlite under apps/auth-server/.data, a generated signing key, dev
// login). Both stop cleanly on Ctrl-C; a second start reuses the same data.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const AUTH_PORT = Number(process.env.AUTH_PORT ?? 3000);
const MCP_PORT = Number(process.env.MCP_PORT ?? 8000);
const ISSUER = process.env.ISSUER_URL ?? `http://localhost:${AUTH_PORT}`;
const RESOURCE = process.env.MCP_RESOURCE_URL ?? `http://localhost:${MCP_PORT}/mcp`;
const root = new URL('..', import.meta.url);

for (const built of ['apps/auth-server/.next/BUILD_ID', 'apps/mcp-server/dist/main.js']) {
  if (!existsSync(new URL(built, root))) {
    console.error(`${built} is missing: run \`pnpm build\` first (\`pnpm start\` does).`);
    process.exit(1);
  }
}

const children = [];
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
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${prefix}exited (${signal ?? code}); stopping the other server`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (
    children.some((c) => c.exitCode === null && c.signalCode === null) &&
    Date.now() < deadline
  ) {
    await sleep(100);
  }
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

run(
  'auth',
  'apps/auth-server/',
  process.execPath,
  ['node_modules/next/dist/bin/next', 'start', '-p', String(AUTH_PORT)],
  {
    ISSUER_URL: ISSUER,
    NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? ISSUER,
    MCP_RESOURCE_URL: RESOURCE,
  },
);
run('mcp', 'apps/mcp-server/', process.execPath, ['dist/main.js'], {
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
  ready(`${ISSUER}/.well-known/oauth-authorization-server`),
  ready(`http://localhost:${MCP_PORT}/healthz`),
]);
if (!authReady || !mcpReady) {
  console.error('The servers did not become ready within 120 s.');
  await stop(1);
}

const claude = JSON.stringify(
  { mcpServers: { portcullis: { command: 'npx', args: ['-y', 'mcp-remote', RESOURCE] } } },
  null,
  2,
);
console.log(`
Portcullis is running.

  Authorization server  ${ISSUER}        (sign in with the development login: any email)
  MCP server            ${RESOURCE}

Connect a client:
  MCP Inspector   npx -y @modelcontextprotocol/inspector
                  then Transport "Streamable HTTP", URL ${RESOURCE}, and "Open Auth Settings" → "Quick OAuth Flow"
  mcp-remote      npx -y mcp-remote ${RESOURCE}
  Claude Desktop  add to claude_desktop_config.json:
${claude.replace(/^/gm, '                  ')}

Press Ctrl-C to stop both.`);
