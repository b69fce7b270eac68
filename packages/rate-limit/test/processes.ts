import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/fire.mjs', import.meta.url));

/** A child's stdout, one line per call. */
function lineReader(input: NodeJS.ReadableStream): () => Promise<string> {
  const queue: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  createInterface({ input }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  return () =>
    new Promise<string>((resolve) => {
      const line = queue.shift();
      if (line !== undefined) resolve(line);
      else waiters.push(resolve);
    });
}

/**
 * Two app processes on one store (`spec()`, see fixtures/fire.mjs), each firing 500 concurrent
 * calls at one key at the same moment, limit 100: together they must admit exactly 100.
 */
export function exactAcrossProcesses(spec: () => string, prefix: () => string): void {
  for (const kind of ['sliding-window', 'token-bucket', 'fixed-window']) {
    it(`${kind}: two processes × 500 concurrent calls at one key, limit 100 → exactly 100 admitted`, async () => {
      if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
        throw new Error('dist/ is missing: run `npm run build` (turbo runs it before test)');
      }
      const children = [0, 1].map(() =>
        spawn(process.execPath, [FIXTURE, spec(), `${prefix()}:${kind}`, kind, '500'], {
          stdio: ['pipe', 'pipe', 'inherit'],
        }),
      );
      const lines = children.map((child) => lineReader(child.stdout!));
      expect(await Promise.all(lines.map((next) => next()))).toEqual(['ready', 'ready']);
      for (const child of children) child.stdin!.write('go\n');
      const reports = (await Promise.all(lines.map((next) => next()))).map(
        (line) => JSON.parse(line) as { admitted: number; failed: number },
      );
      expect(reports.map((r) => r.failed)).toEqual([0, 0]);
      expect(reports[0]!.admitted + reports[1]!.admitted).toBe(100);
      // Two Node processes starting and 1,000 calls: seconds on a busy two-core machine.
    }, 60_000);
  }
}
