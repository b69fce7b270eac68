import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '@portcullis/internal-testing/apps';
import { describe, expect, it } from 'vitest';

const ENSURE = path.join(ROOT, 'scripts/ensure-chromium.mjs');

function ensure(env: Record<string, string>) {
  const run = spawnSync(process.execPath, [ENSURE], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('issue 17 item 5: the test command makes sure Chromium is there', () => {
  it('a Chromium that is there: nothing to do, nothing printed', () => {
    const present = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : process.execPath;
    expect(ensure({ CHROMIUM_PATH: present })).toEqual({ status: 0, out: '' });
  });

  it('a missing Chromium it may not install: stops with one line saying how', () => {
    const { status, out } = ensure({ CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(status).toBe(1);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).toContain('Chromium is missing at /nonexistent/chromium');
    expect(out).toContain('apt-get install -y chromium');
  });

  it('`pnpm test` runs the check before the build and the tests', async () => {
    const { default: manifest } = await import('../../../package.json', { with: { type: 'json' } });
    expect(manifest.scripts.test).toMatch(/node scripts\/ensure-chromium\.mjs && .*vitest run/);
  });
});
