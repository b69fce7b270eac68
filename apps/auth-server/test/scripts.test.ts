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

describe('issue 17 item 6: `pnpm start` talks', () => {
  const START = path.join(ROOT, 'scripts/start.mjs');

  it.each([
    ['REDIS_URL', 'redis://127.0.0.1:9/0', /^REDIS_URL: cannot reach Redis at 127\.0\.0\.1:9 \(/],
    [
      'DATABASE_URL',
      'postgres://postgres@127.0.0.1:9/test',
      /^DATABASE_URL: cannot reach PostgreSQL at 127\.0\.0\.1:9 \(/,
    ],
  ])('an unreachable %s stops it with one clear line within 10 s', (name, url, line) => {
    const started = Date.now();
    const run = spawnSync(process.execPath, [START, '--build'], {
      cwd: ROOT,
      env: { ...process.env, [name]: url },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.status).toBe(1);
    const out = `${run.stdout}${run.stderr}`.trim();
    expect(out.split('\n')).toHaveLength(1);
    expect(out).toMatch(line);
  });

  it('something that answers but is not the service is named as such', async () => {
    const { createServer } = await import('node:net');
    const server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const { checkServices } = (await import(path.join(ROOT, 'scripts/start-steps.mjs'))) as {
        checkServices: (env: Record<string, string>) => Promise<void>;
      };
      const exit = new Promise<string>((resolve) => {
        const original = process.exit;
        const error = console.error;
        let said = '';
        console.error = (text: string) => {
          said = text;
        };
        process.exit = ((code: number) => {
          process.exit = original;
          console.error = error;
          resolve(`${code} ${said}`);
        }) as typeof process.exit;
      });
      void checkServices({ DATABASE_URL: `postgres://127.0.0.1:${port}/x` });
      expect(await exit).toMatch(/^1 DATABASE_URL: .*something answered, but not PostgreSQL/);
    } finally {
      server.close();
    }
  });

  it('the build prints a line per package (pnpm on PATH, as under `npx pnpm start`)', () => {
    const run = spawnSync(
      'npx',
      [
        '-y',
        'pnpm@12.4.2',
        'exec',
        'node',
        '--input-type=module',
        '-e',
        "const { build } = await import('./scripts/start-steps.mjs'); const { pathToFileURL } = await import('node:url'); await build(pathToFileURL(process.cwd() + '/'));",
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 240_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^Building/);
    for (const name of [
      '@portcullis/oauth-server',
      '@portcullis/auth-server',
      '@portcullis/mcp-server',
    ]) {
      expect(
        lines.some((l) => l.includes(name)),
        name,
      ).toBe(true);
    }
    expect(lines.some((l) => /^Built in \d+ s\.$/.test(l))).toBe(true);
  }, 240_000);
});
