import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type Browser,
  type BrowserContext,
  chromiumAvailable,
  launchChromium,
} from '@portcullis/internal-testing';
import {
  authorizeOverHttp,
  CookieJar,
  claimsOf,
  codeFlow,
  devLogin,
  type Loopback,
  loopbackRedirect,
  OPAQUE_SUB,
  pkce,
  type RegisteredClient,
  refreshGrant,
  registerClient,
  type Tokens,
  tokenRequest,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAndApprove } from './browser.js';
import { type Hop, PEER_HEADER } from './round-robin-proxy.js';
import { connectWithOAuth, toolJson } from './sdk-client.js';
import { type Exchange, recordingFetch, TestOAuthProvider } from './sdk-provider.js';
import { jwksOf, kidOf, type SharedStore, type Stack, startStack, verifiesWith } from './stack.js';

/** Seconds a rotated refresh token still gets its successor; the tests wait past it. */
const GRACE_SECONDS = 10;
const REDIRECT = 'http://127.0.0.1:9/callback';

const INTROSPECTOR = {
  client_id: 'mi-resource-server',
  client_secret: randomBytes(32).toString('base64url'),
  token_endpoint_auth_method: 'client_secret_basic',
} satisfies RegisteredClient;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The upstreams of the proxy's hops from `from` on whose path starts with `path`. */
function upstreamsOf(hops: Hop[], from: number, path: string): number[] {
  return hops
    .slice(from)
    .filter((h) => h.path.startsWith(path))
    .map((h) => h.upstream);
}

async function refresh(stack: Stack, client: RegisteredClient, refreshToken: string) {
  const response = await refreshGrant({
    issuer: stack.issuer,
    resource: stack.resource,
    client,
    refreshToken,
  });
  const body = (await response.json()) as Tokens & { error?: string };
  return { status: response.status, body };
}

/**
 * Two `next start` instances of the authorization server on one shared store, behind a
 * round-robin proxy that is their issuer: the e2e flow with the MCP SDK client and Chromium,
 * the refresh races with the racing requests on different instances, shared signing keys, and
 * sessions and authorizations that start on one instance and finish on the other.
 */
/**
 * Registration, then a whole code flow pinned to one instance (sign in, authorize, consent,
 * redeem: six requests, all asserted to reach `upstream`); resolves the access token.
 */
async function codeFlowOn(stack: Stack, upstream: number, email: string): Promise<string> {
  const client = await registerClient(stack.issuer, { redirectUri: REDIRECT });
  stack.proxy.plan(...Array(6).fill(upstream));
  const from = stack.proxy.hops.length;
  const jar = await devLogin(stack.issuer, email);
  const tokens = await codeFlow({
    issuer: stack.issuer,
    resource: stack.resource,
    client,
    redirectUri: REDIRECT,
    scope: 'read',
    jar,
  });
  expect(stack.proxy.hops.slice(from).map((h) => h.upstream)).toEqual(Array(6).fill(upstream));
  return tokens.access_token;
}

