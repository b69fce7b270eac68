import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  type Browser,
  type BrowserContext,
  chromiumAvailable,
  launchChromium,
} from '@portcullis/internal-testing';
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
import { type Inspector, installInspector } from './helpers/inspector.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.runIf(chromiumAvailable())(
  'MCP Inspector 2.12 CLI (on Node 22 from npm) against the built apps, with Chromium',
  () => {
    let inspector: Inspector;
    let browser: Browser;
    let context: BrowserContext;
    let as: AuthServer;
    let mcp: McpServer;
    const home = tempDir('portcullis-e2e-inspector-');

    beforeAll(async () => {
      inspector = await installInspector();
      browser = await launchChromium();
      const mcpPort = await freePort();
      as = await startAuthServer({ resources: [`http://127.0.0.1:${mcpPort}/mcp`] });
      mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
      context = await browser.newContext();
    }, 300_000);

    afterAll(async () => {
      await context?.close();
      await browser?.close();
      await mcp?.close();
      await as?.close();
      rmSync(home, { recursive: true, force: true });
    });

    /**
     * Runs `mcp-inspector --cli` as a person would in a terminal: when it prints the
     * authorization URL, the browser signs in and approves; the CLI receives the code on its
     * loopback callback, exchanges it, calls the server and prints the result.
     */
    async function runCli(args: string[], seen: Decision[]): Promise<Run> {
      const callback = `http://127.0.0.1:${await freePort()}/oauth/callback`;
      const child = spawn(
        inspector.node,
        [inspector.launcher, '--cli', mcp.url, '--callback-url', callback, ...args],
        {
          cwd: home,
          env: {
            PATH: `${path.dirname(inspector.node)}:${process.env.PATH ?? ''}`,
            HOME: home,
            // No TTY here: let the CLI start its interactive login anyway; print, never open.
            MCP_AUTO_OPEN_ENABLED: 'true',
            BROWSER: 'true',
            MCP_INSPECTOR_SECRET_STORE: 'memory',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      let browsing: Promise<void> | undefined;
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        const url = /Please navigate to: (\S+)/.exec(stderr)?.[1];
        if (url && !browsing) {
          browsing = (async () => {
            const page = await context.newPage();
            try {
              seen.push(await signInAndApprove(page, url, { issuer: as.url }));
            } finally {
              await page.close();
            }
          })();
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      clearTimeout(timer);
      await browsing;
      return { code, stdout, stderr };
    }

    it('MCP authorization: 401 → metadata → DCR → Chromium login and consent → token → tools/call', async () => {
      const seen: Decision[] = [];
      const run = await runCli(
        ['--method', 'tools/call', '--tool-name', 'authenticated_tool', '--tool-arg', 'param=x'],
        seen,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.loggedIn).toBe(true);
      expect(seen[0]?.consent).toBeTruthy();
      const authorizeUrl = new URL(/Please navigate to: (\S+)/.exec(run.stderr)?.[1] ?? '');
      expect(authorizeUrl.origin).toBe(as.url);
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizeUrl.searchParams.get('resource')).toBe(mcp.url);

      const result = JSON.parse(run.stdout) as { content: { type: string; text: string }[] };
      const text = result.content.find((c) => c.type === 'text')?.text ?? '';
      expect(JSON.parse(text)).toMatchObject({
        result: expect.stringMatching(/^Data for user u_[\w-]{22}: x$/),
        user_id: expect.stringMatching(OPAQUE_SUB),
      });
    });
  },
);
