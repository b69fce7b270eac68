import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Child-process tests import `dist/` as an app would. `turbo run test` builds first; a bare
 * `vitest run` in a fresh checkout builds here.
 */
export function ensureBuilt(): void {
  if (existsSync(new URL('../../dist/postgres/index.js', import.meta.url))) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: packageRoot, stdio: 'inherit' });
}
