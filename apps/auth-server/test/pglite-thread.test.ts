import { rmSync } from 'node:fs';
import { tempDir } from '@portcullis/internal-testing/apps';
import { createTokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startPGliteThread } from '../src/lib/pglite-thread';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('PGlite in a worker thread (the embedded store of the app)', () => {
  it('answers queries with parameters, scripts, errors as rejections, and keeps its data across a close', async () => {
    const dir = tempDir('portcullis-pglite-thread-');
    dirs.push(dir);
    const db = (await startPGliteThread(dir))!;
    expect(db).toBeDefined();
    await db.exec(
      'CREATE TABLE t (k text PRIMARY KEY, n int, at timestamptz); CREATE INDEX ON t (n);',
    );
    // Real concurrency: 50 inserts at once, each with its own parameters.
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.query('INSERT INTO t VALUES ($1, $2, $3)', [`k${i}`, i, new Date(1_000_000 + i)]),
      ),
    );
    const { rows } = await db.query('SELECT k, n, at FROM t WHERE n = $1', [7]);
    expect(rows).toEqual([{ k: 'k7', n: 7, at: new Date(1_000_007) }]);
    expect((await db.query('UPDATE t SET n = n + 1 WHERE n < $1', [10])).affectedRows).toBe(10);
    // A failing statement rejects with the database's message; the thread goes on.
    await expect(db.query('INSERT INTO t VALUES ($1, $2, $3)', ['k1', 1, null])).rejects.toThrow(
      /duplicate key/,
    );
    await expect(db.query('SELECT nope FROM t')).rejects.toThrow(/nope/);
    // A script is one implicit transaction: a failure in it leaves nothing behind.
    await expect(
      db.exec("INSERT INTO t VALUES ('new', 0, null); INSERT INTO t VALUES ('k2', 0, null);"),
    ).rejects.toThrow(/duplicate key/);
    expect((await db.query("SELECT count(*)::int AS c FROM t WHERE k = 'new'")).rows).toEqual([
      { c: 0 },
    ]);
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow(/exited/);

    // What was committed is on disk for the next process (close() flushed it).
    const again = (await startPGliteThread(dir))!;
    expect((await again.query('SELECT count(*)::int AS c FROM t')).rows).toEqual([{ c: 50 }]);
    await again.close();
  });

  it('a thread that dies is started again on the same directory, nothing committed lost', async () => {
    const dir = tempDir('portcullis-pglite-thread-');
    dirs.push(dir);
    const db = (await startPGliteThread(dir))!;
    await db.exec('CREATE TABLE t (k text PRIMARY KEY)');
    await db.query('INSERT INTO t VALUES ($1)', ['before']);
    // The thread dies with a query in flight: that query fails (the store answers 503).
    const inFlight = db.query('SELECT pg_sleep(0.5)');
    await db.crashForTest();
    await expect(inFlight).rejects.toThrow(/exited/);
    // A second after its start, the next query starts a new thread; the committed row is there.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await db.query('SELECT k FROM t')).rows).toEqual([{ k: 'before' }]);
    await db.query('INSERT INTO t VALUES ($1)', ['after']);
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow(/exited/);
    const again = (await startPGliteThread(dir))!;
    expect((await again.query('SELECT k FROM t ORDER BY k')).rows).toEqual([
      { k: 'after' },
      { k: 'before' },
    ]);
    await again.close();
  });

  it('carries the token store through execProtocolRaw (prepared statements), prepared again in a restarted thread', async () => {
    const dir = tempDir('portcullis-pglite-thread-');
    dirs.push(dir);
    const db = (await startPGliteThread(dir))!;
    const raw: number[] = [];
    const queries: string[] = [];
    const counted = {
      ...db,
      query: (text: string, params?: unknown[]) => {
        queries.push(text);
        return db.query(text, params);
      },
      execProtocolRaw: (message: Uint8Array) => {
        raw.push(message[0]!);
        return db.execProtocolRaw(message);
      },
    };
    const store = createTokenStore({ adapter: postgresAdapter(counted), production: false });
    const { token } = await store.accessTokens.issue({ clientId: 'c', userId: 'u', scopes: [] });
    expect(await store.accessTokens.validate(token)).toMatchObject({ userId: 'u' });
    // Only the migration runner reads through query; the store's statements go raw.
    expect(queries.filter((text) => !text.includes('portcullis_migrations'))).toEqual([]);
    expect(raw.length).toBeGreaterThanOrEqual(2);
    // Real concurrency through the thread: 20 rotations of one refresh token, exactly one wins.
    const { token: refresh } = await store.refreshTokens.issue({
      clientId: 'c',
      userId: 'u',
      scopes: [],
    });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.refreshTokens.rotate(refresh, { graceSeconds: 0 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    // The new thread knows none of the statements: each is prepared again on first use.
    await db.crashForTest();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store.accessTokens.validate(token)).toMatchObject({ userId: 'u' });
    const second = await store.accessTokens.issue({ clientId: 'c', userId: 'v', scopes: [] });
    expect(await store.accessTokens.validate(second.token)).toMatchObject({ userId: 'v' });
    await store.close();
    await db.close();
  });
});
