import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSandbox } from '../src/sandbox.mjs';
import { publishedPackages, publishingFields, ROOT, rootRepositoryUrl } from '../src/workspace.mjs';

const exec = promisify(execFile);
const ATTW = fileURLToPath(new URL('../node_modules/.bin/attw', import.meta.url));
const tarballs = inject('tarballs');
const packages = publishedPackages();
const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');

/** One file of a tarball, as text. */
async function fromTarball(tarball: string, file: string): Promise<string> {
  const { stdout } = await exec('tar', ['xzOf', tarball, `package/${file}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The subpaths a package's `exports` claims, as import specifiers. */
function entryPoints(manifest: { name: string; exports: Record<string, unknown> }): string[] {
  return Object.keys(manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
}

describe.each(packages)('$name, packed as published', ({ name, directory }) => {
  const tarball = tarballs[name] ?? '';

  it('carries the MIT LICENSE of the repository', async () => {
    expect(await fromTarball(tarball, 'LICENSE')).toBe(license);
  });

  it('declares MIT, Node >= 20.19 (require() of ESM), public access and no workspace: range', async () => {
    const manifest = JSON.parse(await fromTarball(tarball, 'package.json'));
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines?.node).toBe('>=20.19');
    expect(manifest.publishConfig?.access).toBe('public');
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
  });

  it('runs the release check before any publish of it, even outside pnpm release', () => {
    // In the source manifest: pnpm leaves prepublishOnly out of the tarball.
    const { manifest } = packages.find((pkg) => pkg.name === name)!;
    expect(manifest.scripts?.prepublishOnly).toBe(
      'node ../../internal/release/src/release-check.mjs',
    );
  });

  it('takes repository, homepage and bugs from the root package.json only', async () => {
    const manifest = JSON.parse(await fromTarball(tarball, 'package.json'));
    const url = rootRepositoryUrl();
    const expected = url ? publishingFields(url, directory) : undefined;
    for (const field of ['repository', 'homepage', 'bugs'] as const) {
      // Unset at the root: absent here too (the release stamps them); set: exactly the stamp.
      expect(manifest[field], `${name} ${field}`).toEqual(expected?.[field]);
    }
  });

  it('passes publint (strict, every suggestion)', async () => {
    const data = readFileSync(tarball);
    const tarballBuffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const { messages, pkg } = await publint({
      pack: { tarball: tarballBuffer },
      level: 'suggestion',
      strict: true,
    });
    expect(messages.map((message) => formatMessage(message, pkg))).toEqual([]);
  });

  it('passes arethetypeswrong for what it claims: ESM only, types first', async () => {
    // esm-only: node16 from ESM and bundlers must resolve with types; node10 and TypeScript's
    // CJS view are out of scope for an ESM-only package (Node >= 20.19 require() is tested below).
    const run = exec(ATTW, [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color']);
    await expect(run.then(() => 'ok').catch((error) => String(error.stdout))).resolves.toBe('ok');
  });
});

describe('the tarballs installed outside the workspace', () => {
  let sandbox: string;
  beforeAll(() => {
    sandbox = createSandbox(tarballs);
  });
  afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

  it.each(packages)(
    '$name: every entry point loads with import and with require()',
    async ({ manifest }) => {
      const specifiers = entryPoints(manifest);
      const script = specifiers
        .map((s) => `await import(${JSON.stringify(s)}); require(${JSON.stringify(s)});`)
        .join('\n');
      const source = `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${script}\nconsole.log('loaded');`;
      const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', source], {
        cwd: sandbox,
      });
      expect(stdout.trim()).toBe('loaded');
    },
  );
});
