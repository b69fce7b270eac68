// The published packages of the workspace and the publishing fields they take from the root
// manifest: `repository.url` in /package.json is the one place a fork or the owner sets.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; the release tests point the scripts at a scratch copy. */
export const ROOT =
  process.env.PORTCULLIS_RELEASE_ROOT ?? fileURLToPath(new URL('../../../', import.meta.url));

/** @param {string} file */
export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Every package under packages/ that is not private, as `pnpm -r publish` would see it.
 * @returns {{ name: string, version: string, directory: string, dir: string, manifest: any }[]}
 */
export function publishedPackages(root = ROOT) {
  const base = path.join(root, 'packages');
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = path.join(base, entry.name);
      const manifest = readJson(path.join(dir, 'package.json'));
      return {
        name: manifest.name,
        version: manifest.version,
        directory: `packages/${entry.name}`,
        dir,
        manifest,
      };
    })
    .filter((pkg) => !pkg.manifest.private)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * `pnpm pack`'s file name for a package: `@scope/name@1.2.3` → `scope-name-1.2.3.tgz`.
 * @param {string} name
 * @param {string} version
 */
export function tarballName(name, version) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * The repository URL set in the root manifest, or undefined while it is unset.
 * @returns {string | undefined}
 */
export function rootRepositoryUrl(root = ROOT) {
  const { repository } = readJson(path.join(root, 'package.json'));
  const url = typeof repository === 'string' ? repository : repository?.url;
  return typeof url === 'string' && url.trim() !== '' ? url.trim() : undefined;
}

/**
 * The `repository` (with `directory`), `homepage` and `bugs` of a package in this repository,
 * derived from the root's repository URL (`https://github.com/OWNER/REPO`, with or without
 * `git+` and `.git`). npm provenance requires `repository.url` to name the repository the
 * package is built from.
 * @param {string} url
 * @param {string} directory
 */
export function publishingFields(url, directory) {
  const web = url
    .replace(/^git\+/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  if (!/^https:\/\/[^/]+\/[^/]+\/[^/]+$/.test(web)) {
    throw new TypeError(
      `package.json repository.url must look like https://github.com/OWNER/REPO, got ${JSON.stringify(url)}`,
    );
  }
  return {
    repository: { type: 'git', url: `git+${web}.git`, directory },
    homepage: `${web}/tree/main/${directory}#readme`,
    bugs: { url: `${web}/issues` },
  };
}
