import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { freePort } from '@portcullis/internal-testing/ports';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTokenStore,
  InvalidTokenError,
  StoreUnavailableError,
  TokenManager,
} from '../src/index.js';
import { postgresAdapter } from '../src/postgres/index.js';
import { redisAdapter } from '../src/redis/index.js';

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Our own throwaway Redis: no persistence, so a restart is also an empty store. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await until(() => portOpen(port), `redis-server on port ${port}`);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('Redis down: StoreUnavailableError, then recovery', () => {
  let server: ChildProcess | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    redis?.disconnect();
    if (server) await stop(server);
  });

  it('answers StoreUnavailableError while Redis is down and works again once it is back', async () => {
    const port = await freePort();
    server = await startRedis(port);
    // What the README recommends: one retry per command, reconnect every 100 ms.
    redis = new Redis({
      host: '127.0.0.1',
      port,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    redis.on('error', () => undefined); // ioredis reports each failed reconnect here
    const client = redis;
    await until(() => client.status === 'ready', 'ioredis ready');

    const store = createTokenStore({
      adapter: redisAdapter(client, { prefix: 'down-test:' }),
      production: false,
    });
    const tokens = new TokenManager(store);
    const before = await tokens.issue('user-1', ['read'], { refresh: true });
    expect((await tokens.validate(before.accessToken)).userId).toBe('user-1');

    await stop(server);
    await until(() => client.status !== 'ready', 'ioredis to notice');

    const attempts = await Promise.allSettled([
      tokens.validate(before.accessToken),
      tokens.issue('user-2', ['read']),
      tokens.rotate(before.refreshToken!),
      store.codes.consume(before.accessToken),
      store.tokensByUser('user-1'),
      store.clients.find('client-a'),
    ]);
    for (const attempt of attempts) {
      expect(attempt.status).toBe('rejected');
      const reason = (attempt as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(StoreUnavailableError);
      expect(reason).toMatchObject({ code: 'store_unavailable' });
    }

    server = await startRedis(port);
    await until(() => client.status === 'ready', 'ioredis to reconnect');
    // The new server is empty (no persistence): the old token is unknown, not "unavailable".
    await expect(tokens.validate(before.accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
    const after = await tokens.issue('user-1', ['read']);
    expect((await tokens.validate(after.accessToken)).userId).toBe('user-1');

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  }, 30_000);

  it('a command that gets no reply within commandTimeoutMs is StoreUnavailableError', async () => {
    // A server that accepts connections and never answers.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const client = new Redis({ host: '127.0.0.1', port });
    client.on('error', () => undefined);
    try {
      // The client stays "connecting" and queues commands: only the adapter's timeout ends them.
      const store = createTokenStore({
        adapter: redisAdapter(client, { prefix: 'silent:', commandTimeoutMs: 200 }),
        production: false,
      });
      await expect(store.clients.find('client-a')).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    expect(unhandled).toEqual([]);
  });
});

describe('Postgres and PGlite failures are StoreUnavailableError', () => {
  it('a pg Pool whose server does not answer', async () => {
    const port = await freePort(); // nothing listens there
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'test' });
    try {
      const store = createTokenStore({ adapter: postgresAdapter(pool), production: false });
      const error = await store.accessTokens.find('a'.repeat(43)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).cause).toBeInstanceOf(Error);
    } finally {
      await pool.end();
    }
    expect(unhandled).toEqual([]);
  });

  it('a closed PGlite', async () => {
    const db = new PGlite();
    const store = createTokenStore({ adapter: postgresAdapter(db), production: false });
    const { token } = await store.accessTokens.issue({ userId: 'u', clientId: 'c', scopes: [] });
    await db.close();
    await expect(store.accessTokens.validate(token)).rejects.toBeInstanceOf(StoreUnavailableError);
  }, 30_000);
});
