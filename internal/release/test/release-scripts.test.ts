import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { publishedPackages, ROOT } from '../src/workspace.mjs';

const exec = promisify(execFile);
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'portcullis-release-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the root manifest, LICENSE and every published manifest, for the scripts to edit. */
function scratchRoot(repositoryUrl: string): string {
  const root = mkdtempSync(path.join(scratch, 'root-'));
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  manifest.repository = { type: 'git', url: repositoryUrl };
  writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest));
  cpSync(path.join(ROOT, 'LICENSE'), path.join(root, 'LICENSE'));
  for (const pkg of publishedPackages()) {
    mkdirSync(path.join(root, pkg.directory), { recursive: true });
    for (const file of ['package.json', 'LICENSE']) {
      cpSync(path.join(pkg.dir, file), path.join(root, pkg.directory, file));
    }
  }
  return root;
}

async function run(script: string, root: string) {
  const env = { ...process.env, PORTCULLIS_RELEASE_ROOT: root };
  return exec(process.execPath, [path.join(SRC, script)], { env }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error) => ({ code: error.code as number, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe('pnpm release: repository, homepage and bugs from the root package.json', () => {
  it('refuses to publish while repository.url is unset, saying where to set it', async () => {
    const root = scratchRoot('');
    const stamp = await run('stamp-metadata.mjs', root);
    expect(stamp.code).toBe(1);
    expect(stamp.stderr).toContain('set "repository.url" in the root package.json');
    const check = await run('release-check.mjs', root);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('set "repository.url" in the root package.json');
  });

  it('stamps every published package from the one URL, and the check then passes', async () => {
    const root = scratchRoot('https://github.com/acme/portcullis');
    expect((await run('release-check.mjs', root)).code).toBe(1); // not stamped yet
    expect((await run('stamp-metadata.mjs', root)).code).toBe(0);
    for (const pkg of publishedPackages()) {
      const manifest = JSON.parse(
        readFileSync(path.join(root, pkg.directory, 'package.json'), 'utf8'),
      );
      expect(manifest.repository).toEqual({
        type: 'git',
        url: 'git+https://github.com/acme/portcullis.git',
        directory: pkg.directory,
      });
      expect(manifest.homepage).toBe(
        `https://github.com/acme/portcullis/tree/main/${pkg.directory}#readme`,
      );
      expect(manifest.bugs).toEqual({ url: 'https://github.com/acme/portcullis/issues' });
      expect(manifest.name).toBe(pkg.name); // nothing else changed
      expect(manifest.exports).toEqual(pkg.manifest.exports);
    }
    const check = await run('release-check.mjs', root);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('pnpm publish of a package on its own runs the check too, and is refused while unset', async () => {
    const root = scratchRoot('');
    const pkce = publishedPackages().find((pkg) => pkg.name === '@portcullis/pkce');
    const publish = await exec(
      'npx',
      ['-y', 'pnpm@12.4.2', 'publish', '--dry-run', '--no-git-checks'],
      { cwd: pkce!.dir, env: { ...process.env, PORTCULLIS_RELEASE_ROOT: root } },
    ).then(
      () => ({ code: 0, output: '' }),
      (error) => ({ code: error.code as number, output: `${error.stdout}${error.stderr}` }),
    );
    expect(publish.code).not.toBe(0);
    expect(publish.output).toContain('set "repository.url" in the root package.json');
  });

  it('refuses a package whose LICENSE is not the root one', async () => {
    const root = scratchRoot('https://github.com/acme/portcullis');
    await run('stamp-metadata.mjs', root);
    const [first] = publishedPackages();
    writeFileSync(path.join(root, first!.directory, 'LICENSE'), 'ISC\n');
    const check = await run('release-check.mjs', root);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(
      `${first!.directory}/LICENSE must be a copy of the root LICENSE`,
    );
  });
});

describe('.github/workflows/release.yml', () => {
  const workflow = readFileSync(path.join(ROOT, '.github/workflows/release.yml'), 'utf8');
  const rootManifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

  it('versions with changesets and publishes through pnpm release with npm provenance', () => {
    expect(workflow).toContain('uses: changesets/action@v1');
    expect(workflow).toContain('version: npx -y pnpm@12.4.2 changeset version');
    expect(workflow).toContain('publish: npx -y pnpm@12.4.2 release');
    expect(workflow).toMatch(/NPM_CONFIG_PROVENANCE: ["']true["']/);
    expect(workflow).toMatch(/id-token: write/); // provenance signs with the workflow's OIDC token
  });

  it('pnpm release stamps and checks before it publishes', () => {
    const release: string = rootManifest.scripts.release;
    const order = ['stamp-metadata.mjs', 'release-check.mjs', 'changeset publish'].map((step) =>
      release.indexOf(step),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});
