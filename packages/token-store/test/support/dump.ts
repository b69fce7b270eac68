import type { Redis } from 'ioredis';

export function randomSchema(): string {
  return `ts_${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex')}`;
}

interface Queryable {
  query(text: string): Promise<{ rows: unknown[] }>;
}

/**
 * Every row of the records table, of the revocation feed beside it (`…revoked`) and of the
 * once-only store (`…replay`), each as
 * Postgres prints it (`row::text`).
 */
export async function dumpPostgres(db: Queryable, table: string): Promise<string> {
  const feed = table.replace(/records"$/, 'revoked"');
  const replay = table.replace(/records"$/, 'replay"');
  const { rows } = await db.query(
    `SELECT r::text AS line FROM ${table} r UNION ALL SELECT f::text FROM ${feed} f
     UNION ALL SELECT p::text FROM ${replay} p`,
  );
  return (rows as { line: string }[]).map((row) => row.line).join('\n');
}

/** Every key under the prefix: its DUMP serialisation and its readable value. */
export async function dumpRedis(redis: Redis, prefix: string): Promise<string> {
  const keys = await redis.keys(`${prefix}*`);
  const lines: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    const serialised = await redis.dumpBuffer(key);
    let value: unknown;
    if (type === 'hash') value = await redis.hgetall(key);
    else if (type === 'set') value = await redis.smembers(key);
    else if (type === 'string') value = await redis.get(key);
    else if (type === 'zset') value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    lines.push(`${key} ${type} ${JSON.stringify(value)} ${serialised?.toString('latin1')}`);
  }
  return lines.join('\n');
}

export async function deleteRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}
