import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  assertBuilt,
  bearerChallenge,
  CookieJar,
  cleanEnv,
  codeFlow,
  devLogin,
  freePort,
  mcpRequest,
  type RegisteredClient,
  ROOT,
  refreshGrant,
  registerClient,
  type Spawned,
  spawnGroup,
  type Tokens,
  tempDir,
  waitFor,
} from '@portcullis/internal-testing/apps';
import { afterAll, describe, expect, it } from 'vitest';

const REDIRECT_URI = 'http://127.0.0.1:9/callback'; // read from the Location header, never followed

/** Whether any process of the group is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The README's `pnpm start` after its build step: `node scripts/start.mjs` runs both built apps.
 * Here on free ports and a temporary data directory, twice on the same data.
 */
describe('`pnpm start` (scripts/start.mjs): one command runs Portcullis', () => {
  const dataDir = tempDir('portcullis-start-');
  let ports: { auth: number; mcp: number };
  let script: Spawned | undefined;

  afterAll(async () => {
    await script?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<Spawned> {
    assertBuilt();
    ports ??= { auth: await freePort(), mcp: await freePort() };
    const spawned = spawnGroup(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], {
      cwd: ROOT,
      env: cleanEnv({
        AUTH_PORT: String(ports.auth),
        MCP_PORT: String(ports.mcp),
        DATA_DIR: dataDir,
      }),
    });
    script = spawned;
    await waitFor(
      'Portcullis is running',
      async () => spawned.output().includes('Portcullis is running'),
      {
        timeoutMs: 120_000,
        spawned,
      },
    );
    return spawned;
  }

  /** Stops the script as `signalGroup` says and waits until it and both servers are gone. */
  async function interrupt(spawned: Spawned, target: 'group' | 'script') {
    const pgid = spawned.child.pid!;
    if (target === 'group') process.kill(-pgid, 'SIGINT');
    else spawned.child.kill('SIGINT');
    const exit = await spawned.exited;
    await waitFor('both servers to exit', async () => !groupAlive(pgid), { timeoutMs: 15_000 });
    script = undefined;
    return exit;
  }

  let issuer: string;
  let resource: string;
  let client: RegisteredClient;
  let jar: CookieJar;
  let tokens: Tokens;

  it('starts both servers, prints their URLs and how to connect a client, and they work together', async () => {
    const spawned = await start();
    issuer = `http://localhost:${ports.auth}`;
    resource = `http://localhost:${ports.mcp}/mcp`;
    const banner = spawned.output();
    expect(banner).toContain(`Authorization server  ${issuer}`);
    expect(banner).toContain(`MCP server            ${resource}`);
    expect(banner).toContain('@modelcontextprotocol/inspector');
    expect(banner).toContain(`npx -y mcp-remote@0.15.1 ${resource}`);
    expect(banner).toContain('claude_desktop_config.json');
    expect(banner).toContain('"mcpServers"');

    const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(issuer);
    const challenge = await mcpRequest(resource, undefined, 'tools/list');
    expect(challenge.status).toBe(401);
    expect(bearerChallenge(challenge.headers.get('www-authenticate')).resource_metadata).toBe(
      `http://localhost:${ports.mcp}/.well-known/oauth-protected-resource/mcp`,
    );

    // A client registers, a user signs in, and the MCP server accepts the token it gets.
    client = await registerClient(issuer, { redirectUri: REDIRECT_URI, name: 'First-run client' });
    jar = await devLogin(issuer, 'newcomer@example.com', new CookieJar());
    tokens = await codeFlow({
      issuer,
      resource,
      client,
      redirectUri: REDIRECT_URI,
      scope: 'read',
      jar,
    });
    expect((await mcpRequest(resource, tokens.access_token, 'tools/list')).status).toBe(200);
  });

  it("Ctrl-C (SIGINT to the terminal's process group) stops both servers and exits 0", async () => {
    expect(script).toBeDefined();
    const exit = await interrupt(script!, 'group');
    expect(exit).toEqual({ code: 0, signal: null });
    await expect(fetch(`${issuer}/.well-known/oauth-authorization-server`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.mcp}/healthz`)).rejects.toThrow();
  });

  it('a second start on the same data knows the registered client, the session and the tokens', async () => {
    await start();
    // The refresh token of the first run is still good, and so is its signing key.
    const refreshed = await refreshGrant({
      issuer,
      resource,
      client,
      refreshToken: tokens.refresh_token ?? '',
    });
    expect(refreshed.status).toBe(200);
    expect((await mcpRequest(resource, tokens.access_token, 'tools/list')).status).toBe(200);
    // The client registered in the first run can authorize again, with the same browser session.
    const again = await codeFlow({
      issuer,
      resource,
      client,
      redirectUri: REDIRECT_URI,
      scope: 'read',
      jar,
    });
    expect((await mcpRequest(resource, again.access_token, 'tools/list')).status).toBe(200);
  });

  it('SIGINT to the script alone also stops both servers', async () => {
    expect(script).toBeDefined();
    const exit = await interrupt(script!, 'script');
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
