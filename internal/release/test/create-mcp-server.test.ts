// What the create package's README promises, from its tarball into a folder outside the
// workspace: `npm create @portcullis/mcp-server my-server`, then npm install (the @portcullis
// packages resolved to the sibling tarballs, as npm will resolve them once published), build,
// the project's own `npm test`, `npm start`, and the MCP SDK client through the OAuth flow of
// the monorepo's authorization server.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  type AuthServer,
  assertBuilt,
  authorizeOverHttp,
  CookieJar,
  cleanEnv,
  devLogin,
  freePort,
  type Loopback,
  loopbackRedirect,
  OPAQUE_SUB,
  spawnGroup,
  startAuthServer,
  waitFor,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectWithOAuth, toolJson } from '../../e2e/test/helpers/sdk-client.js';
import { type Exchange, TestOAuthProvider } from '../../e2e/test/helpers/sdk-provider.js';
import { publishedPackages, ROOT } from '../src/workspace.mjs';

const exec = promisify(execFile);
const tarballs = inject('tarballs');
const work = mkdtempSync(path.join(tmpdir(), 'portcullis-create-'));
const project = path.join(work, 'my-server');
const env = cleanEnv({ CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', npm_config_yes: 'true' });
const opts = { cwd: project, env, maxBuffer: 32 * 1024 * 1024 };
const versions = Object.fromEntries(publishedPackages().map((p) => [p.name, p.version]));

/** The command line the create package's README documents. */
function documentedCommand(): string[] {
  const readme = readFileSync(path.join(ROOT, 'packages/create-mcp-server/README.md'), 'utf8');
  const line = /^npm create (\S+) (\S+)$/m.exec(readme);
  if (!line) throw new Error('packages/create-mcp-server/README.md shows no npm create line');
  return [line[1] ?? '', line[2] ?? ''];
}

beforeAll(async () => {
  const [initializer, folder] = documentedCommand();
  // `npm create @portcullis/mcp-server` is `npm exec @portcullis/create-mcp-server`; here the
  // package comes from its tarball instead of the registry.
  expect(initializer).toBe('@portcullis/mcp-server');
  await exec(
    'npm',
    [
      'exec',
      '--yes',
      `--package=${tarballs['@portcullis/create-mcp-server']}`,
      '--',
      'create-mcp-server',
      folder ?? '',
    ],
    { cwd: work, env },
  );
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm create @portcullis/mcp-server my-server, from the tarball', () => {
  it('writes a standalone project: a .gitignore, nothing installed or built, the release versions', () => {
    for (const absent of ['node_modules', 'dist', '.turbo', 'test/template.test.ts']) {
      expect(existsSync(path.join(project, absent)), absent).toBe(false);
    }
    expect(readFileSync(path.join(project, '.gitignore'), 'utf8')).toMatch(/^node_modules\/$/m);
    const manifest = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('my-server');
    const portcullis = Object.entries({
      ...manifest.dependencies,
      ...manifest.devDependencies,
    }).filter(([name]) => name.startsWith('@portcullis/'));
    expect(portcullis.length).toBeGreaterThan(0);
    for (const [name, range] of portcullis) expect(range, name).toBe(`^${versions[name]}`);
    const readme = readFileSync(path.join(project, 'README.md'), 'utf8');
    expect(readme.split('\n')[0]).toBe('# my-server');
    expect(readme).not.toMatch(/workspace:|\]\(\.\.\//);
  });

  it('installs against the sibling tarballs, builds and passes its own npm test', async () => {
    const manifestPath = path.join(project, 'package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const local = Object.fromEntries(
      Object.entries(tarballs).map(([name, file]) => [name, `file:${file}`]),
    );
    for (const deps of [manifest.dependencies, manifest.devDependencies]) {
      for (const name of Object.keys(deps ?? {})) if (local[name]) deps[name] = local[name];
    }
    manifest.overrides = local;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

    await exec(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      opts,
    );
    await exec('npm', ['run', 'build'], opts);
    // One file at a time: this runs beside the rest of the suite on a small machine, and the
    // template has a load test of its own.
    const { stdout } = await exec(
      'npm',
      ['test', '--', '--reporter=dot', '--no-file-parallelism'],
      opts,
    ).catch((error) => {
      throw new Error(`the project's npm test failed:\n${error.stdout}\n${error.stderr}`);
    });
    expect(stdout).toMatch(/Test Files\s+\d+ passed/);
    expect(stdout).not.toMatch(/failed|skipped/);
  }, 600_000);

  describe('npm start, and the MCP SDK client through the monorepo auth server', () => {
    let auth: AuthServer;
    let loopback: Loopback;
    let stop: (() => Promise<void>) | undefined;
    let resource: string;

    beforeAll(async () => {
      assertBuilt('auth');
      const port = await freePort();
      resource = `http://127.0.0.1:${port}/mcp`;
      auth = await startAuthServer({ resources: [resource] });
      loopback = await loopbackRedirect();
      const started = spawnGroup('npm', ['start'], {
        cwd: project,
        env: cleanEnv({
          AUTH_MODE: 'oauth',
          HOST: '127.0.0.1',
          PORT: String(port),
          MCP_RESOURCE_URL: resource,
          ISSUER_URL: auth.url,
          LOG_LEVEL: 'warn',
        }),
      });
      stop = () => started.stop();
      await waitFor(
        'the created MCP server',
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
        {
          timeoutMs: 30_000,
          spawned: started,
        },
      );
    }, 180_000);
    afterAll(async () => {
      await stop?.();
      await loopback?.close();
      await auth?.close();
    });

    it('signs in, consents, gets a token for the resource and calls a tool as the user', async () => {
      const jar = await devLogin(auth.url, 'newcomer@example.com', new CookieJar());
      const provider = new TestOAuthProvider({
        loopback,
        issuer: auth.url,
        clientName: 'create-mcp-server test',
        userAgent: async (url) => {
          const { callback } = await authorizeOverHttp(auth.url, jar, url);
          await fetch(callback);
        },
      });
      const log: Exchange[] = [];
      const { client, authorized } = await connectWithOAuth(resource, provider, log);
      try {
        expect(authorized).toBe(true);
        expect(
          log.some(
            (e) =>
              e.url.pathname === '/token' &&
              e.grantType === 'authorization_code' &&
              e.status === 200,
          ),
        ).toBe(true);
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain('authenticated_tool');
        const result = toolJson(await client.callTool({ name: 'user_profile', arguments: {} }));
        expect(result).toMatchObject({ user: { id: expect.stringMatching(OPAQUE_SUB) } });
      } finally {
        await client.close();
      }
    });
  });
});
