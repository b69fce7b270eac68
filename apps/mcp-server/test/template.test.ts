import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const APP = fileURLToPath(new URL('..', import.meta.url));
const WORKSPACE = path.resolve(APP, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'portcullis-template-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `pnpm pack` a workspace package the way it would be published; returns the tarball path. */
async function pack(name: string): Promise<string> {
  const dir = path.join(WORKSPACE, 'packages', name);
  const before = new Set(readdirSync(work));
  await exec('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', work], { cwd: dir });
  const tarball = readdirSync(work).find((f) => !before.has(f) && f.endsWith('.tgz'));
  if (!tarball) throw new Error(`pnpm pack produced no tarball for ${name}`);
  return path.join(work, tarball);
}

/**
 * The workspace packages a copy of the template installs: these, and the `@portcullis/` packages
 * they depend on as published (dependencies and peers), transitively — one missed is an npm 404.
 */
function withTheirs(names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const file = path.join(WORKSPACE, 'packages', name, 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    for (const deps of [manifest.dependencies, manifest.peerDependencies]) {
      for (const dep of Object.keys(deps ?? {})) {
        if (dep.startsWith('@portcullis/')) visit(dep.slice('@portcullis/'.length));
      }
    }
  };
  for (const name of names) visit(name);
  return [...seen];
}

describe('the template, cloned outside the workspace', () => {
  it('installs with npm and passes its own tests with the packages as published', async () => {
    const manifest = JSON.parse(readFileSync(path.join(APP, 'package.json'), 'utf8'));
    const local: Record<string, string> = {};
    for (const name of withTheirs(['mcp-context', 'rate-limit', 'token-store'])) {
      local[`@portcullis/${name}`] = `file:${await pack(name)}`;
    }

    const copy = path.join(work, 'my-mcp-server');
    cpSync(APP, copy, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist|\.turbo)$/.test(src),
    });
    // This test is about the copy; the copy need not copy itself again.
    rmSync(path.join(copy, 'test', 'template.test.ts'));
    for (const deps of [manifest.dependencies, manifest.devDependencies]) {
      for (const name of Object.keys(deps ?? {})) {
        if (name.startsWith('@portcullis/')) deps[name] = local[name];
      }
    }
    manifest.overrides = local;
    writeFileSync(path.join(copy, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    const env = { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' };
    const opts = { cwd: copy, env, maxBuffer: 16 * 1024 * 1024 };
    await exec(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      opts,
    );
    await exec('npm', ['run', 'build'], opts);
    const { stdout } = await exec('npx', ['vitest', 'run', '--reporter=dot'], opts);
    expect(stdout).toMatch(/Test Files\s+\d+ passed/);
    expect(stdout).not.toMatch(/failed/);
  }, 600_000);
});
