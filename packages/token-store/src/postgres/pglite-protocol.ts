import type { Queryable } from './queryable.js';

/**
 * PGlite's raw entry to its backend: one buffer of frontend messages in, the backend's reply
 * out. A PGlite instance has it; so may a proxy to a PGlite in another thread, which then runs
 * the buffer under that instance's query lock.
 */
export interface RawProtocol {
  execProtocolRaw(message: Uint8Array): Promise<Uint8Array>;
}

/** The parts of a PGlite instance the fast path uses besides `execProtocolRaw`. */
interface PGliteLocks {
  _checkReady?(): Promise<void>;
  _runExclusiveQuery?<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveTransaction?<T>(fn: () => Promise<T>): Promise<T>;
}

export function hasRawProtocol(db: unknown): db is RawProtocol {
  return typeof (db as Partial<RawProtocol>).execProtocolRaw === 'function';
}

interface Statement {
  name: string;
  /** Column names and type OIDs, learnt when the statement was prepared. */
  columns: { name: string; type: number }[];
}

interface Session {
  statements: Map<string, Statement>;
}

// One PGlite is one backend session: its prepared statements are shared by every wrapper of it.
const sessions = new WeakMap<object, Session>();
// Statement names unique across wrappers (and copies of this module) that share one backend.
const namespace = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) =>
  b.toString(16).padStart(2, '0'),
).join('');
let named = 0;
/** Beyond this many distinct texts a statement is parsed each time (unnamed), so memory stays bounded. */
const MAX_STATEMENTS = 64;
const JSON_TYPES = new Set([114, 3802]);
const INTEGER_TYPES = new Set([21, 23]);
// SQLSTATE 26000: the statement is gone (DISCARD ALL / DEALLOCATE); 0A000: its plan no longer
// fits the table (a migration changed it). Both are cured by preparing it again.
const STALE = new Set(['26000', '0A000']);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Execute (unnamed portal, all rows) and Sync, the same bytes after every Bind.
const EXECUTE_SYNC = new Uint8Array([69, 0, 0, 0, 9, 0, 0, 0, 0, 0, 83, 0, 0, 0, 4]);

/** A Bind of `statement` to text-format `values` (results in text), then `tail`, in one buffer. */
function bindMessage(statement: string, values: (string | null)[], tail?: Uint8Array): Uint8Array {
  const name = encoder.encode(statement);
  const encoded = values.map((value) => (value === null ? null : encoder.encode(value)));
  let size = 4 + 1 + name.length + 1 + 2 + 2 + 2;
  for (const bytes of encoded) size += 4 + (bytes?.length ?? 0);
  const out = new Uint8Array(1 + size + (tail?.length ?? 0));
  const view = new DataView(out.buffer);
  out[0] = 66; // 'B'
  view.setInt32(1, size);
  let at = 6; // after the unnamed portal's terminating zero
  out.set(name, at);
  at += name.length + 1;
  view.setInt16(at, 0); // every parameter in text format
  view.setInt16(at + 2, encoded.length);
  at += 4;
  for (const bytes of encoded) {
    view.setInt32(at, bytes === null ? -1 : bytes.length);
    at += 4;
    if (bytes !== null) {
      out.set(bytes, at);
      at += bytes.length;
    }
  }
  view.setInt16(at, 0); // every result column in text format
  if (tail) out.set(tail, at + 2);
  return out;
}

class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;

  push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  message(type: string, body: (w: BodyWriter) => void): this {
    const w = new BodyWriter();
    body(w);
    const payload = w.bytes();
    const out = new Uint8Array(5 + payload.length);
    out[0] = type.charCodeAt(0);
    new DataView(out.buffer).setInt32(1, 4 + payload.length);
    out.set(payload, 5);
    this.parts.push(out);
    this.size += out.length;
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

class BodyWriter {
  private parts: Uint8Array[] = [];
  private size = 0;

  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }
  cstring(text: string): this {
    this.raw(encoder.encode(text));
    return this.raw(new Uint8Array(1));
  }
  int16(n: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setInt16(0, n);
    return this.raw(b);
  }
  int32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n);
    return this.raw(b);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** A parameter in text format, as node-postgres sends it. */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  throw new TypeError(`unsupported query parameter of type ${typeof value}`);
}

interface Reply {
  columns: { name: string; type: number }[] | undefined;
  rows: (string | null)[][];
  tag: string | undefined;
  error: { code: string; message: string } | undefined;
}

function readReply(data: Uint8Array): Reply {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const reply: Reply = { columns: undefined, rows: [], tag: undefined, error: undefined };
  let at = 0;
  const cstring = (from: number): [string, number] => {
    let end = from;
    while (data[end] !== 0) end++;
    return [decoder.decode(data.subarray(from, end)), end + 1];
  };
  while (at + 5 <= data.length) {
    const type = String.fromCharCode(data[at]!);
    const length = view.getInt32(at + 1);
    let p = at + 5;
    const end = at + 1 + length;
    if (type === 'T') {
      const count = view.getInt16(p);
      p += 2;
      const columns: { name: string; type: number }[] = [];
      for (let i = 0; i < count; i++) {
        const [name, next] = cstring(p);
        columns.push({ name, type: view.getInt32(next + 6) });
        p = next + 18;
      }
      reply.columns = columns;
    } else if (type === 'D') {
      const count = view.getInt16(p);
      p += 2;
      const row: (string | null)[] = [];
      for (let i = 0; i < count; i++) {
        const size = view.getInt32(p);
        p += 4;
        if (size < 0) row.push(null);
        else {
          row.push(decoder.decode(data.subarray(p, p + size)));
          p += size;
        }
      }
      reply.rows.push(row);
    } else if (type === 'C') {
      reply.tag = cstring(p)[0];
    } else if (type === 'E' && reply.error === undefined) {
      const fields = new Map<string, string>();
      while (p < end && data[p] !== 0) {
        const field = String.fromCharCode(data[p]!);
        const [value, next] = cstring(p + 1);
        fields.set(field, value);
        p = next;
      }
      reply.error = { code: fields.get('C') ?? '', message: fields.get('M') ?? 'query failed' };
    }
    at = end;
  }
  return reply;
}

