// Two authorization server instances, each with its own connections, over one Postgres (and one
// Redis): a client assertion accepted by one is refused by the other (its jti is remembered in
// the shared store), and of many concurrent requests carrying one assertion exactly one passes;
// a client one instance remembers and another changed is decided on its new record.

import { randomBytes } from 'node:crypto';
import { serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { createTokenStore, type TokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { redisAdapter } from '@portcullis/token-store/redis';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  exchange,
  ISSUER,
  obtainCode,
  REDIRECT,
  RESOURCE,
  register,
  setup,
} from './support/setup.js';

interface PgPool {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}
type PgModule = { default: { Pool: new (options: object) => PgPool } };

const now = () => Date.now();

/** A client assertion (RFC 7523 §3) for `clientId`, signed by `key` (`kid`), valid for 60 s. */
function signAssertion(clientId: string, key: CryptoKey, kid = 'k1'): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(key);
}
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Two stores over one backend, each with its own connections. */
const backends: [string, boolean, () => Promise<[TokenStore, TokenStore]>][] = [
  [
    'Postgres',
    await serviceAvailable('Postgres'),
    async () => {
      const pg = ((await import('pg' as string)) as PgModule).default;
      const schema = `pkjwt_${randomBytes(6).toString('hex')}`;
      const pools = [0, 1].map(() => new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 }));
      cleanups.push(async () => {
        await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await Promise.all(pools.map((pool) => pool.end()));
      });
      const [a, b] = pools.map((pool) =>
        createTokenStore({ adapter: postgresAdapter(pool, { schema }), now }),
      );
      return [a!, b!];
    },
  ],
  [
    'Redis',
    await serviceAvailable('Redis'),
    async () => {
      const prefix = `pkjwt_${randomBytes(6).toString('hex')}:`;
      const clients = [0, 1].map(() => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 }));
      cleanups.push(async () => {
        const keys = await clients[0]!.keys(`${prefix}*`);
        if (keys.length > 0) await clients[0]!.del(...keys);
        for (const client of clients) client.disconnect();
      });
      const [a, b] = clients.map((client) =>
        createTokenStore({ adapter: redisAdapter(client, { prefix }), now }),
      );
      return [a!, b!];
    },
  ],
];

