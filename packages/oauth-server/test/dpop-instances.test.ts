import { randomBytes } from 'node:crypto';
import {
  createMemoryReplayStore,
  createProof,
  generateProofKey,
  type ReplayStore,
} from '@portcullis/dpop';
import { serviceAvailable, TEST_DATABASE_URL } from '@portcullis/internal-testing';
import { createTokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthorizationServer, AuthorizationServerOptions } from '../src/index.js';
import { codeParams, listen, publicClient, setup } from './support/setup.js';

/** node-postgres, typed here as far as used (this package has no @types/pg). */
interface PgPool {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}
type PgModule = { default: { Pool: new (options: object) => PgPool } };
const pg = ((await import('pg' as string)) as PgModule).default;

const now = () => Date.now();
const up = await serviceAvailable('Postgres');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * Two authorization server instances, each with its own pool, store object and HTTP server,
 * on one Postgres schema: by default sharing the store's own replay memory, or `replay`. Their issuer is the first one's origin (both are
 * "the" token endpoint behind a load balancer): a proof's `htu` is that URL at either.
 */
async function twoInstances(replay?: ReplayStore) {
  const schema = `dpop_${randomBytes(6).toString('hex')}`;
  const pools = [0, 1].map(() => new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 }));
  cleanups.push(async () => {
    await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const pool of pools) await pool.end();
  });
  const servers = await Promise.all([listen(), listen()]);
  for (const server of servers) cleanups.push(() => server.close());
  const issuer = servers[0]!.origin;
  const instances: AuthorizationServer[] = [];
  for (const [i, pool] of pools.entries()) {
    const store = createTokenStore({ adapter: postgresAdapter(pool, { schema }), now });
    const options: Partial<AuthorizationServerOptions> = {
      issuer,
      now,
      // Without a replay store of its own, each uses the token store's (store.replay).
      ...(replay === undefined ? {} : { dpop: { replay } }),
    };
    const { as } = await setup(options, store);
    servers[i]!.serve(as.handle);
    instances.push(as);
  }
  return { instances, origins: servers.map((s) => s.origin), tokenUrl: `${issuer}/token` };
}

async function redeem(origin: string, params: Record<string, string>, proof: string) {
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: proof },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('one DPoP proof at two instances sharing Postgres', () => {
  it.runIf(up)(
    'real concurrency: two parallel token requests with one proof, one at each instance: exactly one wins (10 rounds)',
    async () => {
      const { instances, origins, tokenUrl } = await twoInstances();
      const clientId = await publicClient(instances[0]!);
      const key = await generateProofKey();
      for (let round = 0; round < 10; round++) {
        // Two codes: each request would succeed on its own; only the proof is shared.
        const params = await Promise.all([
          codeParams(instances[0]!, clientId),
          codeParams(instances[1]!, clientId),
        ]);
        const proof = await createProof({ ...key, method: 'POST', url: tokenUrl });
        const results = await Promise.all([
          redeem(origins[0]!, params[0]!, proof),
          redeem(origins[1]!, params[1]!, proof),
        ]);
        const statuses = results.map((r) => r.status).sort();
        expect(statuses).toEqual([200, 400]);
        const loser = results.find((r) => r.status === 400)!;
        expect(loser.body).toEqual({
          error: 'invalid_dpop_proof',
          error_description: 'The DPoP proof has been used before',
        });
        expect(results.find((r) => r.status === 200)!.body.token_type).toBe('DPoP');
      }
    },
    60_000, // real HTTP and Postgres round trips on a loaded machine
  );

  it.runIf(up)(
    'deterministic interleaving: both requests pass every other check before the store is asked; the store decides',
    async () => {
      // Both calls are held until the second arrives, then run in arrival order.
      const memory = createMemoryReplayStore({ now });
      const arrived: (() => void)[] = [];
      const gated: ReplayStore = {
        async remember(key, expiresAtMs) {
          await new Promise<void>((resolve) => {
            arrived.push(resolve);
            if (arrived.length === 2) for (const release of arrived) release();
          });
          return memory.remember(key, expiresAtMs);
        },
      };
      const { instances, origins, tokenUrl } = await twoInstances(gated);
      const clientId = await publicClient(instances[0]!);
      const params = await Promise.all([
        codeParams(instances[0]!, clientId),
        codeParams(instances[1]!, clientId),
      ]);
      const key = await generateProofKey();
      const proof = await createProof({ ...key, method: 'POST', url: tokenUrl });
      const results = await Promise.all([
        redeem(origins[0]!, params[0]!, proof),
        redeem(origins[1]!, params[1]!, proof),
      ]);
      expect(arrived).toHaveLength(2);
      expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    },
    60_000, // real HTTP and Postgres round trips on a loaded machine
  );
});
