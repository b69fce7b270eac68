import { createHash } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { createTokenStore, memoryAdapter, type TokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthorizationServerOptions } from '../src/index.js';
import {
  basic,
  confidentialClient,
  listen,
  obtainCode,
  publicClient,
  REDIRECT,
  register,
  setup,
} from './support/setup.js';
import { realStores } from './support/stores.js';

type Entry = { jti_sha256: string; exp: number };
type Feed = { revoked: Entry[]; cursor: string; more: boolean };

/** base64url(SHA-256(jti)), as a resource server computes it from a verified token. */
const jtiSha256 = (token: string) =>
  createHash('sha256')
    .update(decodeJwt(token).jti as string)
    .digest('base64url');

/**
 * An authorization server with the revocation feed, served over node:http; a resource server
 * client (confidential, allowed by name) and a public client holding a grant.
 */
async function started(overrides: Partial<AuthorizationServerOptions> = {}, store?: TokenStore) {
  const s = await setup(
    {
      revocationFeed: true,
      introspection: { allow: (client) => client.clientName === 'resource server' },
      refreshGraceSeconds: 0,
      ...overrides,
    },
    store,
  );
  const http = await listen((request) => s.as.handle(request));
  const { body: rs } = await register(s.as, {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'client_secret_basic',
    client_name: 'resource server',
  });
  const rsAuth = basic(rs.client_id as string, rs.client_secret as string);
  const clientId = await publicClient(s.as);
  const post = async (path: string, params: Record<string, string>) => {
    const response = await fetch(http.origin + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    return { response, body: (await response.json().catch(() => ({}))) as Record<string, string> };
  };
  /** A new grant of the public client, its tokens obtained over HTTP. */
  const grant = async (userId = 'user-1') => {
    const { code, verifier } = await obtainCode(s.as, clientId, { scope: 'read', userId });
    const { response, body } = await post('/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
    });
    expect(response.status).toBe(200);
    return { code, verifier, access: body.access_token!, refresh: body.refresh_token! };
  };
  /** A refresh of the public client's token over HTTP. */
  const refresh = (token: string) =>
    post('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });
  const feed = async (query = '', headers: Record<string, string> = rsAuth) => {
    const response = await fetch(`${http.origin}/revocations${query}`, { headers });
    const text = await response.text();
    return { response, text, body: JSON.parse(text) as Feed & Record<string, unknown> };
  };
  /** Everything listed from the beginning, following `more`. */
  const all = async () => {
    const seen = new Map<string, number>();
    let page = (await feed()).body;
    for (const entry of page.revoked) seen.set(entry.jti_sha256, entry.exp);
    while (page.more) {
      page = (await feed(`?cursor=${encodeURIComponent(page.cursor)}`)).body;
      for (const entry of page.revoked) seen.set(entry.jti_sha256, entry.exp);
    }
    return seen;
  };
  return { ...s, http, rsAuth, clientId, post, grant, refresh, feed, all };
}

describe('revocation feed (GET /revocations)', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  const start = async (...args: Parameters<typeof started>) => {
    const s = await started(...args);
    servers.push(s.http);
    return s;
  };

  it('lists a JWT revoked at /revoke: its jti hash and exp, no-store, nothing else', async () => {
    const s = await start();
    const { access, refresh } = await s.grant();
    const kept = await s.grant();
    expect((await s.feed()).body.revoked).toEqual([]);
    expect(
      (await s.post('/revoke', { token: access, client_id: s.clientId })).response.status,
    ).toBe(200);
    const { response, text, body } = await s.feed();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(body).sort()).toEqual(['cursor', 'more', 'revoked']);
    expect(body.revoked).toEqual([{ jti_sha256: jtiSha256(access), exp: decodeJwt(access).exp }]);
    expect(body.more).toBe(false);
    // Nothing but hashes and expiries: no token, no jti, no user or client.
    for (const secret of [access, refresh, decodeJwt(access).jti as string, 'user-1', s.clientId]) {
      expect(text).not.toContain(secret);
    }
    expect((await s.all()).has(jtiSha256(kept.access))).toBe(false);
  });

  it('lists the grant’s access tokens when a refresh token is revoked at /revoke', async () => {
    const s = await start();
    const { access, refresh } = await s.grant();
    const rotated = await s.refresh(refresh);
    expect(rotated.response.status).toBe(200);
    await s.post('/revoke', { token: rotated.body.refresh_token!, client_id: s.clientId });
    const listed = await s.all();
    expect(listed.has(jtiSha256(access))).toBe(true);
    expect(listed.has(jtiSha256(rotated.body.access_token!))).toBe(true);
  });

  it('lists the grant’s access tokens when refresh-token reuse revokes the family', async () => {
    const s = await start();
    const { access, refresh } = await s.grant();
    const first = await s.refresh(refresh);
    const reuse = await s.refresh(refresh);
    expect(reuse.body.error).toBe('invalid_grant');
    const listed = await s.all();
    expect(listed.has(jtiSha256(access))).toBe(true);
    expect(listed.has(jtiSha256(first.body.access_token!))).toBe(true);
  });

  it('lists the grant’s access token when a replayed code revokes the family', async () => {
    const s = await start();
    const { access, code, verifier } = await s.grant();
    const replay = await s.post('/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: s.clientId,
    });
    expect(replay.body.error).toBe('invalid_grant');
    expect((await s.all()).has(jtiSha256(access))).toBe(true);
  });

  it('lists every access token of the user × client when the user withdraws consent (as /account does)', async () => {
    const s = await start();
    const one = await s.grant('user-1');
    const two = await s.grant('user-1');
    const other = await s.grant('user-2');
    // The auth-server app's POST /account/revoke calls exactly this.
    expect(await s.as.consents.revoke('user-1', s.clientId)).toBe(true);
    const listed = await s.all();
    expect(listed.has(jtiSha256(one.access))).toBe(true);
    expect(listed.has(jtiSha256(two.access))).toBe(true);
    expect(listed.has(jtiSha256(other.access))).toBe(false);
  });

  it('refuses, as 401 invalid_client, anyone but an authenticated resource server the operator allowed', async () => {
    const s = await start();
    const stranger = await confidentialClient(s.as);
    const { body: rs } = await register(s.as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
      client_name: 'resource server',
    });
    const refusals: Record<string, string>[] = [
      {},
      basic(stranger.clientId, stranger.secret),
      basic(rs.client_id as string, 'wrong'),
      basic(s.clientId, ''),
      basic('nobody', 'secret'),
      { Authorization: 'Bearer something' },
      { Authorization: 'Basic !!!' },
    ];
    for (const headers of refusals) {
      const { response, body } = await s.feed('', headers);
      expect(response.status).toBe(401);
      expect(body).toMatchObject({ error: 'invalid_client' });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    // The allowed client, with Basic: served. Its secret in the URL is refused (400).
    expect(
      (await s.feed('', basic(rs.client_id as string, rs.client_secret as string))).response.status,
    ).toBe(200);
    const inUrl = await s.feed(`?client_id=${rs.client_id}&client_secret=${rs.client_secret}`, {});
    expect(inUrl.response.status).toBe(400);
    expect(inUrl.body.error).toBe('invalid_request');
    const post = await fetch(`${s.http.origin}/revocations`, { method: 'POST', headers: s.rsAuth });
    expect(post.status).toBe(405);
  });

  it('a bad cursor or limit is 400 invalid_request, never 5xx; pages follow the cursor', async () => {
    const s = await start();
    const grants = [await s.grant(), await s.grant(), await s.grant()];
    for (const g of grants) await s.post('/revoke', { token: g.access, client_id: s.clientId });
    for (const query of [
      '?cursor=',
      '?cursor=x',
      `?cursor=${'9'.repeat(300)}`,
      '?cursor=1.a.0.a',
      '?cursor=%00',
      '?cursor=a&cursor=b',
      '?limit=0',
      '?limit=1001',
      '?limit=-1',
      '?limit=abc',
      '?limit=1.5',
    ]) {
      const { response, body } = await s.feed(query);
      expect(response.status, query).toBe(400);
      expect(body.error, query).toBe('invalid_request');
    }
    const seen: string[] = [];
    let page = (await s.feed('?limit=1')).body;
    let calls = 1;
    seen.push(...page.revoked.map((e) => e.jti_sha256));
    while (page.more) {
      page = (await s.feed(`?limit=1&cursor=${encodeURIComponent(page.cursor)}`)).body;
      seen.push(...page.revoked.map((e) => e.jti_sha256));
      calls++;
    }
    expect(calls).toBe(4);
    expect(new Set(seen)).toEqual(new Set(grants.map((g) => jtiSha256(g.access))));
  });

  it('is advertised in the metadata, at a configurable path, and only in JWT mode with a feed store', async () => {
    const s = await start({ revocationFeed: { path: '/feeds/revoked' } });
    const metadata = (await (
      await fetch(`${s.http.origin}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata.revocation_feed_endpoint).toBe('http://localhost:3000/feeds/revoked');
    expect((await fetch(`${s.http.origin}/feeds/revoked`, { headers: s.rsAuth })).status).toBe(200);
    expect((await fetch(`${s.http.origin}/revocations`, { headers: s.rsAuth })).status).toBe(404);

    const off = await setup();
    expect(
      (await (await off.as.handle(
        new Request('http://localhost:3000/.well-known/oauth-authorization-server'),
      ))!.json()) as Record<string, unknown>,
    ).not.toHaveProperty('revocation_feed_endpoint');
    expect(await off.as.handle(new Request('http://localhost:3000/revocations'))).toBeUndefined();

    await expect(setup({ revocationFeed: true, accessTokenFormat: 'opaque' })).rejects.toThrow(
      /accessTokenFormat "jwt"/,
    );
    const store = createTokenStore({ adapter: memoryAdapter() });
    const { revocations: _, ...withoutFeed } = store;
    await expect(
      setup({ revocationFeed: true }, withoutFeed as unknown as TokenStore),
    ).rejects.toThrow(/store that keeps one/);
    for (const path of ['revocations', '/token', '/a?b', '/../x', '']) {
      await expect(setup({ revocationFeed: { path } })).rejects.toThrow(/revocationFeed.path/);
    }
    await expect(setup({ revocationFeed: { pageSize: 0 } })).rejects.toThrow(/pageSize/);
  });

  it('a store outage is 503 JSON, not 5xx of another kind', async () => {
    const db = new PGlite();
    const s = await start({}, createTokenStore({ adapter: postgresAdapter(db) }));
    // The resource server's client, as read once (the store goes away under the server).
    expect((await s.feed()).response.status).toBe(200);
    await db.close();
    const { response, body } = await s.feed();
    expect(response.status).toBe(503);
    expect(body.error).toBe('temporarily_unavailable');
  }, 60_000);
});

describe('revocation feed fuzzing: no 5xx for any query or credentials', () => {
  for (const [name, store] of [
    ['memory', () => createTokenStore({ adapter: memoryAdapter() })],
    ['PGlite', () => createTokenStore({ adapter: postgresAdapter(new PGlite()) })],
  ] as const) {
    it(`${name}: arbitrary cursor, limit and other parameters, with and without valid Basic`, async () => {
      const s = await started({}, store());
      try {
        const { grant, post, clientId } = s;
        const { access } = await grant();
        await post('/revoke', { token: access, client_id: clientId });
        const valid = (await s.feed()).body.cursor;
        await fc.assert(
          fc.asyncProperty(
            fc.dictionary(
              fc.constantFrom('cursor', 'limit', 'x', 'client_id', '%00'),
              fc.oneof(
                fc.string({ unit: 'binary', maxLength: 300 }),
                fc.constantFrom(valid, `${valid}0`, '0..0.', '1000', '1'),
                fc.integer().map(String),
              ),
            ),
            fc.boolean(),
            async (params, authenticated) => {
              const response = (await s.as.handle(
                new Request(`http://localhost:3000/revocations?${new URLSearchParams(params)}`, {
                  headers: authenticated ? s.rsAuth : {},
                }),
              ))!;
              expect(response.status).toBeLessThan(500);
              expect([200, 400, 401]).toContain(response.status);
            },
          ),
          { numRuns: 150 },
        );
      } finally {
        await s.http.close();
      }
    }, 60_000);
  }
});

