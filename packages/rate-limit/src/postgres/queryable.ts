/** The one method of `pg` (Pool, Client) and PGlite the store needs; both satisfy it. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /** PGlite's multi-statement runner; `pg` runs several statements through `query` without params. */
  exec?(text: string): Promise<unknown>;
}

/** A `pg` Pool or Client also takes a named query, which each connection prepares once. */
export interface NamedQuery {
  name: string;
  text: string;
  values: unknown[];
}

export function isQueryable(db: unknown): db is Queryable {
  return typeof db === 'object' && db !== null && typeof (db as Queryable).query === 'function';
}

/** Runs several statements as one implicit transaction (simple query protocol on both drivers). */
export async function runScript(db: Queryable, sql: string): Promise<void> {
  if (typeof db.exec === 'function') await db.exec(sql);
  else await db.query(sql);
}
