import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { packAll } from '../src/pack.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** package name → path of its tarball, packed once for the whole run */
    tarballs: Record<string, string>;
  }
}

export default async function setup(project: TestProject) {
  const folder = mkdtempSync(path.join(tmpdir(), 'portcullis-tarballs-'));
  project.provide('tarballs', await packAll(folder));
  return () => rmSync(folder, { recursive: true, force: true });
}
