import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const V1 = ['@modelcontextprotocol/sdk'];
const V2 = [
  '@modelcontextprotocol/server',
  '@modelcontextprotocol/client',
  '@modelcontextprotocol/core',
  '@modelcontextprotocol/node',
  '@modelcontextprotocol/express',
];

/**
 * Imports one entry of the built package in a fresh Node process whose module resolution
 * refuses the given packages (a resolve hook), as if they were not installed.
 */
async function runWithout(code: string, blocked: string[]): Promise<string> {
  const hook = `data:text/javascript,${encodeURIComponent(`
    const blocked = ${JSON.stringify(blocked)};
    export async function resolve(specifier, context, next) {
      if (blocked.some((name) => specifier === name || specifier.startsWith(name + '/')))
        throw new Error('not installed: ' + specifier);
      return next(specifier, context);
    }`)}`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(hook)});`;
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      '--input-type=module',
      '-e',
      code,
    ],
    { cwd: packageDir },
  );
  return stdout.trim();
}

async function importWithout(entry: string, blocked: string[]): Promise<string[]> {
  const code = `const m = await import(${JSON.stringify(entry)}); console.log(Object.keys(m).sort().join(','));`;
  return (await runWithout(code, blocked)).split(',');
}

describe('entry points: each era needs only its own SDK, the root neither', () => {
  it('the root entry loads with no MCP SDK installed', async () => {
    const names = await importWithout('@portcullis/mcp-context', [...V1, ...V2]);
    expect(names).toEqual(expect.arrayContaining(['authenticate', 'authContext', 'jwtVerifier']));
  });

  it('./node loads with no MCP SDK installed', async () => {
    const names = await importWithout('@portcullis/mcp-context/node', [...V1, ...V2]);
    expect(names).toEqual([
      'bearerAuth',
      'originGuardMiddleware',
      'protectedResourceMetadataMiddleware',
    ]);
  });

  it('./sdk-v1 loads without any SDK 2.x package', async () => {
    expect(await importWithout('@portcullis/mcp-context/sdk-v1', V2)).toEqual(['protectTools']);
  });

  it('./sdk-v2 loads without @modelcontextprotocol/sdk 1.x', async () => {
    expect(await importWithout('@portcullis/mcp-context/sdk-v2', V1)).toEqual([
      'protectTools',
      'scopeChallenge',
    ]);
  });

  it('./testing loads with no MCP SDK; each test client needs only its own era', async () => {
    expect(await importWithout('@portcullis/mcp-context/testing', [...V1, ...V2])).toEqual([
      'connectTestClient',
      'connectTestClientV2',
      'createTestIssuer',
    ]);
    const issuer = `const { createTestIssuer } = await import('@portcullis/mcp-context/testing');
      const issuer = await createTestIssuer(); console.log(issuer.issuer.startsWith('http://127.0.0.1:')); await issuer.close();`;
    expect(await runWithout(issuer, [...V1, ...V2])).toBe('true');
    // The hook does refuse: the v1 test client without SDK 1.x fails, naming the package.
    const v1Client = `const { connectTestClient } = await import('@portcullis/mcp-context/testing');
      await connectTestClient({ connect: async () => {} });`;
    await expect(runWithout(v1Client, V1)).rejects.toThrow(
      /not installed: @modelcontextprotocol\/sdk/,
    );
  });

  it('the root entry type-checks in a consumer with "types": [] (no @types/node)', async () => {
    const fixture = join(packageDir, 'test/fixtures/types-empty/tsconfig.json');
    const result = await run(process.execPath, [tsc, '-p', fixture], { cwd: packageDir }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );
    expect(result.stdout).toBe('');
  }, 60_000);
});