function decode(value: string | null, type: number): unknown {
  if (value === null) return null;
  if (JSON_TYPES.has(type)) return JSON.parse(value);
  if (INTEGER_TYPES.has(type)) return Number(value);
  if (type === 16) return value === 't';
  return value; // int8 stays text (exact), as node-postgres returns it
}

/** "UPDATE 3", "INSERT 0 3", "DELETE 3", "SELECT 3" → 3. */
function affected(tag: string | undefined): number {
  const count = Number(tag?.slice(tag.lastIndexOf(' ') + 1));
  return Number.isFinite(count) ? count : 0;
}

/**
 * A `Queryable` that sends each statement to PGlite as prepared once and then executed by name
 * (extended protocol: Bind, Execute, Sync) in one call to its backend. PGlite's own `query`
 * parses and plans every statement anew and crosses into WebAssembly six times per statement
 * (Parse, Describe, Bind, Describe, Execute, Sync); this costs about a fifth of its CPU for the
 * adapter's statements. Parameters and results use the text format, as node-postgres does: json
 * and jsonb are parsed, int2/int4 are numbers, int8 stays a string. On a PGlite instance the call
 * holds its transaction and query locks, as `query` does, so it never lands inside another
 * caller's transaction. `exec` (scripts, migrations) goes to PGlite's own `exec`.
 */
export function pgliteQueryable(db: RawProtocol & Partial<Pick<Queryable, 'exec'>>): Queryable {
  let session = sessions.get(db);
  if (!session) {
    session = { statements: new Map() };
    sessions.set(db, session);
  }
  const state = session;
  const locks = db as PGliteLocks;
  const run =
    typeof locks._runExclusiveQuery === 'function' &&
    typeof locks._runExclusiveTransaction === 'function'
      ? async (message: Uint8Array) => {
          await locks._checkReady?.(); // a closed PGlite answers as its `query` does
          return locks._runExclusiveTransaction!(() =>
            locks._runExclusiveQuery!(() => db.execProtocolRaw(message)),
          );
        }
      : (message: Uint8Array) => db.execProtocolRaw(message);

  /** Deallocates a named statement (no error when it does not exist). */
  async function close(name: string) {
    const w = new Writer()
      .message('C', (b) => b.raw(new Uint8Array([83])).cstring(name)) // 'S'
      .message('S', () => undefined);
    await run(w.bytes());
  }

  async function send(text: string, values: (string | null)[], retried = false) {
    let statement = state.statements.get(text);
    const w = new Writer();
    let preparing: Statement | undefined;
    if (statement === undefined && state.statements.size < MAX_STATEMENTS) {
      preparing = { name: `portcullis_${namespace}_${named++}`, columns: [] };
      w.message('P', (b) => b.cstring(preparing!.name).cstring(text).int16(0));
      w.message('D', (b) => b.raw(new Uint8Array([83])).cstring(preparing!.name)); // 'S'
      statement = preparing;
    }
    if (statement === undefined) {
      // Too many distinct texts: parse this one unnamed, and describe its result each time.
      w.message('P', (b) => b.cstring('').cstring(text).int16(0));
      w.push(bindMessage('', values));
      w.message('D', (b) => b.raw(new Uint8Array([80])).cstring('')); // 'P'
      w.push(EXECUTE_SYNC);
    }
    // The common case, a prepared statement: Bind, Execute and Sync built in one buffer.
    const message =
      statement !== undefined && !preparing
        ? bindMessage(statement.name, values, EXECUTE_SYNC)
        : statement !== undefined
          ? w.push(bindMessage(statement.name, values, EXECUTE_SYNC)).bytes()
          : w.bytes();
    const reply = readReply(await run(message));
    if (reply.error) {
      const stale = !preparing && statement !== undefined && STALE.has(reply.error.code);
      if (preparing || stale) await close(statement!.name); // no half-prepared name lingers
      if (stale && !retried) {
        state.statements.delete(text);
        return send(text, values, true);
      }
      const error = new Error(reply.error.message) as Error & { code?: string };
      error.code = reply.error.code;
      throw error;
    }
    if (preparing) {
      preparing.columns = reply.columns ?? [];
      state.statements.set(text, preparing);
    }
    return {
      reply,
      columns: statement?.columns.length ? statement.columns : (reply.columns ?? []),
    };
  }

  return {
    async query(text, params = []) {
      const { reply, columns } = await send(text, params.map(textOf));
      const rows = reply.rows.map((row) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < row.length; i++) {
          const column = columns[i]!;
          out[column.name] = decode(row[i] ?? null, column.type);
        }
        return out;
      });
      return { rows, affectedRows: affected(reply.tag) };
    },
    ...(typeof db.exec === 'function' ? { exec: (text: string) => db.exec!(text) } : {}),
  };
}
