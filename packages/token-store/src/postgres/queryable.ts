/** The one method of `pg` (Pool, Client) and PGlite the adapter needs; both satisfy it. */
export interface Queryable {
  query(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: unknown[]; rowCount?: number | null; affectedRows?: number }>;
  /** PGlite's multi-statement runner; `pg` runs several statements through `query` without params. */
  exec?(text: string): Promise<unknown>;
}

export function isQueryable(db: unknown): db is Queryable {
  return typeof db === 'object' && db !== null && typeof (db as Queryable).query === 'function';
}

/** Runs several statements as one implicit transaction (simple query protocol on both drivers). */
export async function runScript(db: Queryable, sql: string): Promise<void> {
  if (typeof db.exec === 'function') await db.exec(sql);
  else await db.query(sql);
}

/** Rows changed by a DELETE/UPDATE: `pg` reports `rowCount`, PGlite `affectedRows`. */
export function changedRows(result: { rowCount?: number | null; affectedRows?: number }): number {
  return result.affectedRows ?? result.rowCount ?? 0;
}
