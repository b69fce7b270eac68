import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AUTH_DIR, cleanEnv, MCP_DIR } from '@portcullis/internal-testing/apps';
import { afterEach, describe, expect, it } from 'vitest';

/** Every variable an app's configuration reads (`read(env, 'NAME')`, `env.NAME`, `env['NAME']`). */
function variablesRead(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const match of source.matchAll(
    /\(env, '([A-Z][A-Z0-9_]+)'|env\.([A-Z][A-Z0-9_]+)|env\['([A-Z][A-Z0-9_]+)'\]/g,
  )) {
    names.add(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return [...names];
}

const CONFIGS = [
  path.join(AUTH_DIR, 'src/lib/config.ts'),
  // MACHINE_CLIENTS and DCR_CLIENT_CREDENTIALS_SCOPES, read by the configuration through it.
  path.join(AUTH_DIR, 'src/lib/machine-clients.ts'),
  path.join(MCP_DIR, 'src/config.ts'),
];

describe("cleanEnv: the apps under test never see the developer shell's settings", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("strips every variable the apps' configurations read", () => {
    const names = CONFIGS.flatMap(variablesRead);
    // The scan finds the configurations' variables (a guard against a regex that finds none).
    expect(names).toEqual(
      expect.arrayContaining(['ISSUER_URL', 'ACCESS_TOKEN_CLAIMS', 'AUTH_MODE', 'MACHINE_CLIENTS']),
    );
    for (const name of names) process.env[name] = 'from the shell';
    const env = cleanEnv();
    const leaked = names.filter((name) => env[name] !== undefined);
    expect(leaked).toEqual([]);
  });

  it('keeps what the test passes on purpose', () => {
    process.env.ACCESS_TOKEN_CLAIMS = 'email';
    expect(cleanEnv({ ACCESS_TOKEN_CLAIMS: 'name' }).ACCESS_TOKEN_CLAIMS).toBe('name');
  });
});
