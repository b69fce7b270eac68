// The ID token's nonce and auth_time ride in the code's and the refresh tokens' `extra`: they
// must survive each real store's serialisation, and a refresh's rotation.

import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { exchange, obtainCode, publicClient, REDIRECT, setup } from './support/setup.js';
import { realStores } from './support/stores.js';

const now = () => Date.now();
const real = await realStores('oidc', now);
afterAll(() => real.cleanup());

const stores = (['PGlite', 'Postgres', 'Redis'] as const).map(
  (name) => [name, ...real.stores[name]] as const,
);

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
