import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('runtime-agnostic: any runtime with Web Crypto', () => {
  it('the built entries (. and ./testing) import nothing but jose and their own files (no node:* module)', () => {
    const dist = join(packageDir, 'dist');
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) =>
      f.endsWith('.js'),
    );
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      // Doc comments (with their @example imports) left out: only code imports count.
      const source = readFileSync(join(dist, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
        (m) => m[1]!,
      );
      for (const specifier of specifiers) {
        expect(
          specifier === 'jose' || specifier.startsWith('./') || specifier.startsWith('../'),
          `${file}: ${specifier}`,
        ).toBe(true);
      }
    }
  });

  it('the entry verifies a proof with process hidden (no node:crypto fast path: Web Crypto only)', async () => {
    const code = `
      const saved = globalThis.process; globalThis.process = undefined;
      const d = await import('@portcullis/dpop');
      globalThis.process = saved;
      const key = await d.generateProofKey();
      const proof = await d.createProof({ ...key, method: 'GET', url: 'https://rs.example/mcp', accessToken: 't' });
      const r = await d.verifyProof(proof, { method: 'GET', url: 'https://rs.example/mcp', accessToken: 't', replay: d.createMemoryReplayStore() });
      console.log(r.jkt === await d.jwkThumbprint(key.publicJwk));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
      cwd: packageDir,
    });
    expect(stdout.trim()).toBe('true');
  });

  it('the root entry type-checks in a consumer with "types": [] (no @types/node)', async () => {
    const fixture = join(packageDir, 'test/fixtures/types-empty/tsconfig.json');
    const result = await run(process.execPath, [tsc, '-p', fixture], { cwd: packageDir }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );
    expect(result.stdout).toBe('');
  }, 60_000);
});
