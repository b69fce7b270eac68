import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type Browser, chromiumAvailable, launchChromium } from '@portcullis/internal-testing';
import {
  type AuthServer,
  freePort,
  type McpServer,
  OPAQUE_SUB,
  startAuthServer,
  startMcpServer,
  tempDir,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Decision, signInAndApprove } from './helpers/browser.js';

// mcp-remote's proxy entry point (its `mcp-remote` bin), run with this Node.
const MCP_REMOTE = path.join(
  path.dirname(createRequire(import.meta.url).resolve('mcp-remote/package.json')),
  'dist/proxy.js',
);

/**
 * mcp-remote (npm) is the stdio bridge Claude Desktop and other local-only clients use for remote
 * MCP servers. It does its own OAuth: discovery, DCR, a callback listener on a local port, PKCE,
 * token storage under MCP_REMOTE_CONFIG_DIR. It prints the authorization URL to stderr and
 * tries to open a browser (there is none here); Chromium plays the person instead.
 */
describe.runIf(chromiumAvailable())('mcp-remote connects through the whole flow', () => {
  let browser: Browser;
  let as: AuthServer;
  let mcp: McpServer;
  const configDir = tempDir('portcullis-mcp-remote-');

  beforeAll(async () => {
    const mcpPort = await freePort();
    [browser, as] = await Promise.all([
      launchChromium(),
      startAuthServer({ resources: [`http://127.0.0.1:${mcpPort}/mcp`] }),
    ]);
    mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
  });

  afterAll(async () => {
    await browser?.close();
    await mcp?.close();
    await as?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('MCP authorization: mcp-remote registers, the user signs in and approves, tools/list goes through it', async () => {
    const callbackPort = await freePort();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, mcp.url, String(callbackPort), '--auth-timeout', '120'],
      env: { MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'false' },
      stderr: 'pipe',
    });
    let stderr = '';
    const printed = new Promise<URL>((resolve) => {
      transport.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /Please authorize this client by visiting:\s*(\S+)/.exec(stderr);
        if (match?.[1]) resolve(new URL(match[1]));
      });
    });

    const client = new Client({ name: 'portcullis-e2e-via-mcp-remote', version: '1.0.0' });
    // initialize waits in mcp-remote's stdin until it has finished the authorization.
    const connected = client.connect(transport, { timeout: 120_000 });
    let decision: Decision | undefined;
    try {
      const authorizationUrl = await Promise.race([
        printed,
        connected.then(() => {
          throw new Error(`mcp-remote connected without authorizing:\n${stderr}`);
        }),
      ]);
      expect(authorizationUrl.origin).toBe(as.url);
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizationUrl.searchParams.get('resource')).toBe(mcp.url);
      const redirectUri = new URL(authorizationUrl.searchParams.get('redirect_uri') ?? '');
      expect(redirectUri.port).toBe(String(callbackPort));

      const page = await browser.newPage();
      decision = await signInAndApprove(page, authorizationUrl.href, {
        issuer: as.url,
        email: 'linus@example.com',
      });
      await page.close();
      await connected;
    } catch (error) {
      throw new Error(`${String(error)}\nmcp-remote stderr:\n${stderr}`);
    }
    expect(decision?.loggedIn).toBe(true);
    expect(decision?.consent).toContain('MCP CLI Proxy');

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('authenticated_tool');
    expect(tools.map((t) => t.name)).toContain('secure_operation');
    const result = await client.callTool({ name: 'user_profile', arguments: {} });
    const text = (result.content as { type: string; text: string }[])[0]?.text ?? '';
    // mcp-remote asks for the challenge's scope (read openid profile email): the email and name
    // of the person who signed in, from the authorization server's userinfo.
    expect(JSON.parse(text)).toMatchObject({
      user: { id: expect.stringMatching(OPAQUE_SUB), email: 'linus@example.com', name: 'linus' },
    });

    // It kept its client registration and tokens where it was told to.
    const kept = readdirSync(configDir, { recursive: true }).map(String);
    expect(kept.some((f) => f.endsWith('_tokens.json'))).toBe(true);
    expect(kept.some((f) => f.endsWith('_client_info.json'))).toBe(true);
    await client.close();
  });
});
