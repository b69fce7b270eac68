import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import {
  type AuthServer,
  authorizeOverHttp,
  claimsOf,
  devLogin,
  freePort,
  OPAQUE_SUB,
} from '@portcullis/internal-testing/apps';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from './helpers/app';
import { registerClient } from './helpers/client';

const REDIRECT = 'http://127.0.0.1:9/callback';
const withPostgres = await serviceAvailable('Postgres');
const withRedis = await serviceAvailable('Redis');

/** Register → sign in → consent → code → tokens, over plain HTTP. */
async function fullFlow(app: AuthServer, email: string) {
  const client = await registerClient(app.url, REDIRECT, 'Storage Test Client');
  const jar = await devLogin(app.url, email);
  const flow = await client.authorizationUrl('read');
  const { callback, consentShown } = await authorizeOverHttp(app.url, jar, flow.url);
  expect(consentShown).toBe(true);
  const tokens = await client.exchange(callback, flow);
  return { client, jar, tokens };
}

describe('embedded default: PGlite in DATA_DIR', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-restart-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('clients, consents, refresh tokens, the signing key and sessions survive a restart', async () => {
    const port = await freePort();
    let app = await startApp({ port, dataDir });
    let before: Awaited<ReturnType<typeof fullFlow>>;
    let kids: string[];
    try {
      before = await fullFlow(app, 'restart@example.com');
      kids = (
        (await (await fetch(`${app.url}/jwks.json`)).json()) as { keys: { kid: string }[] }
      ).keys.map((k) => k.kid);
    } finally {
      await app.close();
    }
    app = await startApp({ port, dataDir });
    try {
      const jwks = (await (await fetch(`${app.url}/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      expect(jwks.keys.map((k) => k.kid)).toEqual(kids);
      expect(kids).toContain(
        JSON.parse(Buffer.from(before.tokens.access_token.split('.')[0]!, 'base64url').toString())
          .kid,
      );

      const refreshed = await before.client.refresh(before.tokens.refresh_token!);
      // The user (opaque sub) survived the restart with the tokens.
      const sub = claimsOf(before.tokens.access_token).sub;
      expect(sub).toMatch(OPAQUE_SUB);
      expect(claimsOf(refreshed.access_token).sub).toBe(sub);

      // Same session cookie (NEXTAUTH_SECRET kept in DATA_DIR), same consent: no consent screen.
      const flow = await before.client.authorizationUrl('read');
      const again = await authorizeOverHttp(app.url, before.jar, flow.url);
      expect(again.consentShown).toBe(false);
      expect(again.callback.searchParams.get('code')).toBeTruthy();
    } finally {
      await app.close();
    }
  });
});

describe.runIf(withPostgres)('DATABASE_URL: Postgres for tokens', () => {
  const schema = `ts_${randomBytes(6).toString('hex')}`;
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  afterAll(async () => {
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
    if (withRedis) await deleteKeys(prefix);
  });

  it('the full flow stores hashed records in its own schema (and rate limits in Redis)', async () => {
    const app = await startApp({
      env: {
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        ...(withRedis ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {}),
      },
    });
    try {
      const { tokens } = await fullFlow(app, 'pg@example.com');
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query<{ kind: string; id: string }>(
          `SELECT kind, id FROM ${schema}.portcullis_records`,
        );
        const kinds = new Set(rows.map((r) => r.kind));
        for (const kind of ['client', 'consent', 'refresh_token', 'signing_key'])
          expect(kinds).toContain(kind);
        // Stored under SHA-256, never in clear.
        expect(rows.map((r) => r.id)).not.toContain(tokens.refresh_token);
      } finally {
        await db.end();
      }
      if (withRedis)
        expect((await keysUnder(prefix)).some((k) => k.startsWith(`${prefix}rl:`))).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe.runIf(withPostgres)('DATABASE_URL alone: Postgres for tokens and rate limits', () => {
  const schema = `rl_${randomBytes(6).toString('hex')}`;
  afterAll(async () => {
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
  });

  it('the limits are decided in Postgres, so every instance on the database shares them', async () => {
    const app = await startApp({
      env: { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, REDIS_URL: '' },
    });
    try {
      await fullFlow(app, 'pg-limits@example.com');
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query<{ key: string; ok: boolean }>(
          `SELECT key, ok FROM ${schema}.portcullis_rate_limits`,
        );
        // The flow's register, authorize and token calls each left their limiter's row.
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row) => row.ok)).toBe(true);
      } finally {
        await db.end();
      }
    } finally {
      await app.close();
    }
  });
});

describe.runIf(withRedis)('REDIS_URL alone: Redis for tokens and rate limits', () => {
  const prefix = `test:${randomBytes(6).toString('hex')}:`;
  afterAll(() => deleteKeys(prefix));

  it('the full flow keeps its records under the configured prefix', async () => {
    const app = await startApp({ env: { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } });
    try {
      const { client, tokens } = await fullFlow(app, 'redis@example.com');
      const keys = await keysUnder(prefix);
      expect(keys.some((k) => k.startsWith(`${prefix}ts:`))).toBe(true);
      expect(keys.some((k) => k.startsWith(`${prefix}rl:`))).toBe(true);
      expect(keys.join(' ')).not.toContain(tokens.refresh_token!);
      expect((await client.refresh(tokens.refresh_token!)).access_token).toBeTruthy();
    } finally {
      await app.close();
    }
  });
});

async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

async function deleteKeys(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix);
  if (keys.length === 0) return;
  const redis = new Redis(TEST_REDIS_URL);
  await redis.del(...keys);
  redis.disconnect();
}
