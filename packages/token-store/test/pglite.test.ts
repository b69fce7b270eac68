import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll } from 'vitest';
import { postgresAdapter } from '../src/postgres/index.js';
import { conformance } from './support/conformance.js';
import { dumpPostgres } from './support/dump.js';

// One in-memory PGlite for the file (it takes seconds to start); a table prefix per test.
let db: PGlite;
let n = 0;

// PGlite compiles its WASM on start: over 10 s on a loaded 2-core machine.
beforeAll(async () => {
  db = new PGlite();
  await db.waitReady;
}, 120_000);

afterAll(async () => {
  await db.close();
});

conformance('PGlite', async () => {
  const adapter = postgresAdapter(db, { tablePrefix: `t${++n}_` });
  return {
    adapter,
    dump: () => dumpPostgres(db, adapter.table),
    close: () => adapter.close(),
  };
});