describe('revocation feed on the real stores (each revocation path over HTTP)', async () => {
  const clock = { now: Date.now() };
  const { stores, cleanup } = await realStores('feed', () => clock.now);
  const servers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
    await cleanup();
  });

  for (const [name, [open, up]] of Object.entries(stores)) {
    it.runIf(up)(
      `${name}: /revoke, refresh reuse and consent withdrawal all reach the feed`,
      async () => {
        const s = await started({ now: () => clock.now }, await open());
        servers.push(s.http);
        const revoked = await s.grant();
        await s.post('/revoke', { token: revoked.access, client_id: s.clientId });
        const reused = await s.grant();
        await s.refresh(reused.refresh);
        await s.refresh(reused.refresh);
        const withdrawn = await s.grant('user-2');
        await s.as.consents.revoke('user-2', s.clientId);
        const live = await s.grant('user-3');
        const listed = await s.all();
        for (const token of [revoked.access, reused.access, withdrawn.access]) {
          // The record's expiry, rounded up to the second: the JWT's exp or the second after.
          const exp = decodeJwt(token).exp!;
          expect(listed.get(jtiSha256(token))).toBeGreaterThanOrEqual(exp);
          expect(listed.get(jtiSha256(token))).toBeLessThanOrEqual(exp + 1);
        }
        expect(listed.has(jtiSha256(live.access))).toBe(false);
      },
      60_000,
    );
  }
});
