import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

it('examples/client-and-server.mjs: nonce asked for and given, accepted, replay and key binding refused', async () => {
  const { stdout } = await run(process.execPath, ['examples/client-and-server.mjs'], {
    cwd: packageDir,
    timeout: 30_000,
  });
  expect(stdout.split('\n')).toEqual([
    'token request without a nonce: 400 use_dpop_nonce',
    'with the nonce: 200 DPoP',
    'resource request: 200 true',
    'the same proof again: 401 DPoP error="invalid_dpop_proof", error_description="The DPoP proof has been used before", algs="ES256"',
    'the token with another key: 401 DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"',
    '',
  ]);
});
