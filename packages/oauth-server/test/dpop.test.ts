import {
  createMemoryReplayStore,
  createProof,
  DEFAULT_DPOP_ALGORITHMS,
  generateProofKey,
  jwkThumbprint,
  type ProofKey,
  type ReplayStore,
} from '@portcullis/dpop';
import { createTokenStore, memoryAdapter } from '@portcullis/token-store';
import fc from 'fast-check';
import { decodeJwt, exportPKCS8, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthorizationServerOptions } from '../src/index.js';
import {
  basic,
  codeParams,
  confidentialClient,
  countingAdapter,
  exchange,
  form,
  ISSUER,
  MACHINE,
  MACHINE_SECRET,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  type Setup,
  saveMachineClient,
  setup,
} from './support/setup.js';

const TOKEN_URL = `${ISSUER}/token`;
const SECRET = 'a nonce secret of at least thirty-two bytes, shared';

interface ProofOptions {
  url?: string;
  method?: string;
  nonce?: string;
  accessToken?: string;
  iat?: number;
  jti?: string;
}

/** A proof for the token endpoint made now by the test server's clock. */
function proof(s: Setup, key: ProofKey, options: ProofOptions = {}): Promise<string> {
  return createProof({
    ...key,
    method: options.method ?? 'POST',
    url: options.url ?? TOKEN_URL,
    iat: options.iat ?? Math.floor(s.clock.now / 1000),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...(options.accessToken === undefined ? {} : { accessToken: options.accessToken }),
    ...(options.jti === undefined ? {} : { jti: options.jti }),
  });
}

const dpop = (value: string) => ({ DPoP: value });

async function codeGrant(s: Setup, clientId: string, headers: Record<string, string> = {}) {
  return exchange(s.as, await codeParams(s.as, clientId), headers);
}

function refresh(s: Setup, clientId: string, token: string, headers: Record<string, string> = {}) {
  return exchange(
    s.as,
    { grant_type: 'refresh_token', refresh_token: token, client_id: clientId },
    headers,
  );
}

async function introspect(s: Setup, token: string) {
  const rs = await confidentialClient(s.as);
  const response = (await s.as.handle(
    form('/introspect', { token }, basic(rs.clientId, rs.secret)),
  ))!;
  return (await response.json()) as Record<string, unknown>;
}

function expectRefused(
  result: { response: Response; body: Record<string, unknown> },
  error: string,
  status = 400,
) {
  expect(result.response.status).toBe(status);
  expect(result.body.error).toBe(error);
  expect(result.response.headers.get('content-type')).toBe('application/json');
  expect(result.response.headers.get('cache-control')).toBe('no-store');
}

