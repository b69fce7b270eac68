import type { Queryable } from './queryable.js';
import { runScript } from './queryable.js';

/** Double-quoted identifiers built from names checked against `IDENTIFIER`. */
export interface Tables {
  schema: string;
  records: string;
  migrations: string;
  /** The revocation feed: revoked, unexpired access tokens. */
  revocations: string;
  /** The once-only store (`store.replay`): key → expiry. */
  replay: string;
}

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

export function tablesFor(schema: string, tablePrefix: string): Tables {
  return {
    schema: `"${schema}"`,
    records: `"${schema}"."${tablePrefix}records"`,
    migrations: `"${schema}"."${tablePrefix}migrations"`,
    revocations: `"${schema}"."${tablePrefix}revoked"`,
    replay: `"${schema}"."${tablePrefix}replay"`,
  };
}

/**
 * Ordered, append-only: a deployed migration is never edited, a change is a new entry. One
 * generic table: `data` holds the record as JSON; the columns hold what is looked up or
 * updated atomically (`consumed_at`), each with its index.
 */
const MIGRATIONS: ((t: Tables) => string)[] = [
  (t) => `
    CREATE TABLE IF NOT EXISTS ${t.records} (
      kind        text   NOT NULL,
      id          text   NOT NULL,
      family_id   text,
      user_id     text,
      created_at  bigint NOT NULL,
      expires_at  bigint,
      consumed_at bigint,
      data        jsonb  NOT NULL,
      PRIMARY KEY (kind, id)
    );
    CREATE INDEX IF NOT EXISTS ${indexName(t, 'family')} ON ${t.records} (family_id) WHERE family_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${indexName(t, 'user')} ON ${t.records} (kind, user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${indexName(t, 'expires')} ON ${t.records} (expires_at) WHERE expires_at IS NOT NULL;`,
  // The revocation feed, read in (revoked_at, id) order; ids compare bytewise (COLLATE "C").
  (t) => `
    CREATE TABLE IF NOT EXISTS ${t.revocations} (
      id          text COLLATE "C" PRIMARY KEY,
      expires_at  bigint NOT NULL,
      revoked_at  bigint NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${indexName(t, 'order', t.revocations)} ON ${t.revocations} (revoked_at, id);
    CREATE INDEX IF NOT EXISTS ${indexName(t, 'expires', t.revocations)} ON ${t.revocations} (expires_at);`,
  // Room on each page for a row's new version: a consumed code or token and the family row
  // (rewritten with each write of its grant, its expiry unchanged) are then updated on their own
  // page without new index entries (HOT). New pages only; existing ones fill up as they did.
  (t) => `ALTER TABLE ${t.records} SET (fillfactor = 70);`,
  // The once-only store (`store.replay`): a key per row until its expiry, then purged.
  (t) => `
    CREATE TABLE IF NOT EXISTS ${t.replay} (
      key        text   PRIMARY KEY,
      expires_at bigint NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${indexName(t, 'expires', t.replay)} ON ${t.replay} (expires_at);`,
];

function indexName(t: Tables, suffix: string, table = t.records): string {
  // "schema"."prefix_records" → "prefix_records_family" (indexes live in the table's schema).
  return `"${table.split('.')[1]!.slice(1, -1)}_${suffix}"`;
}

/**
 * Applies the missing migrations, idempotently: each runs with the `migrations` row that marks
 * it in one transaction, under an advisory lock so two processes starting together wait for
 * each other instead of racing on `CREATE TABLE`.
 */
export async function migrate(db: Queryable, t: Tables): Promise<void> {
  const lockKey = `hashtext('portcullis-token-store:' || ${literal(t.records)})`;
  await runScript(
    db,
    `SELECT pg_advisory_xact_lock(${lockKey});
     CREATE SCHEMA IF NOT EXISTS ${t.schema};
     CREATE TABLE IF NOT EXISTS ${t.migrations} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`,
  );
  const { rows } = await db.query(`SELECT version FROM ${t.migrations}`);
  const applied = new Set((rows as { version: number }[]).map((row) => Number(row.version)));
  for (const [index, migration] of MIGRATIONS.entries()) {
    const version = index + 1;
    if (applied.has(version)) continue;
    await runScript(
      db,
      `SELECT pg_advisory_xact_lock(${lockKey});
       ${migration(t)}
       INSERT INTO ${t.migrations} (version) VALUES (${version}) ON CONFLICT (version) DO NOTHING;`,
    );
  }
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
