// Packs every published package the way `pnpm publish` would (workspace: ranges replaced by
// versions, `files` applied) into one folder.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { publishedPackages, ROOT, tarballName } from './workspace.mjs';

const exec = promisify(execFile);

/**
 * @param {string} destination
 * @returns {Promise<Record<string, string>>} package name → tarball path
 */
export async function packAll(destination) {
  const packages = publishedPackages();
  const unbuilt = packages.filter((pkg) => !existsSync(path.join(pkg.dir, 'dist')));
  if (unbuilt.length > 0) {
    throw new Error(
      `build first (npx -y pnpm@12.4.2 build): no dist in ${unbuilt.map((p) => p.directory).join(', ')}`,
    );
  }
  await exec(
    'npx',
    [
      '-y',
      'pnpm@12.4.2',
      '-r',
      '--filter',
      './packages/*',
      'pack',
      '--pack-destination',
      destination,
    ],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  /** @type {Record<string, string>} */
  const tarballs = {};
  for (const pkg of packages) {
    const file = path.join(destination, tarballName(pkg.name, pkg.version));
    if (!existsSync(file)) throw new Error(`pnpm pack left no ${file}`);
    tarballs[pkg.name] = file;
  }
  return tarballs;
}