export function multiInstanceSuite(store: SharedStore, storeAvailable: boolean): void {
  describe.runIf(storeAvailable)(`two instances started at once on an empty ${store}`, () => {
    it('each of 2 rounds: their first requests at the same moment leave one signing key, published alike by both; a token issued by either verifies with the JWKS of the other', async () => {
      for (let round = 0; round < 2; round++) {
        // Up without touching the store: the two simultaneous JWKS requests are its first use.
        const stack = await startStack({ store, readyPath: '/api/auth/csrf', mcp: false });
        try {
          const first = await Promise.all(stack.instances.map((i) => jwksOf(i.url)));
          const [keysA, keysB] = await Promise.all(stack.instances.map((i) => jwksOf(i.url)));
          expect(first[0]).toEqual(keysA);
          expect(first[1]).toEqual(keysB);
          expect(keysA?.map((k) => k.kid)).toHaveLength(1);
          expect(keysB).toEqual(keysA);
          const tokens: string[] = [];
          for (const upstream of [0, 1]) {
            tokens.push(await codeFlowOn(stack, upstream, `boot${upstream}@example.com`));
          }
          expect(verifiesWith(tokens[0] ?? '', keysB ?? [])).toBe(true);
          expect(verifiesWith(tokens[1] ?? '', keysA ?? [])).toBe(true);
        } finally {
          await stack.close();
        }
      }
    });
  });

  describe.runIf(storeAvailable && chromiumAvailable())(
    `two auth-server instances on one ${store} behind a round-robin proxy`,
    () => {
      let stack: Stack;
      let browser: Browser;
      let context: BrowserContext;
      let loopback: Loopback;

      beforeAll(async () => {
        [stack, browser, loopback] = await Promise.all([
          startStack({
            store,
            env: {
              ACCESS_TOKEN_TTL_SECONDS: '3',
              REFRESH_TOKEN_GRACE_SECONDS: String(GRACE_SECONDS),
              // A resource server's confidential client, allowed to introspect (RFC 7662).
              OAUTH_CLIENT_ID: INTROSPECTOR.client_id,
              OAUTH_CLIENT_SECRET: INTROSPECTOR.client_secret,
              OAUTH_REDIRECT_URI: 'http://127.0.0.1:9/resource-server',
              INTROSPECTION_CLIENT_IDS: INTROSPECTOR.client_id,
            },
          }),
          launchChromium(),
          loopbackRedirect(),
        ]);
        context = await browser.newContext();
      });

      afterAll(async () => {
        await context?.close();
        await browser?.close();
        await loopback?.close();
        await stack?.close();
      });

      const mcpUrl = () => stack.mcp?.url ?? '';

      /** A signed-in user's tokens for a new public client, every step through the proxy. */
      async function tokensFor(email: string) {
        const client = await registerClient(stack.issuer, { redirectUri: REDIRECT });
        const jar = await devLogin(stack.issuer, email);
        const tokens = await codeFlow({
          issuer: stack.issuer,
          resource: stack.resource,
          client,
          redirectUri: REDIRECT,
          scope: 'read',
          jar,
        });
        return { client, tokens };
      }

      it('signing keys: both instances publish the same key set, and a token issued by each verifies with the JWKS of the other', async () => {
        const [a, b] = stack.instances as [Stack['instances'][0], Stack['instances'][0]];
        const [keysA, keysB] = await Promise.all([jwksOf(a.url), jwksOf(b.url)]);
        expect(keysA.length).toBeGreaterThan(0);
        expect(keysB).toEqual(keysA);

        // Each code flow on one instance: sign in, authorize, consent, redeem, all on it.
        const byInstance: string[] = [];
        for (const upstream of [0, 1]) {
          byInstance.push(await codeFlowOn(stack, upstream, `keys${upstream}@example.com`));
        }
        const [fromA, fromB] = byInstance as [string, string];
        expect(verifiesWith(fromA, keysB)).toBe(true);
        expect(verifiesWith(fromB, keysA)).toBe(true);
        expect(kidOf(fromA)).toBe(kidOf(fromB));
        // The check can fail: a token whose signature was changed does not verify.
        const forged = `${fromA.slice(0, -4)}${fromA.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
        expect(verifiesWith(forged, keysB)).toBe(false);
      });

      it('a sign-in started on instance 0 completes on 1; an authorization started on 1 is approved on 0; its code is redeemed on 0 and refreshed on 1', async () => {
        const client = await registerClient(stack.issuer, { redirectUri: REDIRECT });
        const from = stack.proxy.hops.length;
        // next-auth: the CSRF cookie from 0, the credentials posted to 1.
        stack.proxy.plan(0, 1);
        const jar = await devLogin(stack.issuer, 'roaming@example.com', new CookieJar());
        // /authorize on 1, the consent page from 0, the decision posted to 1.
        stack.proxy.plan(1, 0, 1);
        const { verifier, challenge } = pkce();
        const url = new URL(`${stack.issuer}/authorize`);
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: REDIRECT,
          scope: 'read',
          state: 'roaming-state',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: stack.resource,
        }).toString();
        const { callback, consentShown } = await authorizeOverHttp(stack.issuer, jar, url);
        expect(consentShown).toBe(true);
        expect(callback.searchParams.get('state')).toBe('roaming-state');
        expect(callback.searchParams.get('iss')).toBe(stack.issuer);
        const code = callback.searchParams.get('code') ?? '';
        stack.proxy.plan(0);
        const exchanged = await fetch(`${stack.issuer}/token`, {
          method: 'POST',
          ...tokenRequest(client, {
            grant_type: 'authorization_code',
            code,
            redirect_uri: REDIRECT,
            code_verifier: verifier,
            resource: stack.resource,
          }),
        });
        expect(exchanged.status).toBe(200);
        const tokens = (await exchanged.json()) as Tokens;
        expect(claimsOf(tokens.access_token)).toMatchObject({
          iss: stack.issuer,
          aud: stack.resource,
          sub: expect.stringMatching(OPAQUE_SUB),
          client_id: client.client_id,
        });
        stack.proxy.plan(1);
        const refreshed = await refresh(stack, client, tokens.refresh_token ?? '');
        expect(refreshed.status).toBe(200);
        expect(
          stack.proxy.hops
            .slice(from)
            .map((h) => `${h.upstream} ${h.method} ${h.path.split('?')[0]} ${h.status}`),
        ).toEqual([
          '0 GET /api/auth/csrf 200',
          '1 POST /api/auth/callback/dev-login 200',
          '1 GET /authorize 302',
          '0 GET /consent 200',
          '1 POST /authorize/decision 303',
          '0 POST /token 200',
          '1 POST /token 200',
        ]);
      });

      it('the MCP SDK client with Chromium through the proxy: DCR, login and consent, token, tools; after expiry 4 parallel tool calls (4 connections, one token store) refresh on both instances and keep the session', async () => {
        const log: Exchange[] = [];
        const provider = new TestOAuthProvider({
          loopback,
          issuer: stack.issuer,
          clientName: 'SDK Multi-instance Client',
          userAgent: async (url) => {
            const page = await context.newPage();
            try {
              await signInAndApprove(page, url.href, { issuer: stack.issuer });
            } finally {
              await page.close();
            }
          },
        });
        const from = stack.proxy.hops.length;
        const { client, authorized } = await connectWithOAuth(mcpUrl(), provider, log);
        expect(authorized).toBe(true);
        const steps = log.map((e) => `${e.method} ${e.url.pathname} ${e.status}`);
        expect(steps.slice(0, 4)).toEqual([
          'POST /mcp 401',
          'GET /.well-known/oauth-protected-resource/mcp 200',
          'GET /.well-known/oauth-authorization-server 200',
          'POST /register 201',
        ]);
        expect(steps).toContain('POST /token 200');
        // The browser's and the client's requests were spread over both instances.
        expect(new Set(stack.proxy.hops.slice(from).map((h) => h.upstream))).toEqual(
          new Set([0, 1]),
        );
        expect(claimsOf(provider.tokens()?.access_token ?? '')).toMatchObject({
          iss: stack.issuer,
          aud: mcpUrl(),
          sub: expect.stringMatching(OPAQUE_SUB),
        });
        const first = await client.callTool({ name: 'user_profile', arguments: {} });
        expect(toolJson(first)).toMatchObject({ user: { id: expect.stringMatching(OPAQUE_SUB) } });
        // Three more connections of the same application (one token store, the provider): SDK
        // 1.32.2 keeps one "auth just completed" flag per transport, so parallel calls on one
        // transport can trip over each other's refresh on a busy machine ("401 after successful
        // authentication") — a client-side race; one call per transport keeps the test about
        // the servers.
        const others = await Promise.all(
          [1, 2, 3].map(async () => {
            const other = new Client({ name: 'portcullis-e2e', version: '1.0.0' });
            await other.connect(
              new StreamableHTTPClientTransport(new URL(mcpUrl()), {
                authProvider: provider,
                fetch: recordingFetch(log),
              }),
            );
            return other;
          }),
        );

        // Wait until the MCP server refuses the access token (3 s, its clock tolerance included).
        for (let i = 0; ; i++) {
          const response = await fetch(mcpUrl(), {
            method: 'POST',
            headers: {
              authorization: `Bearer ${provider.tokens()?.access_token}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
          });
          if (response.status === 401) break;
          expect(response.status).toBe(200);
          if (i > 80) throw new Error('the access token never expired');
          await sleep(500);
        }
        const before = log.length;
        const hopsBefore = stack.proxy.hops.length;
        const authorizations = provider.authorizationUrls.length;
        // The refreshes alternate between the instances, whatever metadata the SDK fetches between.
        stack.proxy.planPath('/token', 0, 1, 0, 1);
        const results = await Promise.all(
          [client, ...others].map((c) => c.callTool({ name: 'user_profile', arguments: {} })),
        );
        for (const result of results) {
          expect(result.isError).toBeFalsy();
          expect(toolJson(result)).toMatchObject({
            user: { id: expect.stringMatching(OPAQUE_SUB) },
          });
        }
        stack.proxy.planPath('/token');
        const refreshes = log.slice(before).filter((e) => e.url.pathname === '/token');
        // One refresh per call that got its 401 before another call's refresh was saved: on a
        // busy machine that may be fewer than 4, never 0; two or more went to both instances.
        expect(refreshes.length).toBeGreaterThanOrEqual(1);
        for (const r of refreshes)
          expect(r).toMatchObject({ status: 200, grantType: 'refresh_token' });
        const landed = upstreamsOf(stack.proxy.hops, hopsBefore, '/token');
        expect(landed).toHaveLength(refreshes.length);
        expect(new Set(landed)).toEqual(new Set(landed.length > 1 ? [0, 1] : [landed[0]]));
        expect(provider.authorizationUrls.length).toBe(authorizations);
        await Promise.all([client, ...others].map((c) => c.close()));
      });

      it('a token issued on 0 introspects as active on 1 and 0; its refresh token revoked on 1 (RFC 7009) is refused on 0 and introspects as inactive on both', async () => {
        stack.proxy.plan(0, 0, 0, 0, 0, 0, 0);
        const { client, tokens } = await tokensFor('introspected@example.com');
        const introspect = async (upstream: number, token: string) => {
          stack.proxy.plan(upstream);
          const response = await fetch(`${stack.issuer}/introspect`, {
            method: 'POST',
            ...tokenRequest(INTROSPECTOR, { token }),
          });
          expect(response.status).toBe(200);
          return (await response.json()) as Record<string, unknown>;
        };
        for (const upstream of [1, 0]) {
          expect(await introspect(upstream, tokens.access_token)).toMatchObject({
            active: true,
            sub: expect.stringMatching(OPAQUE_SUB),
            client_id: client.client_id,
            aud: stack.resource,
          });
          expect(await introspect(upstream, tokens.refresh_token ?? '')).toMatchObject({
            active: true,
          });
        }
        stack.proxy.plan(1);
        const revoked = await fetch(`${stack.issuer}/revoke`, {
          method: 'POST',
          ...tokenRequest(client, {
            token: tokens.refresh_token ?? '',
            token_type_hint: 'refresh_token',
          }),
        });
        expect(revoked.status).toBe(200);
        stack.proxy.plan(0);
        const refused = await refresh(stack, client, tokens.refresh_token ?? '');
        expect(refused.status).toBe(400);
        expect(refused.body.error).toBe('invalid_grant');
        for (const upstream of [0, 1]) {
          expect(await introspect(upstream, tokens.refresh_token ?? '')).toEqual({
            active: false,
          });
        }
      });

      it('real concurrency: 8 parallel refreshes of one token, spread over both instances, all get the same successor, which then works', async () => {
        const { client, tokens } = await tokensFor('parallel@example.com');
        const from = stack.proxy.hops.length;
        const answers = await Promise.all(
          Array.from({ length: 8 }, () => refresh(stack, client, tokens.refresh_token ?? '')),
        );
        expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
        const successors = new Set(answers.map((a) => a.body.refresh_token));
        expect(successors.size).toBe(1);
        expect(successors.has(tokens.refresh_token)).toBe(false);
        expect(new Set(upstreamsOf(stack.proxy.hops, from, '/token'))).toEqual(new Set([0, 1]));
        const next = await refresh(stack, client, answers[0]?.body.refresh_token ?? '');
        expect(next.status).toBe(200);
      });

      it(`deterministic interleaving: rotated on 0, replayed on 1 within the grace gets the same successor; replayed on 0 after ${GRACE_SECONDS} s it revokes the family, and the current token fails on 1`, async () => {
        const { client, tokens } = await tokensFor('interleave@example.com');
        const r0 = tokens.refresh_token ?? '';
        stack.proxy.plan(0);
        const rotated = await refresh(stack, client, r0);
        expect(rotated.status).toBe(200);
        const r1 = rotated.body.refresh_token ?? '';
        stack.proxy.plan(1);
        const replay = await refresh(stack, client, r0);
        expect(replay.status).toBe(200);
        expect(replay.body.refresh_token).toBe(r1);
        // r1 rotates on 1 into r2: the live head of the family.
        stack.proxy.plan(1);
        const head = await refresh(stack, client, r1);
        expect(head.status).toBe(200);
        const r2 = head.body.refresh_token ?? '';

        await sleep((GRACE_SECONDS + 1) * 1000);
        stack.proxy.plan(0);
        const late = await refresh(stack, client, r0);
        expect(late.status).toBe(400);
        expect(late.body.error).toBe('invalid_grant');
        stack.proxy.plan(1);
        const after = await refresh(stack, client, r2);
        expect(after.status).toBe(400);
        expect(after.body.error).toBe('invalid_grant');
      });

      it(`real concurrency after the grace: a replay of the old token and the use of the current one race on different instances; the family ends revoked whichever wins`, async () => {
        const { client, tokens } = await tokensFor('race@example.com');
        const r0 = tokens.refresh_token ?? '';
        const rotated = await refresh(stack, client, r0);
        expect(rotated.status).toBe(200);
        const r1 = rotated.body.refresh_token ?? '';
        await sleep((GRACE_SECONDS + 1) * 1000);

        const from = stack.proxy.hops.length;
        stack.proxy.planPath('/token', 0, 1, 0, 1);
        const [stale, honest, stale2, honest2] = await Promise.all([
          refresh(stack, client, r0),
          refresh(stack, client, r1),
          refresh(stack, client, r0),
          refresh(stack, client, r1),
        ]);
        expect(upstreamsOf(stack.proxy.hops, from, '/token').sort()).toEqual([0, 0, 1, 1]);
        expect(stale.status).toBe(400);
        expect(stale2.status).toBe(400);
        // The honest uses may have won before the replay; whatever they got is dead now.
        for (const answer of [honest, honest2]) {
          if (answer.status !== 200) {
            expect(answer.body.error).toBe('invalid_grant');
            continue;
          }
          for (const upstream of [0, 1]) {
            stack.proxy.plan(upstream);
            expect((await refresh(stack, client, answer.body.refresh_token ?? '')).status).toBe(
              400,
            );
          }
        }
        for (const upstream of [0, 1]) {
          stack.proxy.plan(upstream);
          expect((await refresh(stack, client, r1)).status).toBe(400);
        }
      });

      it('per-address limits are shared by the instances and read from the right of X-Forwarded-For: the 21st registration in an hour from one address is refused whichever instance gets it, whatever X-Forwarded-For the caller writes', async () => {
        const register = (peer: string, forwardedFor?: string) =>
          fetch(`${stack.issuer}/register`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              [PEER_HEADER]: peer,
              ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
            },
            body: JSON.stringify({ client_name: 'limited', redirect_uris: [REDIRECT] }),
          });
        const from = stack.proxy.hops.length;
        const statuses: number[] = [];
        // Each request a different client-written X-Forwarded-For: none of them is believed.
        for (let i = 0; i < 20; i++) {
          statuses.push((await register('203.0.113.7', `10.9.9.${i}`)).status);
        }
        expect(statuses).toEqual(Array(20).fill(201));
        expect(new Set(upstreamsOf(stack.proxy.hops, from, '/register'))).toEqual(new Set([0, 1]));
        for (const upstream of [0, 1]) {
          stack.proxy.plan(upstream);
          const refused = await register('203.0.113.7', '198.51.100.99');
          expect(refused.status).toBe(429);
          expect(((await refused.json()) as { error?: string }).error).toBe('too_many_requests');
        }
        // Another caller behind the same proxy is not held to that address's count.
        stack.proxy.plan(0);
        expect((await register('203.0.113.8')).status).toBe(201);
      });
    },
  );
}
