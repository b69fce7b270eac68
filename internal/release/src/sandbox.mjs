// A folder outside the workspace where `@portcullis/*` resolve to the packed tarballs and
// every other dependency to the copy the workspace already installed: what `npm install` of
// the tarballs gives, without the network or a minute of installing.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './workspace.mjs';

/** Every third-party package some workspace package depends on, name → installed folder. */
function installedDependencies() {
  /** @type {Map<string, string>} */
  const found = new Map();
  for (const group of ['packages', 'apps', 'internal']) {
    for (const member of readdirSync(path.join(ROOT, group))) {
      const modules = path.join(ROOT, group, member, 'node_modules');
      if (!existsSync(modules)) continue;
      for (const entry of readdirSync(modules)) {
        if (entry.startsWith('.') || entry === '@portcullis') continue;
        const names = entry.startsWith('@')
          ? readdirSync(path.join(modules, entry)).map((sub) => `${entry}/${sub}`)
          : [entry];
        for (const name of names) {
          if (!found.has(name)) found.set(name, realpathSync(path.join(modules, name)));
        }
      }
    }
  }
  return found;
}

/**
 * @param {Record<string, string>} tarballs package name → tarball
 * @returns {string} the sandbox folder, with node_modules filled
 */
export function createSandbox(tarballs) {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-sandbox-'));
  const modules = path.join(dir, 'node_modules');
  for (const [name, folder] of installedDependencies()) {
    mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    symlinkSync(folder, path.join(modules, name), 'dir');
  }
  for (const [name, tarball] of Object.entries(tarballs)) {
    const target = path.join(modules, name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
  }
  return dir;
}
