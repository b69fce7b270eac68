import type { RateLimitAlgorithmName } from '../types.js';

/**
 * The SQL of each algorithm: one `INSERT … ON CONFLICT DO UPDATE … RETURNING` per decision, so
 * that Postgres decides and updates under the row's lock in one atomic statement — the same
 * integer arithmetic as `src/*.ts` and the Lua scripts, in `numeric` so that no product of a
 * huge cost overflows. Parameters: $1 key, $2 window (or emission interval) µs, $3 limit (or
 * burst), $4 cost. The time is the server's `clock_timestamp()`, read after the row is locked,
 * so instances whose clocks disagree share one window and a key's time never runs backwards.
 *
 * A row holds the state (`a`, `b`, `c`), the time after which it is idle (`expires_at`, µs)
 * and the last decision on the key, which `RETURNING` hands back (it sees only the new row).
 */
export function decisionStatement(
  table: string,
  algorithm: RateLimitAlgorithmName,
  now: string = NOW,
): string {
  const decide = DECIDE[algorithm];
  return `INSERT INTO ${table} AS s (key, a, b, c, expires_at, ok, remaining, reset_us, retry_us)
SELECT $1::text, d.* FROM ${decide('0', '0', '0', '0', now)} AS d
ON CONFLICT (key) DO UPDATE SET (a, b, c, expires_at, ok, remaining, reset_us, retry_us) =
  (SELECT d.* FROM ${decide('s.a', 's.b', 's.c', 's.expires_at', now)} AS d)
RETURNING ok, remaining, reset_us, retry_us`;
}

// Each builds a one-row subquery from the stored state (column references, or 0 for a new key):
// the new state, kept as it was when the request is refused, then the decision.
type Decide = (a: string, b: string, c: string, expires: string, now: string) => string;

/** The server's time in µs, read once per decision. Tests put a parameter in its place. */
export const NOW =
  '(SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::numeric AS now OFFSET 0)';
const W = '$2::numeric';
const L = '$3::numeric';
const COST = '$4::numeric';

const DECIDE: Record<RateLimitAlgorithmName, Decide> = {
  'fixed-window': (a, b, c, expires, now) => `(
  SELECT CASE WHEN x.ok THEN x.idx ELSE ${a} END, CASE WHEN x.ok THEN x.count + ${COST} ELSE ${b} END,
    ${c}, CASE WHEN x.ok THEN (x.idx + 1) * ${W} ELSE ${expires} END, x.ok,
    CASE WHEN x.ok THEN ${L} - x.count - ${COST} ELSE GREATEST(0, ${L} - x.count) END,
    (x.idx + 1) * ${W} - x.now, CASE WHEN x.ok THEN 0 ELSE (x.idx + 1) * ${W} - x.now END
  FROM ${now} AS t,
    LATERAL (SELECT div(t.now, ${W}) AS idx OFFSET 0) AS i,
    LATERAL (SELECT CASE WHEN ${a} = i.idx THEN ${b} ELSE 0 END AS count OFFSET 0) AS n,
    LATERAL (SELECT t.now, i.idx, n.count, n.count + ${COST} <= ${L} AS ok OFFSET 0) AS x)`,

  'sliding-window': (a, b, c, expires, now) => `(
  SELECT CASE WHEN x.ok THEN x.idx ELSE ${a} END, CASE WHEN x.ok THEN x.cur + ${COST} ELSE ${b} END,
    CASE WHEN x.ok THEN x.prev ELSE ${c} END,
    CASE WHEN x.ok THEN (x.idx + 2) * ${W} ELSE ${expires} END, x.ok,
    CASE WHEN x.ok THEN div(${L} * ${W} - x.weighted - (x.cur + ${COST}) * ${W}, ${W})
      ELSE GREATEST(0, div(${L} * ${W} - x.weighted - x.cur * ${W}, ${W})) END,
    x.until_end,
    CASE WHEN x.ok THEN 0
      WHEN x.cur + ${COST} <= ${L}
        THEN ${W} - div((${L} - x.cur - ${COST}) * ${W}, NULLIF(x.prev, 0)) - (${W} - x.until_end)
      WHEN ${COST} > ${L} OR x.cur = 0 THEN x.until_end
      ELSE x.until_end + ${W} - div((${L} - ${COST}) * ${W}, NULLIF(x.cur, 0)) END
  FROM ${now} AS t,
    LATERAL (SELECT div(t.now, ${W}) AS idx OFFSET 0) AS i,
    LATERAL (SELECT CASE WHEN ${a} = i.idx THEN ${b} ELSE 0 END AS cur,
      CASE WHEN ${a} = i.idx THEN ${c} WHEN ${a} = i.idx - 1 THEN ${b} ELSE 0 END AS prev OFFSET 0) AS n,
    LATERAL (SELECT i.idx, n.cur, n.prev, (i.idx + 1) * ${W} - t.now AS until_end,
      n.prev * ((i.idx + 1) * ${W} - t.now) AS weighted OFFSET 0) AS y,
    LATERAL (SELECT y.*, CASE WHEN y.cur + ${COST} > ${L} THEN false
      ELSE y.weighted + (y.cur + ${COST}) * ${W} <= ${L} * ${W} END AS ok OFFSET 0) AS x)`,

  // A cost far above the burst would wait longer than a bigint holds: 2^53 - 1 µs is forever.
  'token-bucket': (a, b, c, expires, now) => `(
  SELECT CASE WHEN x.ok THEN x.next ELSE ${a} END, ${b}, ${c},
    CASE WHEN x.ok THEN x.next ELSE ${expires} END, x.ok,
    CASE WHEN x.ok THEN div(x.now - x.allow_at, ${W})
      ELSE GREATEST(0, div(x.now - x.tat + ${L} * ${W}, ${W})) END,
    CASE WHEN x.ok THEN x.next - x.now ELSE x.tat - x.now END,
    CASE WHEN x.ok THEN 0 ELSE LEAST(x.allow_at - x.now, 9007199254740991) END
  FROM ${now} AS t,
    LATERAL (SELECT t.now, GREATEST(${a}, t.now) AS tat OFFSET 0) AS g,
    LATERAL (SELECT g.tat + ${COST} * ${W} AS next OFFSET 0) AS n,
    LATERAL (SELECT g.now, g.tat, n.next, n.next - ${L} * ${W} AS allow_at,
      n.next - ${L} * ${W} <= g.now AS ok OFFSET 0) AS x)`,
};

/** The table, created when missing (with its schema unless `public`), under an advisory lock. */
export function createStatements(schema: string, table: string): string {
  const lock = `hashtext('portcullis-rate-limit:' || '${table.replaceAll("'", "''")}')`;
  return `SELECT pg_advisory_xact_lock(${lock});
${schema === '"public"' ? '' : `CREATE SCHEMA IF NOT EXISTS ${schema};`}
CREATE TABLE IF NOT EXISTS ${table} (
  key        text    PRIMARY KEY,
  a          bigint  NOT NULL,
  b          bigint  NOT NULL,
  c          bigint  NOT NULL,
  expires_at bigint  NOT NULL,
  ok         boolean NOT NULL,
  remaining  bigint  NOT NULL,
  reset_us   bigint  NOT NULL,
  retry_us   bigint  NOT NULL
);`;
}
