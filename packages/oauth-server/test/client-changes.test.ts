// The token endpoint takes its client from the store's memory where the store checks it in the
// grant's own atomic step (Postgres, one Redis): a client changed or deleted by another instance
// (here: another store over the same database) is never granted on as it was, and every refusal
// is decided on what is stored now.

import { randomBytes } from 'node:crypto';
import { createTokenStore, hashSecret } from '@portcullis/token-store';
import { afterAll, describe, expect, it } from 'vitest';
import {
  basic,
  confidentialClient,
  exchange,
  obtainCode,
  publicClient,
  REDIRECT,
  setup,
} from './support/setup.js';
import { realStores } from './support/stores.js';

const now = () => Date.now();
const real = await realStores('clients', now);
afterAll(() => real.cleanup());

const stores = (['Postgres', 'Redis'] as const).map(
  (name) => [name, ...real.stores[name]] as const,
);

describe.each(stores)(
  'a client changed by another instance, on %s',
  (_name, makeStore, available) => {
    it.runIf(available)(
      'grant types narrowed, client deleted, secret rotated: each request is decided on the stored client',
      async () => {
        const store = await makeStore();
        expect(store.adapter.checksClients).toBe(true);
        // Another instance: its own store (and memory) over the same backend.
        const other = createTokenStore({ adapter: store.adapter, now });
        const { as } = await setup({ now }, store);
        const clientId = await publicClient(as);
        const redeem = async () => {
          const { code, verifier } = await obtainCode(as, clientId);
          const params = {
            grant_type: 'authorization_code',
            code,
            code_verifier: verifier,
            client_id: clientId,
            redirect_uri: REDIRECT,
          };
          return { code, params, ...(await exchange(as, params)) };
        };
        const first = await redeem();
        expect(first.response.status).toBe(200);
        const refresh = (token: string) =>
          exchange(as, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
        const warm = await refresh(first.body.refresh_token as string);
        expect(warm.response.status).toBe(200);
        let token = warm.body.refresh_token as string;

        // Refresh no longer allowed: unauthorized_client, and the token is not spent.
        const registered = (await other.clients.find(clientId))!;
        await other.clients.save({ ...registered, grantTypes: ['authorization_code'] });
        const narrowed = await refresh(token);
        expect(narrowed.response.status).toBe(400);
        expect(narrowed.body.error).toBe('unauthorized_client');
        expect((await store.refreshTokens.find(token))?.consumedAt).toBeUndefined();
        await other.clients.save(registered);
        const restored = await refresh(token);
        expect(restored.response.status).toBe(200);
        token = restored.body.refresh_token as string;

        // Deleted: invalid_client, for a code exchange and a refresh; neither is spent.
        const { code, verifier } = await obtainCode(as, clientId);
        expect((await refresh(token)).response.status).toBe(200);
        await other.clients.delete(clientId);
        const gone = await exchange(as, {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          client_id: clientId,
          redirect_uri: REDIRECT,
        });
        expect(gone.response.status).toBe(401);
        expect(gone.body.error).toBe('invalid_client');
        expect((await store.codes.find(code))?.consumedAt).toBeUndefined();

        // A confidential client's secret rotated elsewhere: the new secret works at once, the old not.
        const confidential = await confidentialClient(as);
        const grant = async (secret: string) => {
          const { code, verifier } = await obtainCode(as, confidential.clientId);
          return exchange(
            as,
            {
              grant_type: 'authorization_code',
              code,
              code_verifier: verifier,
              redirect_uri: REDIRECT,
            },
            basic(confidential.clientId, secret),
          );
        };
        expect((await grant(confidential.secret)).response.status).toBe(200);
        const newSecret = randomBytes(32).toString('base64url');
        const stored = (await other.clients.find(confidential.clientId))!;
        await other.clients.save({ ...stored, clientSecretHash: await hashSecret(newSecret) });
        expect((await grant(newSecret)).response.status).toBe(200);
        const old = await grant(confidential.secret);
        expect(old.response.status).toBe(401);
        expect(old.body.error).toBe('invalid_client');
      },
    );
  },
);
