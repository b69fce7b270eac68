import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientRecord, createTokenStore } from '../src/index.js';
import { postgresAdapter } from '../src/postgres/index.js';
import { pgliteQueryable } from '../src/postgres/pglite-protocol.js';
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

// The same adapter through PGlite's own `query` (a proxy without `execProtocolRaw` takes it too).
conformance('PGlite (preparedStatements: false)', async () => {
  const adapter = postgresAdapter(db, { tablePrefix: `q${++n}_`, preparedStatements: false });
  return {
    adapter,
    dump: () => dumpPostgres(db, adapter.table),
    close: () => adapter.close(),
  };
});

describe('PGlite prepared statements through execProtocolRaw', () => {
  function spied() {
    const raw: number[] = [];
    const queries: string[] = [];
    // PGlite keeps private fields: a plain object that forwards to it, as a proxy of one would.
    const spy = {
      execProtocolRaw: (message: Uint8Array) => {
        raw.push(message[0]!);
        return db.execProtocolRaw(message);
      },
      query: (text: string, params?: unknown[]) => {
        queries.push(text);
        return db.query(text, params);
      },
      exec: (text: string) => db.exec(text),
      _checkReady: () => db._checkReady(),
      _runExclusiveQuery: <T>(fn: () => Promise<T>) => db._runExclusiveQuery(fn),
      _runExclusiveTransaction: <T>(fn: () => Promise<T>) => db._runExclusiveTransaction(fn),
    };
    return { spy, raw, queries };
  }

  it('prepares each statement once, then sends Bind/Execute/Sync in one call; PGlite query only when told not to', async () => {
    for (const preparedStatements of [undefined, false]) {
      const { spy, raw, queries } = spied();
      const adapter = postgresAdapter(spy, {
        tablePrefix: `s${++n}_`,
        ...(preparedStatements === undefined ? {} : { preparedStatements }),
      });
      await adapter.migrate();
      queries.length = 0;
      raw.length = 0;
      const store = createTokenStore({ adapter, production: false });
      const issued = [];
      for (let i = 0; i < 3; i++) {
        issued.push(await store.accessTokens.issue({ clientId: 'c', userId: 'u', scopes: [] }));
      }
      for (const { token } of issued) {
        expect(await store.accessTokens.validate(token)).toMatchObject({ userId: 'u' });
      }
      if (preparedStatements === false) {
        expect(raw).toEqual([]);
        expect(queries.length).toBeGreaterThanOrEqual(6);
      } else {
        expect(queries).toEqual([]);
        // 'P' (Parse) opens the first call of each distinct statement; later ones start with 'B'.
        expect(raw.filter((first) => first === 'P'.charCodeAt(0)).length).toBe(2);
        expect(raw.filter((first) => first === 'B'.charCodeAt(0)).length).toBe(4);
      }
    }
  });

  it('prepares a statement again when it was deallocated behind its back (DISCARD ALL)', async () => {
    const adapter = postgresAdapter(db, { tablePrefix: `d${++n}_` });
    const store = createTokenStore({ adapter, production: false });
    const { token } = await store.accessTokens.issue({ clientId: 'c', userId: 'u', scopes: [] });
    expect(await store.accessTokens.validate(token)).toMatchObject({ userId: 'u' });
    await db.exec('DEALLOCATE ALL');
    expect(await store.accessTokens.validate(token)).toMatchObject({ userId: 'u' });
    const second = await store.accessTokens.issue({ clientId: 'c', userId: 'v', scopes: [] });
    expect(await store.accessTokens.validate(second.token)).toMatchObject({ userId: 'v' });
  });

  it("never runs inside another caller's open transaction: a write waits for it, and its rollback does not undo the write", async () => {
    const adapter = postgresAdapter(db, { tablePrefix: `x${++n}_` });
    await adapter.migrate();
    const record = {
      clientId: 'c',
      userId: 'u',
      scopes: [],
      familyId: 'f1',
      createdAt: Date.now(),
      expiresAt: Date.now() + 60_000,
    };
    let write: Promise<boolean> | undefined;
    await db
      .transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ${adapter.table} (kind, id, created_at, data) VALUES ('client', 'other', 0, '{}')`,
        );
        write = adapter.set('access_token', 'a1', record);
        // The write is queued behind this transaction: inside it, the row is not there.
        const { rows } = await tx.query(
          `SELECT id FROM ${adapter.table} WHERE kind = 'access_token'`,
        );
        expect(rows).toEqual([]);
        throw new Error('roll back');
      })
      .catch((error: Error) => expect(error.message).toBe('roll back'));
    expect(await write).toBe(true);
    expect(await adapter.find('access_token', 'a1')).toMatchObject({ familyId: 'f1' });
    expect(await adapter.find('client', 'other')).toBeUndefined();
  });

  it('carries text, numbers, booleans, null, json and non-ASCII text both ways; past 64 texts it parses unnamed', async () => {
    const q = pgliteQueryable(db);
    const { rows } = await q.query(
      `SELECT $1::text AS t, $2::int AS i, $3::bigint AS b, $4::boolean AS ok, $5::text AS nothing,
              $6::jsonb AS j, 'a''b' AS quoted`,
      ['héllo ✓ 🙂', 42, 9007199254740993n, true, null, JSON.stringify({ k: ['v', 1] })],
    );
    expect(rows).toEqual([
      {
        t: 'héllo ✓ 🙂',
        i: 42,
        b: '9007199254740993',
        ok: true,
        nothing: null,
        j: { k: ['v', 1] },
        quoted: "a'b",
      },
    ]);
    for (let k = 0; k < 80; k++) {
      const { rows } = await q.query(`SELECT $1::int + ${k} AS sum`, [1]);
      expect(rows).toEqual([{ sum: 1 + k }]);
    }
    const again = await q.query('SELECT $1::int + 79 AS sum', [2]);
    expect(again.rows).toEqual([{ sum: 81 }]);
  });

  it('rejects with the database error, and the failed statement leaves nothing half-prepared', async () => {
    const q = pgliteQueryable(db);
    await expect(q.query('SELECT * FROM no_such_table_here WHERE x = $1', [1])).rejects.toThrow(
      /no_such_table_here/,
    );
    await db.exec('CREATE TABLE no_such_table_here (x int)');
    expect((await q.query('SELECT * FROM no_such_table_here WHERE x = $1', [1])).rows).toEqual([]);
    await expect(q.query('SELECT $1::int AS n', ['not a number'])).rejects.toThrow(/integer/);
    expect((await q.query('SELECT $1::int AS n', ['7'])).rows).toEqual([{ n: 7 }]);
    expect((await q.query('SELECT $1::int AS n', ['8'])).affectedRows).toBe(1);
  });
});

describe('client records from memory on PGlite (one process owns it)', () => {
  function client(clientId: string, extra: Partial<ClientRecord> = {}): ClientRecord {
    return {
      clientId,
      clientIdIssuedAt: 0,
      createdAt: 0,
      expiresAt: null,
      redirectUris: ['http://127.0.0.1:9/callback'],
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      ...extra,
    };
  }

  /** The PGlite as a proxy of it offers it (no locks of its own), its reads counted and holdable. */
  function counted() {
    let reads = 0;
    let gate: { reached: () => void; released: Promise<void> } | undefined;
    const proxy = {
      query: (text: string, params?: unknown[]) => db.query(text, params),
      exec: (text: string) => db.exec(text),
      async execProtocolRaw(message: Uint8Array) {
        const bytes = new TextDecoder().decode(message);
        const reading = bytes.includes('SELECT data') || /^B/.test(bytes);
        const reply = await db._runExclusiveTransaction(() =>
          db._runExclusiveQuery(() => db.execProtocolRaw(message)),
        );
        if (reading && new TextDecoder().decode(reply).includes('"clientId"')) {
          reads++;
          const held = gate;
          gate = undefined;
          if (held) {
            held.reached();
            await held.released;
          }
        }
        return reply;
      },
    };
    return {
      proxy,
      reads: () => reads,
      /** Holds the next client read once it has its reply: resolves when it got there. */
      holdNextRead(released: Promise<void>) {
        return new Promise<void>((reached) => {
          gate = { reached, released };
        });
      },
    };
  }

  it('reads a client once, then from memory (a copy each time); unknown clients are always read', async () => {
    const { proxy, reads } = counted();
    const adapter = postgresAdapter(proxy, { tablePrefix: `c${++n}_` });
    await adapter.set('client', 'a', client('a', { clientName: 'one' }));
    const first = await adapter.find('client', 'a');
    first!.redirectUris.push('https://evil.example/cb');
    expect(await adapter.find('client', 'a')).toEqual(client('a', { clientName: 'one' }));
    expect(reads()).toBe(1);
    expect(await adapter.find('client', 'nobody')).toBeUndefined();
    expect(await adapter.find('client', 'nobody')).toBeUndefined();
    const plain = postgresAdapter(proxy, { tablePrefix: `c${++n}_`, cacheClients: false });
    await plain.set('client', 'b', client('b'));
    await plain.find('client', 'b');
    await plain.find('client', 'b');
    expect(reads()).toBe(3);
  });

  it('a save or a delete through any adapter on the same PGlite and table is seen at once', async () => {
    const prefix = `c${++n}_`;
    const one = postgresAdapter(db, { tablePrefix: prefix });
    const two = postgresAdapter(db, { tablePrefix: prefix });
    await one.set('client', 'a', client('a', { clientName: 'one' }));
    expect((await two.find('client', 'a'))?.clientName).toBe('one');
    await one.set('client', 'a', client('a', { clientName: 'two' }));
    expect((await two.find('client', 'a'))?.clientName).toBe('two');
    expect(await one.delete('client', 'a')).toBe(true);
    expect(await two.find('client', 'a')).toBeUndefined();
  });

  it("a record past its expiresAt is not served from memory (judged on the caller's clock)", async () => {
    const adapter = postgresAdapter(db, { tablePrefix: `c${++n}_` });
    const now = Date.now();
    await adapter.set('client', 'a', client('a', { createdAt: now, expiresAt: now + 60_000 }));
    expect(await adapter.find('client', 'a', { now })).toBeDefined();
    expect(await adapter.find('client', 'a', { now: now + 120_000 })).toBeUndefined();
    expect(
      await adapter.find('client', 'a', { now: now + 120_000, includeExpired: true }),
    ).toMatchObject({ clientId: 'a' });
  });

  it('a read that overlapped a write does not fill the cache with what it read before (deterministic interleaving)', async () => {
    const { proxy, holdNextRead } = counted();
    const adapter = postgresAdapter(proxy, { tablePrefix: `c${++n}_` });
    await adapter.set('client', 'a', client('a', { clientName: 'old' }));
    let release!: () => void;
    const reached = holdNextRead(
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    // The read has its (old) record and waits; the write lands; then the read returns.
    const reading = adapter.find('client', 'a');
    await reached;
    await adapter.set('client', 'a', client('a', { clientName: 'new' }));
    release();
    expect((await reading)?.clientName).toBe('old');
    expect((await adapter.find('client', 'a'))?.clientName).toBe('new');
  });
});
