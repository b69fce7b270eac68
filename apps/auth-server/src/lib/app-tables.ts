/** What the app's own tables need of a database: `pg`'s Pool and PGlite (or its thread) both fit. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Creates one of the app's tables beside the token records (its schema first) on the first call,
 * and again after a failure (a database that was down may be back). The app calls it at start-up
 * under the instances' start-up lock, so two instances never race in Postgres's catalog.
 *
 * @example
 * const migrate = migrateOnce(db, 'public', `CREATE TABLE IF NOT EXISTS "public"."t" (id int)`);
 * await migrate();
 */
export function migrateOnce(
  db: Queryable,
  schema: string,
  ...statements: string[]
): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= (async () => {
      await db.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      for (const statement of statements) await db.query(statement);
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };
}
