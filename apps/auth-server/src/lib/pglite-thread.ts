import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** What the token store's Postgres adapter needs of a database (see token-store's Queryable). */
export interface PGliteThread {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
  /**
   * PGlite's raw protocol entry, run in the thread under PGlite's transaction and query locks:
   * the adapter sends its prepared statements this way (one call per statement).
   */
  execProtocolRaw(message: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
  /** Ends the thread as a crash would (tests of the restart). */
  crashForTest(): Promise<void>;
}

// The worker: one PGlite on `dir`, its queries answered in the order they come (PGlite runs one
// at a time anyway), a batch of them per message. CommonJS evaluated from a string: Next.js bundles the app, not this file.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.module);
const describe = (error) => String((error && error.message) || error).slice(0, 500);
PGlite.create(workerData.dir).then(
  (db) => {
    const run = async ({ id, op, text, params, message }) => {
      try {
        if (op === 'raw') {
          // As PGlite's query does: never inside another caller's transaction, one at a time.
          await db._checkReady();
          const data = await db._runExclusiveTransaction(() =>
            db._runExclusiveQuery(() => db.execProtocolRaw(message)),
          );
          return { id, data };
        }
        if (op === 'close') {
          await db.close();
          return { id };
        }
        if (op === 'exec') {
          await db.exec(text);
          return { id };
        }
        const { rows, affectedRows } = await db.query(text, params);
        return { id, rows, affectedRows };
      } catch (error) {
        return { id, error: describe(error) };
      }
    };
    // A batch of requests in, one message of replies out: each message wakes the other thread.
    parentPort.on('message', async (batch) => {
      const replies = [];
      for (const request of batch) replies.push(await run(request));
      parentPort.postMessage(replies);
    });
    parentPort.postMessage({ ready: true });
  },
  (error) => parentPort.postMessage({ ready: false, error: describe(error) }),
);
`;

/** PGlite's CommonJS entry as the app's own `import('@electric-sql/pglite')` would find it. */
function resolvePGlite(): string | undefined {
  // `next start` runs in the app's directory, or from its node_modules/next (argv[1]).
  const bases = [path.join(process.cwd(), 'package.json'), process.argv[1]].filter(Boolean);
  for (const base of bases) {
    try {
      return createRequire(base as string).resolve('@electric-sql/pglite');
    } catch {
      // the next base
    }
  }
  return undefined;
}

/** How soon after a start a dead thread may be started again (a crash loop answers 503 meanwhile). */
const RESTART_AFTER_MS = 1000;

type Pending = { resolve: (value: never) => void; reject: (error: Error) => void };

/** One worker on `dir`: resolves once PGlite has opened it; `onExit` once it has died. */
function spawnWorker(module: string, dir: string, onExit: (error: Error) => void) {
  const worker = new Worker(WORKER, { eval: true, workerData: { module, dir } });
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let dead: Error | undefined;
  const die = (error: Error) => {
    if (dead) return;
    dead = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
    onExit(error);
  };
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (message: { ready?: boolean; error?: string }) => {
      if (message.ready === undefined) return;
      worker.off('message', onMessage);
      if (message.ready) resolve();
      else reject(new Error(`PGlite did not open ${dir}: ${message.error}`));
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the PGlite thread exited (${code})`)));
  });
  worker.on('message', (replies: { id: number; error?: string }[]) => {
    if (!Array.isArray(replies)) return;
    for (const reply of replies) {
      const waiting = pending.get(reply.id);
      if (!waiting) continue;
      pending.delete(reply.id);
      if (reply.error !== undefined) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply as never);
    }
  });
  worker.on('error', (error) => die(error));
  worker.on('exit', (code) => die(new Error(`the PGlite thread exited (${code})`)));
  // Requests made in one turn of the event loop go to the thread as one message (under load,
  // several requests' statements at once): each message costs a wake-up of the other thread,
  // which showed as the main thread's largest self time under the e2e token bench.
  let batch: { id: number; op: string; text?: string; params?: unknown[]; message?: Uint8Array }[] =
    [];
  const flush = () => {
    const sending = batch;
    batch = [];
    if (!dead) worker.postMessage(sending);
  };
  const call = <T>(op: string, text?: string, params?: unknown[], message?: Uint8Array) =>
    new Promise<T>((resolve, reject) => {
      if (dead) return reject(dead);
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: never) => void, reject });
      if (batch.length === 0) setImmediate(flush);
      batch.push({ id, op, text, params, message });
    });
  return { worker, ready, call, isDead: () => dead !== undefined };
}

/**
 * PGlite on `dir` in a worker thread: its queries (WebAssembly, most of a grant's CPU on the
 * embedded store) run beside the request handling instead of between requests on the one
 * JavaScript thread. Resolves `undefined` when PGlite cannot be found from here (the caller
 * runs it on this thread instead). A failed query rejects with its message. If the thread dies
 * (PGlite aborted), the queries it held reject (the token store answers 503) and the next query
 * starts a new thread on the same directory, whose WAL keeps every committed write; until it
 * is up, and for a second after each start, queries reject instead of waiting.
 */
export async function startPGliteThread(dir: string): Promise<PGliteThread | undefined> {
  const module = resolvePGlite();
  if (!module) return undefined;
  let closed = false;
  let lastError: Error | undefined;
  let startedAt = Date.now();
  const start = () => {
    startedAt = Date.now();
    const spawned = spawnWorker(module, dir, (error) => {
      lastError = error;
    });
    return spawned;
  };
  let current = start();
  await current.ready;
  let restarting: Promise<void> | undefined;

  const live = async () => {
    if (closed) throw new Error('the PGlite thread exited (closed)');
    if (!current.isDead()) return current;
    if (!restarting) {
      if (Date.now() - startedAt < RESTART_AFTER_MS) throw lastError ?? new Error('PGlite is down');
      const next = start();
      restarting = next.ready.then(
        () => {
          current = next;
        },
        (error: Error) => {
          lastError = error;
          void next.worker.terminate();
        },
      );
      void restarting.finally(() => {
        restarting = undefined;
      });
    }
    await restarting;
    if (current.isDead()) throw lastError ?? new Error('PGlite is down');
    return current;
  };

  return {
    query: async (text, params = []) => (await live()).call('query', text, params),
    exec: async (text) => (await live()).call('exec', text),
    execProtocolRaw: async (message) =>
      (await (await live()).call<{ data: Uint8Array }>('raw', undefined, undefined, message)).data,
    async close() {
      if (closed) return;
      closed = true;
      await restarting?.catch(() => {});
      if (!current.isDead()) await current.call('close').catch(() => {});
      await current.worker.terminate();
    },
    async crashForTest() {
      await current.worker.terminate();
    },
  };
}
