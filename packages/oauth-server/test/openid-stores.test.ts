// The ID token's nonce and auth_time ride in the code's and the refresh tokens' `extra`: they
// must survive each real store's serialisation, and a refresh's rotation.

import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { createTokenStore, type TokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { redisAdapter } from '@portcullis/token-store/redis';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { exchange, obtainCode, publicClient, REDIRECT, setup } from './support/setup.js';

const now = () => Date.now();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function pgliteStore(): Promise<TokenStore> {
  const db = new PGlite();
  cleanups.push(() => db.close());
  return createTokenStore({ adapter: postgresAdapter(db), now });
}

/** node-postgres, typed here as far as used (this package has no @types/pg). */
interface PgPool {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}
type PgModule = { default: { Pool: new (options: object) => PgPool } };

async function postgresStore(): Promise<TokenStore> {
  const pg = ((await import('pg' as string)) as PgModule).default;
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const schema = `oidc_${randomBytes(6).toString('hex')}`;
  cleanups.push(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  return createTokenStore({ adapter: postgresAdapter(pool, { schema }), now });
}

async function redisStore(): Promise<TokenStore> {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `oidc-test-${randomBytes(6).toString('hex')}:`;
  cleanups.push(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return createTokenStore({ adapter: redisAdapter(redis, { prefix }), now });
}

const stores: [string, () => Promise<TokenStore>, boolean][] = [
  ['PGlite', pgliteStore, true],
  ['Postgres', postgresStore, await serviceAvailable('Postgres')],
  ['Redis', redisStore, await serviceAvailable('Redis')],
];

describe.each(stores)('OpenID Connect on %s', (_name, makeStore, available) => {
  it.runIf(available)(
    'the ID token has the nonce and auth_time; a refresh keeps auth_time and drops the nonce',
    async () => {
      const store = await makeStore();
      const { as } = await setup(
        { now, openid: { claims: async () => ({ email: 'a@example.com', email_verified: true }) } },
        store,
      );
      const clientId = await publicClient(as);
      const authTime = Math.floor(Date.now() / 1000) - 120;
      const { code, verifier } = await obtainCode(as, clientId, {
        scope: 'openid email',
        userId: 'u_store',
        nonce: 'nonce-on-a-real-store',
        authTime,
      });
      const first = await exchange(as, {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        client_id: clientId,
        redirect_uri: REDIRECT,
      });
      expect(first.response.status).toBe(200);
      expect(decodeJwt(first.body.id_token as string)).toMatchObject({
        sub: 'u_store',
        nonce: 'nonce-on-a-real-store',
        auth_time: authTime,
        email: 'a@example.com',
      });
      const refreshed = await exchange(as, {
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token as string,
        client_id: clientId,
      });
      const again = decodeJwt(refreshed.body.id_token as string);
      expect(again).toMatchObject({ sub: 'u_store', auth_time: authTime });
      expect(again.nonce).toBeUndefined();
    },
    // PGlite's WebAssembly start-up takes seconds on a loaded machine.
    30_000,
  );
});