describe.each(backends)('client authentication, two instances on %s', (_name, available, open) => {
  it.runIf(available)(
    'an assertion used at one instance is refused at the other; of 10 concurrent requests with one assertion over both, exactly one passes',
    async () => {
      const [storeA, storeB] = await open();
      const a = await setup({ now }, storeA);
      const b = await setup({ now }, storeB);
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
      const { body } = await register(a.as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
      });
      const clientId = body.client_id as string;
      const sign = () => signAssertion(clientId, privateKey);
      const redeem = async (
        at: typeof a,
        assertion: string,
        code?: { code: string; verifier: string },
      ) => {
        const { code: c, verifier } = code ?? (await obtainCode(at.as, clientId));
        return exchange(at.as, {
          grant_type: 'authorization_code',
          code: c,
          code_verifier: verifier,
          redirect_uri: REDIRECT,
          resource: RESOURCE,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        });
      };

      const assertion = await sign();
      expect((await redeem(a, assertion)).response.status).toBe(200);
      const replayed = await redeem(b, assertion);
      expect(replayed.response.status).toBe(401);
      expect(replayed.body).toMatchObject({ error: 'invalid_client' });
      expect(replayed.body.error_description).toContain('used before');
      // Control: a fresh assertion is accepted at the second instance.
      expect((await redeem(b, await sign())).response.status).toBe(200);

      // Real concurrency: ten codes, one assertion, five requests at each instance at once.
      const once = await sign();
      const codes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => obtainCode((i % 2 ? a : b).as, clientId)),
      );
      const results = await Promise.all(codes.map((code, i) => redeem(i % 2 ? a : b, once, code)));
      const statuses = results.map((r) => r.response.status).sort();
      expect(statuses).toEqual([200, ...Array(9).fill(401)]);
      for (const r of results)
        if (r.response.status === 401) expect(r.body.error).toBe('invalid_client');
    },
  );

  it.runIf(available)(
    "a refusal on the instance's remembered client is decided again only when the stored client differs: a replayed assertion asks the once-only store once",
    async () => {
      const [storeA, storeB] = await open();
      expect(storeA.adapter.checksClients).toBe(true);
      const remembered: string[] = [];
      const replay = storeA.replay;
      const counted = Object.assign(Object.create(storeA) as TokenStore, {
        replay: {
          supported: replay.supported,
          remember: (key: string, expiresAtMs: number) => {
            remembered.push(key);
            return replay.remember(key, expiresAtMs);
          },
        },
      });
      const a = await setup({ now }, counted);
      const keyPair = async (kid: string) => {
        const { privateKey, publicKey } = await generateKeyPair('ES256');
        return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
      };
      const first = await keyPair('k1');
      const { body } = await register(a.as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [first.jwk] },
      });
      const clientId = body.client_id as string;
      const sign = (key: CryptoKey, kid: string) => signAssertion(clientId, key, kid);
      const redeem = async (assertion: string) => {
        const { code, verifier } = await obtainCode(a.as, clientId);
        return exchange(a.as, {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: REDIRECT,
          resource: RESOURCE,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        });
      };
      const once = await sign(first.privateKey, 'k1');
      // Accepted: the instance now serves the client from its memory.
      expect((await redeem(once)).response.status).toBe(200);
      expect(remembered).toHaveLength(1);
      // Replayed: refused on the remembered client, whose fresh read is the same record: the
      // refusal stands, the assertion is not verified (nor its jti asked about) a second time.
      const replayed = await redeem(once);
      expect(replayed.response.status).toBe(401);
      expect(replayed.body.error_description).toContain('used before');
      expect(remembered).toHaveLength(2);
      // The client's keys changed at another instance: refused on the remembered record, then
      // decided on the fresh one, which holds the new key.
      const second = await keyPair('k2');
      const stored = (await storeB.clients.find(clientId))!;
      await storeB.clients.save({
        ...stored,
        metadata: { ...stored.metadata, jwks: { keys: [second.jwk] } },
      });
      expect((await redeem(await sign(second.privateKey, 'k2'))).response.status).toBe(200);
      expect((await redeem(await sign(first.privateKey, 'k1'))).response.status).toBe(401);
    },
  );

  it.runIf(available)(
    'a request the token endpoint authenticates twice (its client decided again on a fresh read) spends its assertion once',
    async () => {
      const [store] = await open();
      expect(store.adapter.checksClients).toBe(true);
      const { as } = await setup({ now }, store);
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
      const { body } = await register(as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        grant_types: ['authorization_code'],
      });
      const clientId = body.client_id as string;
      const assertion = await signAssertion(clientId, privateKey);
      // Not registered for refresh_token: refused on the remembered client, then decided again
      // on a fresh read with the same request — unauthorized_client, not a replay.
      const { response, body: refused } = await exchange(as, {
        grant_type: 'refresh_token',
        refresh_token: 'x'.repeat(43),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      });
      expect(refused.error).toBe('unauthorized_client');
      expect(response.status).toBe(400);
    },
  );

  it.runIf(available)(
    "a grant type missing from the instance's remembered client is decided again only when the stored client differs: the secret is checked once",
    async () => {
      const [storeA, storeB] = await open();
      expect(storeA.adapter.checksClients).toBe(true);
      let checked = 0;
      const clients = storeA.clients;
      const counted = Object.assign(Object.create(storeA) as TokenStore, {
        clients: Object.assign(Object.create(clients) as TokenStore['clients'], {
          verifySecret: (...args: Parameters<TokenStore['clients']['verifySecret']>) => {
            checked++;
            return clients.verifySecret(...args);
          },
        }),
      });
      const a = await setup({ now }, counted);
      const { body } = await register(a.as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code'],
      });
      const clientId = body.client_id as string;
      const refresh = () =>
        exchange(a.as, {
          grant_type: 'refresh_token',
          refresh_token: randomBytes(32).toString('base64url'),
          client_id: clientId,
          client_secret: body.client_secret as string,
        });
      // Served from the instance's memory, refused there; the fresh read is the same record:
      // the refusal stands, the secret checked once (twice before).
      const refused = await refresh();
      expect(refused.response.status).toBe(400);
      expect(refused.body.error).toBe('unauthorized_client');
      expect(checked).toBe(1);
      // The grant type added at another instance: refused on the remembered record, decided on
      // the fresh one, which has it (the made-up refresh token is then what is refused).
      const stored = (await storeB.clients.find(clientId))!;
      await storeB.clients.save({ ...stored, grantTypes: ['authorization_code', 'refresh_token'] });
      const allowed = await refresh();
      expect(allowed.response.status).toBe(400);
      expect(allowed.body.error).toBe('invalid_grant');
      expect(checked).toBe(3);
    },
  );
});