describe('DPoP at the token endpoint (RFC 9449)', () => {
  it('§5.1: the metadata lists the proof algorithms; dpop: false lists none', async () => {
    const on = await setup();
    const metadata = await (await on.as.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`),
    ))!.json();
    // @portcullis/dpop's default: ES256 first, no PKCS#1 v1.5.
    expect(metadata.dpop_signing_alg_values_supported).toEqual([...DEFAULT_DPOP_ALGORITHMS]);
    expect(metadata.dpop_signing_alg_values_supported[0]).toBe('ES256');
    expect(metadata.dpop_signing_alg_values_supported).not.toContain('RS256');
    const narrowed = await setup({ dpop: { algorithms: ['ES256'] } });
    const only = await (await narrowed.as.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`),
    ))!.json();
    expect(only.dpop_signing_alg_values_supported).toEqual(['ES256']);
    const off = await setup({ dpop: false });
    const none = await (await off.as.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`),
    ))!.json();
    expect(none).not.toHaveProperty('dpop_signing_alg_values_supported');
  });

  it('§5: a code exchange with a proof gets a DPoP token bound to the key (cnf.jkt), without one a Bearer token', async () => {
    const s = await setup();
    const clientId = await publicClient(s.as);
    const key = await generateProofKey();
    const jkt = await jwkThumbprint(key.publicJwk);
    const bound = await codeGrant(s, clientId, dpop(await proof(s, key)));
    expect(bound.response.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    expect(decodeJwt(bound.body.access_token as string).cnf).toEqual({ jkt });
    expect((await introspect(s, bound.body.access_token as string)).cnf).toEqual({ jkt });

    const bearer = await codeGrant(s, clientId);
    expect(bearer.response.status).toBe(200);
    expect(bearer.body.token_type).toBe('Bearer');
    expect(decodeJwt(bearer.body.access_token as string)).not.toHaveProperty('cnf');
    expect(await introspect(s, bearer.body.access_token as string)).not.toHaveProperty('cnf');
  });

  it('dpop: false ignores a proof: a Bearer token', async () => {
    const s = await setup({ dpop: false });
    const clientId = await publicClient(s.as);
    const result = await codeGrant(s, clientId, dpop('not even a proof'));
    expect(result.response.status).toBe(200);
    expect(result.body.token_type).toBe('Bearer');
  });

  it('opaque tokens: the record carries cnf, introspection answers it', async () => {
    const s = await setup({ accessTokenFormat: 'opaque' });
    const clientId = await publicClient(s.as);
    const key = await generateProofKey();
    const jkt = await jwkThumbprint(key.publicJwk);
    const result = await codeGrant(s, clientId, dpop(await proof(s, key)));
    expect(result.body.token_type).toBe('DPoP');
    const record = await s.store.accessTokens.find(result.body.access_token as string);
    expect(record?.extra).toEqual({ format: 'opaque', cnf: { jkt } });
    expect(await introspect(s, result.body.access_token as string)).toMatchObject({
      active: true,
      cnf: { jkt },
    });
  });

  it("§5: a public client's refresh token is bound: same key refreshes, another key or none is invalid_grant and spends nothing", async () => {
    const s = await setup();
    const clientId = await publicClient(s.as);
    const key = await generateProofKey();
    const other = await generateProofKey();
    const jkt = await jwkThumbprint(key.publicJwk);
    const first = await codeGrant(s, clientId, dpop(await proof(s, key)));
    const refreshToken = first.body.refresh_token as string;
    expect((await s.store.refreshTokens.find(refreshToken))?.extra).toEqual({ cnf: { jkt } });

    const otherKey = await refresh(s, clientId, refreshToken, dpop(await proof(s, other)));
    expectRefused(otherKey, 'invalid_grant');
    expect(otherKey.body.error_description).toMatch(/another DPoP key/);
    const noProof = await refresh(s, clientId, refreshToken);
    expectRefused(noProof, 'invalid_grant');
    expect(noProof.body.error_description).toMatch(/send a DPoP proof/);
    // Neither attempt spent the token: its rightful holder refreshes, and the successor is bound too.
    expect((await s.store.refreshTokens.find(refreshToken))?.consumedAt).toBeUndefined();
    const second = await refresh(s, clientId, refreshToken, dpop(await proof(s, key)));
    expect(second.response.status).toBe(200);
    expect(second.body.token_type).toBe('DPoP');
    expect(decodeJwt(second.body.access_token as string).cnf).toEqual({ jkt });
    const successor = second.body.refresh_token as string;
    expect((await s.store.refreshTokens.find(successor))?.extra).toEqual({ cnf: { jkt } });
    expectRefused(
      await refresh(s, clientId, successor, dpop(await proof(s, other))),
      'invalid_grant',
    );
  });

  it("§5: a public client's bound grant is one store step per grant: the code exchange with a proof, each refresh, a refused refresh (checked in the rotation itself)", async () => {
    const { adapter, calls } = countingAdapter();
    const s = await setup({}, createTokenStore({ adapter, production: false }));
    const clientId = await publicClient(s.as);
    const key = await generateProofKey();
    const jkt = await jwkThumbprint(key.publicJwk);
    const params = await codeParams(s.as, clientId);
    /** The grant's own store calls: not the proof's replay memory, nor the client's first read. */
    const steps = () => calls.filter((c) => !c.startsWith('remember') && c !== 'find(client)');
    calls.length = 0;
    const first = await exchange(s.as, params, dpop(await proof(s, key)));
    expect(first.response.status).toBe(200);
    expect(steps()).toEqual(['rotate']);
    const refreshToken = first.body.refresh_token as string;
    expect((await s.store.refreshTokens.find(refreshToken))?.extra).toEqual({ cnf: { jkt } });
    calls.length = 0;
    const refused = await refresh(s, clientId, refreshToken);
    expectRefused(refused, 'invalid_grant');
    expect(refused.body.error_description).toMatch(/send a DPoP proof/);
    // The rotation refused it; a read follows only to say why.
    expect(steps()).toEqual(['rotate', 'find(refresh_token)']);
    calls.length = 0;
    const second = await refresh(s, clientId, refreshToken, dpop(await proof(s, key)));
    expect(second.response.status).toBe(200);
    expect(steps()).toEqual(['rotate']);
    expect((await s.store.refreshTokens.find(second.body.refresh_token as string))?.extra).toEqual({
      cnf: { jkt },
    });
  });

  it("a public client's refresh token issued without a proof stays unbound; a proof at refresh binds the access token only", async () => {
    const s = await setup();
    const clientId = await publicClient(s.as);
    const key = await generateProofKey();
    const first = await codeGrant(s, clientId);
    const second = await refresh(
      s,
      clientId,
      first.body.refresh_token as string,
      dpop(await proof(s, key)),
    );
    expect(second.body.token_type).toBe('DPoP');
    const third = await refresh(s, clientId, second.body.refresh_token as string);
    expect(third.response.status).toBe(200);
    expect(third.body.token_type).toBe('Bearer');
  });

  it("a confidential client's refresh token is not bound; its access tokens are, to the key of each request", async () => {
    const s = await setup();
    const { clientId, secret } = await confidentialClient(s.as);
    const key = await generateProofKey();
    const other = await generateProofKey();
    const { code, verifier } = await obtainCode(s.as, clientId);
    const first = await exchange(
      s.as,
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT },
      { ...basic(clientId, secret), ...dpop(await proof(s, key)) },
    );
    expect(first.body.token_type).toBe('DPoP');
    expect(decodeJwt(first.body.access_token as string).cnf).toEqual({
      jkt: await jwkThumbprint(key.publicJwk),
    });
    expect((await s.store.refreshTokens.find(first.body.refresh_token as string))?.extra).toBe(
      undefined,
    );
    const rotated = await exchange(
      s.as,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string },
      { ...basic(clientId, secret), ...dpop(await proof(s, other)) },
    );
    expect(rotated.body.token_type).toBe('DPoP');
    expect(decodeJwt(rotated.body.access_token as string).cnf).toEqual({
      jkt: await jwkThumbprint(other.publicJwk),
    });
    const bearer = await exchange(
      s.as,
      { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string },
      basic(clientId, secret),
    );
    expect(bearer.body.token_type).toBe('Bearer');
  });

  it('client credentials (RFC 6749 §4.4): a proof binds the machine token, none gives Bearer', async () => {
    const s = await setup({ clientCredentials: { clientIds: [MACHINE] } });
    await saveMachineClient(s.store);
    const key = await generateProofKey();
    const grant = (headers: Record<string, string>) =>
      exchange(
        s.as,
        { grant_type: 'client_credentials' },
        { ...basic(MACHINE, MACHINE_SECRET), ...headers },
      );
    const bound = await grant(dpop(await proof(s, key)));
    expect(bound.response.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');
    const jkt = await jwkThumbprint(key.publicJwk);
    expect(decodeJwt(bound.body.access_token as string).cnf).toEqual({ jkt });
    expect((await introspect(s, bound.body.access_token as string)).cnf).toEqual({ jkt });
    expect((await grant({})).body.token_type).toBe('Bearer');
    expectRefused(await grant(dpop(await proof(s, key, { url: RESOURCE }))), 'invalid_dpop_proof');
  });

  describe('refused proofs: 400 invalid_dpop_proof, and the code is still usable', () => {
    const cases: [string, (s: Setup, key: ProofKey) => Promise<string>, RegExp][] = [
      ['not a JWS', async () => 'not-a-proof', /compact JWS/],
      [
        'two DPoP headers',
        async (s, key) => `${await proof(s, key)}, ${await proof(s, key)}`,
        /more than one/,
      ],
      ['htu of another URL', (s, key) => proof(s, key, { url: `${ISSUER}/revoke` }), /htu/],
      ['htu of a resource', (s, key) => proof(s, key, { url: RESOURCE }), /htu/],
      ['htm GET', (s, key) => proof(s, key, { method: 'GET' }), /htm/],
      ['iat too old', (s, key) => proof(s, key, { iat: s.clock.now / 1000 - 120 }), /time window/],
      ['iat ahead', (s, key) => proof(s, key, { iat: s.clock.now / 1000 + 120 }), /time window/],
      ['with ath', (s, key) => proof(s, key, { accessToken: 'a token' }), /has no 'ath'/],
      [
        'a signature of another key',
        async (s, key) => {
          const [header, payload] = (await proof(s, key)).split('.');
          const forged = (await proof(s, await generateProofKey())).split('.')[2];
          return `${header}.${payload}.${forged}`;
        },
        /signature/,
      ],
    ];
    it.each(cases)('%s', async (_name, make, description) => {
      const s = await setup();
      const clientId = await publicClient(s.as);
      const key = await generateProofKey();
      const params = await codeParams(s.as, clientId);
      const refused = await exchange(s.as, params, dpop(await make(s, key)));
      expectRefused(refused, 'invalid_dpop_proof');
      expect(refused.body.error_description).toMatch(description);
      const good = await exchange(s.as, params, dpop(await proof(s, key)));
      expect(good.response.status).toBe(200);
      expect(good.body.token_type).toBe('DPoP');
    });

    it('§11.1: a proof used once is refused the second time', async () => {
      const s = await setup();
      const clientId = await publicClient(s.as);
      const key = await generateProofKey();
      const once = await proof(s, key);
      expect((await codeGrant(s, clientId, dpop(once))).response.status).toBe(200);
      const replayed = await codeGrant(s, clientId, dpop(once));
      expectRefused(replayed, 'invalid_dpop_proof');
      expect(replayed.body.error_description).toMatch(/used before/);
    });

    it('§11.1: the jti is remembered only once the client has authenticated: a stranger spends no replay entry', async () => {
      const remembered: string[] = [];
      const replay = createMemoryReplayStore({ now: () => Date.UTC(2026, 0, 1) });
      const s = await setup({
        clientCredentials: { clientIds: [MACHINE] },
        dpop: {
          replay: {
            remember(key, expiresAtMs) {
              remembered.push(key);
              return replay.remember(key, expiresAtMs);
            },
          },
        },
      });
      await saveMachineClient(s.store);
      const { clientId, secret } = await confidentialClient(s.as);
      const key = await generateProofKey();
      // A code exchange, then client credentials: a fresh proof with wrong credentials is
      // invalid_client and writes nothing; the same proof then works for the real client.
      const params = await codeParams(s.as, clientId);
      for (const [body, id, good] of [
        [params, clientId, secret],
        [{ grant_type: 'client_credentials' }, MACHINE, MACHINE_SECRET],
      ] as const) {
        const fresh = await proof(s, key);
        const before = remembered.length;
        const stranger = await exchange(s.as, body, { ...basic(id, 'wrong'), ...dpop(fresh) });
        expectRefused(stranger, 'invalid_client', 401);
        expect(remembered).toHaveLength(before);
        const real = await exchange(s.as, body, { ...basic(id, good), ...dpop(fresh) });
        expect(real.response.status).toBe(200);
        expect(real.body.token_type).toBe('DPoP');
        expect(remembered).toHaveLength(before + 1);
        expectRefused(
          await exchange(s.as, body, { ...basic(id, good), ...dpop(fresh) }),
          'invalid_dpop_proof',
        );
      }
    });

    it('dpop.required: a token request without a proof is refused', async () => {
      const s = await setup({ dpop: { required: true } });
      const clientId = await publicClient(s.as);
      const refused = await codeGrant(s, clientId);
      expectRefused(refused, 'invalid_dpop_proof');
      expect(refused.body.error_description).toMatch(/requires a DPoP proof/);
      const key = await generateProofKey();
      expect((await codeGrant(s, clientId, dpop(await proof(s, key)))).body.token_type).toBe(
        'DPoP',
      );
    });
  });

  describe('§10 dpop_jkt: the code is bound to the key named at /authorize', () => {
    const boundCode = (s: Setup, clientId: string, jkt: string) =>
      codeParams(s.as, clientId, { dpopJkt: jkt });

    it('the named key exchanges it; another key, or no proof, is invalid_grant', async () => {
      const s = await setup();
      const clientId = await publicClient(s.as);
      const key = await generateProofKey();
      const jkt = await jwkThumbprint(key.publicJwk);
      const other = await generateProofKey();

      const ok = await exchange(s.as, await boundCode(s, clientId, jkt), dpop(await proof(s, key)));
      expect(ok.response.status).toBe(200);
      expect(decodeJwt(ok.body.access_token as string).cnf).toEqual({ jkt });

      for (const headers of [dpop(await proof(s, other)), {}]) {
        const refused = await exchange(s.as, await boundCode(s, clientId, jkt), headers);
        expectRefused(refused, 'invalid_grant');
        expect(refused.body.error_description).toMatch(/dpop_jkt/);
      }
    });

    it('a dpop_jkt that is not a thumbprint is refused at /authorize (invalid_request)', async () => {
      const s = await setup();
      const clientId = await publicClient(s.as);
      await expect(obtainCode(s.as, clientId, { dpopJkt: 'short' })).rejects.toThrow(
        /error=invalid_request/,
      );
    });
  });

  describe('§8 server nonces', () => {
    it('use_dpop_nonce with DPoP-Nonce, the retry with it succeeds and gets the next nonce; CORS exposes it', async () => {
      const s = await setup({ dpop: { nonce: { secret: SECRET } } });
      const clientId = await publicClient(s.as);
      const key = await generateProofKey();
      const params = await codeParams(s.as, clientId);
      const first = await exchange(s.as, params, dpop(await proof(s, key)));
      expectRefused(first, 'use_dpop_nonce');
      const nonce = first.response.headers.get('dpop-nonce')!;
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.response.headers.get('access-control-expose-headers')).toContain('DPoP-Nonce');
      const wrong = await exchange(
        s.as,
        params,
        dpop(await proof(s, key, { nonce: 'x'.repeat(43) })),
      );
      expectRefused(wrong, 'use_dpop_nonce');
      const second = await exchange(s.as, params, dpop(await proof(s, key, { nonce })));
      expect(second.response.status).toBe(200);
      expect(second.body.token_type).toBe('DPoP');
      expect(second.response.headers.get('dpop-nonce')).toBe(nonce);
      // The next window: a new nonce; the previous one is still accepted for one more window.
      s.clock.now += 300_000;
      const refreshed = await refresh(
        s,
        clientId,
        second.body.refresh_token as string,
        dpop(await proof(s, key, { nonce })),
      );
      expect(refreshed.response.status).toBe(200);
      expect(refreshed.response.headers.get('dpop-nonce')).not.toBe(nonce);
    });

    it('stateless: an instance sharing the secret (or the signing key) accepts the nonces of another', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const signingKey = await exportPKCS8(privateKey);
      for (const dpopOption of [
        { nonce: { secret: SECRET } },
        { nonce: true },
      ] satisfies AuthorizationServerOptions['dpop'][]) {
        const store = createTokenStore({ adapter: memoryAdapter() });
        const a = await setup({ dpop: dpopOption, signingKey }, store);
        const b = await setup({ dpop: dpopOption, signingKey }, store);
        const elsewhere = await setup(
          {
            dpop: { nonce: { secret: `${SECRET}, but another` } },
            signingKey,
          },
          store,
        );
        const clientId = await publicClient(a.as);
        const key = await generateProofKey();
        const { response } = await codeGrant(a, clientId, dpop(await proof(a, key)));
        const nonce = response.headers.get('dpop-nonce')!;
        const atB = await codeGrant(b, clientId, dpop(await proof(b, key, { nonce })));
        expect(atB.response.status).toBe(200);
        expectRefused(
          await codeGrant(elsewhere, clientId, dpop(await proof(elsewhere, key, { nonce }))),
          'use_dpop_nonce',
        );
      }
    });

    it('nonce: true without a secret or a signing key is a start-up error naming the option', async () => {
      await expect(setup({ dpop: { nonce: true } })).rejects.toThrow(/dpop\.nonce/);
      await expect(setup({ dpop: { nonce: { secret: 'short' } } })).rejects.toThrow(/secret/);
    });
  });

  it('maxAgeSeconds (at least 1) and clockSkewSeconds (at least 0): a mistake is a start-up TypeError naming the option', async () => {
    for (const [dpop, name] of [
      [{ maxAgeSeconds: 0 }, 'dpop.maxAgeSeconds'],
      [{ maxAgeSeconds: Number.NaN }, 'dpop.maxAgeSeconds'],
      [{ clockSkewSeconds: -1 }, 'dpop.clockSkewSeconds'],
      [{ clockSkewSeconds: '15' as unknown as number }, 'dpop.clockSkewSeconds'],
    ] as const) {
      await expect(setup({ dpop }), name).rejects.toThrow(TypeError);
      await expect(setup({ dpop }), name).rejects.toThrow(name);
    }
    await expect(setup({ dpop: { maxAgeSeconds: 1, clockSkewSeconds: 0 } })).resolves.toBeTruthy();
  });

  describe('replay store', () => {
    it("by default the token store's replay memory: a proof used at one instance is refused at another on the same store", async () => {
      const store = createTokenStore({ adapter: memoryAdapter(), now: () => Date.UTC(2026, 0, 1) });
      const a = await setup({}, store);
      const b = await setup({}, store);
      const clientId = await publicClient(a.as);
      const once = await proof(a, await generateProofKey());
      expect((await codeGrant(a, clientId, dpop(once))).response.status).toBe(200);
      const replayed = await codeGrant(b, clientId, dpop(once));
      expectRefused(replayed, 'invalid_dpop_proof');
      expect(replayed.body.error_description).toMatch(/used before/);
    });

    it("the option's store is asked (prefix-free), or the store's own once-only memory with a prefix", async () => {
      const keys: string[] = [];
      const given: ReplayStore = {
        async remember(key) {
          keys.push(key);
          return true;
        },
      };
      const s = await setup({ dpop: { replay: given } });
      const clientId = await publicClient(s.as);
      const key = await generateProofKey();
      await codeGrant(s, clientId, dpop(await proof(s, key)));
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const stored: string[] = [];
      const store = Object.assign(createTokenStore({ adapter: memoryAdapter() }), {
        replay: {
          async remember(k: string) {
            stored.push(k);
            return true;
          },
        },
      });
      const t = await setup({}, store);
      const tClient = await publicClient(t.as);
      await codeGrant(t, tClient, dpop(await proof(t, key)));
      expect(stored).toEqual([expect.stringMatching(/^dpop:as:[A-Za-z0-9_-]{43}$/)]);
    });

    it('a failing store is 503 temporarily_unavailable, a full memory store too, never a token', async () => {
      const failing = await setup({
        dpop: {
          replay: {
            remember: () => Promise.reject(new Error('down')),
          },
        },
      });
      const clientId = await publicClient(failing.as);
      const key = await generateProofKey();
      const down = await codeGrant(failing, clientId, dpop(await proof(failing, key)));
      expectRefused(down, 'temporarily_unavailable', 503);
      const clock = { now: () => Date.UTC(2026, 0, 1) }; // the test server's clock
      const replay = createMemoryReplayStore({ maxEntries: 1, now: () => clock.now() });
      const s = await setup({ dpop: { replay } });
      clock.now = () => s.clock.now;
      const c = await publicClient(s.as);
      expect((await codeGrant(s, c, dpop(await proof(s, key)))).response.status).toBe(200);
      const full = await codeGrant(s, c, dpop(await proof(s, key)));
      expectRefused(full, 'temporarily_unavailable', 503);
    });
  });

  it('CORS: a preflight allows the DPoP header', async () => {
    const s = await setup();
    const response = (await s.as.handle(
      new Request(TOKEN_URL, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Headers': 'dpop' },
      }),
    ))!;
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/\bDPoP\b/);
  });

  it.each([
    ['', {}, ['invalid_dpop_proof']],
    [' (nonces required)', { nonce: { secret: SECRET } }, ['invalid_dpop_proof', 'use_dpop_nonce']],
  ] as const)(
    'fuzz%s: any DPoP header (random, or a real proof mutated) is 200 or 400 with a DPoP error, never 5xx',
    async (_name, dpopOption, errors) => {
      const s = await setup({ dpop: dpopOption });
      const clientId = await publicClient(s.as);
      const key = await generateProofKey();
      const real = await proof(s, key);
      const mutated = fc
        .tuple(fc.nat({ max: real.length - 1 }), fc.string({ minLength: 1, maxLength: 3 }))
        .map(([at, text]) => real.slice(0, at) + text + real.slice(at + 1));
      const header = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 64 }),
        mutated,
        fc
          .array(fc.oneof(fc.base64String({ maxLength: 80 }), fc.constant(real.split('.')[1]!)), {
            minLength: 3,
            maxLength: 3,
          })
          .map((parts) => parts.join('.').replace(/[+/=]/g, '_')),
      );
      await fc.assert(
        fc.asyncProperty(header, async (value) => {
          let headers: Record<string, string>;
          try {
            headers = { DPoP: new Headers({ DPoP: value }).get('dpop')! };
          } catch {
            return; // not a header value fetch can send
          }
          const result = await codeGrant(s, clientId, headers);
          expect(result.response.status).toBeLessThan(500);
          if (result.response.status !== 200) {
            expect(result.response.status).toBe(400);
            expect(errors).toContain(result.body.error);
          }
        }),
        { numRuns: 150 },
      );
    },
    60_000, // as the other fuzzers: 150 token requests take seconds on a loaded machine
  );
});
