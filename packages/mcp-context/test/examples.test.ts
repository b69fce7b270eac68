import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs an example (against the built package, as a user would) and returns what it printed. */
async function example(file: string): Promise<string> {
  const { stdout } = await run(process.execPath, [join('examples', file)], {
    cwd: packageDir,
    timeout: 30_000,
  });
  return stdout;
}

describe('the runnable examples, one per SDK era', () => {
  it('SDK 1.x (express + McpServer + the v1 client): 401, 403 step-up, success', async () => {
    const out = await example('express-server.mjs');
    expect(out).toMatch(
      /without a bearer token: 401 Bearer resource_metadata="http:\/\/127\.0\.0\.1/,
    );
    expect(out).toContain('with the read_data scope: data for alice via example-client');
    expect(out).toContain('secure_operation with read_data only');
    expect(out).toContain('after step-up: Secure operation completed for user alice');
  });

  it('SDK 2.x (createMcpHandler + the v2 client): 401, 403 step-up with every scope, success', async () => {
    const out = await example('sdk-v2-server.mjs');
    expect(out).toMatch(
      /without a bearer token: 401 Bearer resource_metadata="http:\/\/127\.0\.0\.1/,
    );
    expect(out).toContain('with the read_data scope: data for alice via example-client');
    expect(out).toContain(
      'secure_operation with read_data only: 403 Bearer error="insufficient_scope"',
    );
    expect(out).toContain('scope="read_data admin"');
    expect(out).toContain('after step-up: Secure operation completed for user alice');
  });
});
