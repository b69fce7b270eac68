import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { serviceAvailable, TEST_DATABASE_URL } from '@portcullis/internal-testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStore, type TokenStore } from '../src/index.js';
import { postgresAdapter } from '../src/postgres/index.js';
import { ensureBuilt } from './support/build.js';
import { randomSchema } from './support/dump.js';

interface Issued {
  accessTokens: string[];
  refreshTokens: string[];
  codes: string[];
}

const fixture = fileURLToPath(new URL('./fixtures/issue-then-wait.mjs', import.meta.url));
const withPostgres = await serviceAvailable('Postgres');

/** Runs the fixture, reads the tokens it printed, and SIGKILLs it: no shutdown code runs. */
async function issueInChildThenKill(args: string[]): Promise<Record<string, Issued>> {
  const child = spawn(process.execPath, [fixture, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  lines.close();
  return JSON.parse(first) as Record<string, Issued>;
}

async function expectAllValid(store: TokenStore, issued: Issued): Promise<void> {
  expect(issued.accessTokens).toHaveLength(10);
  for (const token of issued.accessTokens) {
    expect((await store.accessTokens.validate(token)).clientId).toBe('client-a');
  }
  for (const token of issued.refreshTokens) {
    expect((await store.refreshTokens.find(token))?.consumedAt).toBeUndefined();
  }
  for (const code of issued.codes) {
    expect((await store.codes.consume(code)).status).toBe('consumed');
  }
}

describe('durability: tokens survive SIGKILL of the process that issued them', () => {
  let dataDir: string;
  const schema = randomSchema();

  beforeAll(async () => {
    ensureBuilt();
    dataDir = await mkdtemp(path.join(tmpdir(), 'token-store-pglite-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    if (withPostgres) {
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL });
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it('every token issued before SIGKILL validates after a restart (PGlite on disk, Postgres)', async () => {
    const issued = await issueInChildThenKill(
      withPostgres ? [dataDir, TEST_DATABASE_URL, schema] : [dataDir],
    );

    const lite = new PGlite(dataDir);
    try {
      await expectAllValid(
        createTokenStore({ adapter: postgresAdapter(lite), production: false }),
        issued.pglite!,
      );
    } finally {
      await lite.close();
    }

    if (withPostgres) {
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL });
      try {
        await expectAllValid(
          createTokenStore({ adapter: postgresAdapter(pool, { schema }), production: false }),
          issued.postgres!,
        );
      } finally {
        await pool.end();
      }
    }
  }, 60_000);
});
