import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cleanEnv, ROOT, tempDir } from '@portcullis/internal-testing/apps';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Issue 17 item 4: a Vercel project with Root Directory `apps/auth-server` builds. Vercel runs
 * vercel.json's install and build commands in that directory of a fresh checkout with VERCEL=1;
 * so does this test, in a clean clone of the commit under test.
 */
describe('Vercel: vercel.json builds the app from a clean clone', () => {
  const dir = tempDir('portcullis-vercel-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installCommand then buildCommand, in apps/auth-server with VERCEL=1, produce a Next.js build', () => {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    execFileSync('git', ['clone', '--quiet', '--no-checkout', ROOT, dir]);
    execFileSync('git', ['checkout', '--quiet', commit], { cwd: dir });
    const app = path.join(dir, 'apps/auth-server');
    const vercel = JSON.parse(readFileSync(path.join(app, 'vercel.json'), 'utf8')) as {
      framework: string;
      installCommand: string;
      buildCommand: string;
      outputDirectory: string;
    };
    expect(vercel.framework).toBe('nextjs');
    // Vercel's environment: none of this shell's app variables, NODE_ENV unset (Vitest sets 'test').
    const env = cleanEnv({ VERCEL: '1', CI: '1' });
    for (const command of [vercel.installCommand, vercel.buildCommand]) {
      const run = spawnSync('sh', ['-c', command], { cwd: app, env, encoding: 'utf8' });
      expect(run.status, `${command}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`).toBe(
        0,
      );
    }
    expect(existsSync(path.join(app, vercel.outputDirectory, 'BUILD_ID'))).toBe(true);
    // The workspace packages were built inside the clone, not borrowed from this checkout.
    expect(existsSync(path.join(dir, 'packages/oauth-server/dist/index.js'))).toBe(true);
  }, 600_000);
});
