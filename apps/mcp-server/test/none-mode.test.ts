import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type RunningApp, startApp, textOf } from './support.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the built server as a user would, and collects what it prints. */
function run(env: Record<string, string>, { stopAfterStart = false } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stopAfterStart && stdout.includes('MCP server listening')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let app: RunningApp;
beforeAll(async () => {
  app = await startApp({ AUTH_MODE: 'none' });
});
afterAll(() => app?.close());

describe('AUTH_MODE=none (development only)', () => {
  it('public_tool works without a token; tools that need a user say so', async () => {
    const client = await connect(app.url);
    expect(textOf(await client.callTool({ name: 'public_tool', arguments: {} }))).toBe(
      'This is accessible to everyone',
    );
    const anonymous = await client.callTool({ name: 'protected_tool', arguments: {} });
    expect(anonymous.isError).toBe(true);
    expect(textOf(anonymous)).toMatch(/Authentication required/);
    const denied = await client.callTool({ name: 'authenticated_tool', arguments: { param: 'x' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/Insufficient permissions: read scope required/);
    await client.close();
  });

  it('serves no protected resource metadata: there is no authorization', async () => {
    const res = await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(404);
  });
});

describe('start-up (the built server, as a user runs it)', () => {
  it('the build exists (turbo builds it before the tests)', () => {
    expect(existsSync(MAIN), 'run `pnpm build` first').toBe(true);
  });

  it('AUTH_MODE=none refuses to listen on a non-loopback address and says why', async () => {
    const { code, stderr } = await run({ AUTH_MODE: 'none', HOST: '0.0.0.0', PORT: '0' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/AUTH_MODE=none refuses to listen on 0\.0\.0\.0/);
    expect(stderr).toMatch(/ALLOW_INSECURE_NO_AUTH=1/);
  });

  it('AUTH_MODE=none on loopback warns at start-up and stops cleanly on SIGTERM', async () => {
    const { code, stdout } = await run(
      { AUTH_MODE: 'none', HOST: '127.0.0.1', PORT: '0' },
      { stopAfterStart: true },
    );
    expect(stdout).toMatch(/AUTH_MODE=none/);
    expect(stdout).toMatch(/shutting down/);
    expect(code).toBe(0);
  });

  it('bad configuration fails at start with one line naming each variable', async () => {
    const { code, stderr } = await run({
      AUTH_MODE: 'sometimes',
      PORT: 'eighty',
      MCP_RESOURCE_URL: 'not a url',
    });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('config error: AUTH_MODE:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('config error: PORT:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('config error: MCP_RESOURCE_URL:'))).toBe(true);
  });

  it('a MCP_RESOURCE_URL that is not where it listens stops the start with one line', async () => {
    const { code, stderr } = await run({
      AUTH_MODE: 'none',
      PORT: '9123',
      MCP_RESOURCE_URL: 'http://localhost:8000/mcp',
    });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^config error: MCP_RESOURCE_URL: .* is not where this server listens \(PORT=9123\)/,
    );
  });

  it('HTTPS required in production: an http:// resource on a public HOST stops the start with one line', async () => {
    const { code, stderr } = await run({
      AUTH_MODE: 'static',
      STATIC_TOKENS: JSON.stringify({ 'a-long-random-token-0123': { userId: '1' } }),
      HOST: '0.0.0.0',
      PORT: '0',
      MCP_RESOURCE_URL: 'http://mcp.example.com/mcp',
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      'config error: MCP_RESOURCE_URL: HTTPS is required in production (HOST=0.0.0.0): use https:// URLs, or set TLS_TERMINATED_AT_PROXY=1 if a proxy in front of this server ends TLS',
    ]);
  });

  it('AUTH_MODE=static without a token table names the variable', async () => {
    const { code, stderr } = await run({ AUTH_MODE: 'static', PORT: '0' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^config error: STATIC_TOKENS: required/);
  });
});
