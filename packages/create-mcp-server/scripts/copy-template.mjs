// Copies apps/mcp-server into template/ as a project of its own: what `npm create
// @portcullis/mcp-server` writes. Runs at build and at pack time, so the template that ships is
// whatever apps/mcp-server holds then. Needs the build (dist/lib) and the workspace.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { standaloneManifest } from '../dist/lib/standalone-manifest.js';
import { standaloneReadme } from '../dist/lib/standalone-readme.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SOURCE = path.join(ROOT, 'apps/mcp-server');
const TARGET = path.join(HERE, 'template');

// Installed, built or local things, and the template's own test that packs ../../packages.
const LEAVE_OUT = new Set([
  'node_modules',
  'dist',
  '.turbo',
  'coverage',
  '.data',
  '.env',
  '.env.local',
]);
const LEAVE_OUT_FILES = new Set([path.join('test', 'template.test.ts')]);

const GITIGNORE = `node_modules/
dist/
coverage/
.data/
*.log
*.tsbuildinfo
.env
.env.local
`;

/** name → version of every package of this release. */
function releaseVersions() {
  /** @type {Record<string, string>} */
  const versions = {};
  for (const member of readdirSync(path.join(ROOT, 'packages'))) {
    const file = path.join(ROOT, 'packages', member, 'package.json');
    if (!existsSync(file)) continue;
    const { name, version, private: isPrivate } = JSON.parse(readFileSync(file, 'utf8'));
    if (!isPrivate) versions[name] = version;
  }
  return versions;
}

rmSync(TARGET, { recursive: true, force: true });
cpSync(SOURCE, TARGET, {
  recursive: true,
  filter: (src) => {
    const relative = path.relative(SOURCE, src);
    const base = path.basename(src);
    return (
      !LEAVE_OUT.has(base) && !LEAVE_OUT_FILES.has(relative) && !/\.(log|tsbuildinfo)$/.test(base)
    );
  },
});
const manifest = JSON.parse(readFileSync(path.join(SOURCE, 'package.json'), 'utf8'));
writeFileSync(
  path.join(TARGET, 'package.json'),
  `${JSON.stringify(standaloneManifest(manifest, releaseVersions()), null, 2)}\n`,
);
writeFileSync(
  path.join(TARGET, 'README.md'),
  standaloneReadme(readFileSync(path.join(SOURCE, 'README.md'), 'utf8')),
);
writeFileSync(path.join(TARGET, 'gitignore'), GITIGNORE);
