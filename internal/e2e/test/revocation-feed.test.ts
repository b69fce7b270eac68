import { randomBytes } from 'node:crypto';
import {
  type AuthServer,
  bearerChallenge,
  CookieJar,
  codeFlow,
  devLogin,
  freePort,
  type McpServer,
  type RegisteredClient,
  refreshGrant,
  registerClient,
  startAuthServer,
  startMcpServer,
  tokenRequest,
  waitFor,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODERN_TOOLS_CALL } from '../bench/shared.mjs';

// Issue 18 §2: a token revoked at the authorization server — by /revoke, by refresh-token reuse
// (its family revoked), by the user revoking the app on /account — is refused (401
// invalid_token) by two running instances of the example MCP server within 5 s, each polling
// the revocation feed on its own (REVOCATION_FEED_URL, every 2 s by default). Both instances
// serve one resource, http://localhost:<port>/mcp, as two instances behind a load balancer do:
// one listens on 127.0.0.1, the other on [::1], on the same port.

const REDIRECT_URI = 'http://127.0.0.1:9/callback'; // read from Location, never followed
const RS_CLIENT_ID = 'mcp-resource-server';
const RS_CLIENT_SECRET = randomBytes(32).toString('base64url');

/** A 2026-07-28 tools/call, as the v2 client sends it (the bench's request). */
function callPublicTool(url: string, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'public_tool',
    },
    body: MODERN_TOOLS_CALL,
  });
}

let as: AuthServer;
let port: number;
let resource: string;
const instances: McpServer[] = [];
/** Where each instance is reached: the same port on two loopback addresses. */
let urls: string[];
let client: RegisteredClient;
let jar: CookieJar;

beforeAll(async () => {
  port = await freePort();
  resource = `http://localhost:${port}/mcp`;
  as = await startAuthServer({
    resources: [resource],
    env: {
      // This MCP server's own client at the authorization server, allowed to read the feed.
      OAUTH_CLIENT_ID: RS_CLIENT_ID,
      OAUTH_CLIENT_SECRET: RS_CLIENT_SECRET,
      OAUTH_REDIRECT_URI: 'http://127.0.0.1:9/unused',
      INTROSPECTION_CLIENT_IDS: RS_CLIENT_ID,
      // A rotated refresh token presented again is reuse at once (no 30 s grace window).
      REFRESH_TOKEN_GRACE_SECONDS: '0',
    },
  });
  const metadata = await (await fetch(`${as.url}/.well-known/oauth-authorization-server`)).json();
  const env = {
    MCP_RESOURCE_URL: resource,
    REVOCATION_FEED_URL: metadata.revocation_feed_endpoint,
    INTROSPECTION_CLIENT_ID: RS_CLIENT_ID,
    INTROSPECTION_CLIENT_SECRET: RS_CLIENT_SECRET,
    LOG_LEVEL: 'warn',
  };
  instances.push(await startMcpServer({ issuer: as.url, port, env }));
  // startMcpServer's readiness probe asks 127.0.0.1, which the first instance answers: the
  // second one's is checked here, on its own address.
  instances.push(await startMcpServer({ issuer: as.url, port, env: { ...env, HOST: '::1' } }));
  urls = [`http://127.0.0.1:${port}/mcp`, `http://[::1]:${port}/mcp`];
  await waitFor(
    'the second MCP instance on [::1]',
    async () => (await fetch(`http://[::1]:${port}/healthz`)).ok,
    { timeoutMs: 30_000 },
  );

  jar = await devLogin(as.url, 'revoked@example.com', new CookieJar());
  client = await registerClient(as.url, {
    redirectUri: REDIRECT_URI,
    name: 'Revocation e2e client',
    confidential: true,
  });
});

afterAll(async () => {
  for (const instance of instances) await instance.close();
  await as?.close();
});

const grant = () =>
  codeFlow({ issuer: as.url, resource, client, redirectUri: REDIRECT_URI, jar, scope: 'read' });

/** Both instances serve the token (and so have it in their verified-token cache). */
async function servedByBoth(token: string) {
  for (const url of urls) {
    const response = await callPublicTool(url, token);
    expect(response.status, `${url}: ${await response.clone().text()}`).toBe(200);
    expect(await response.text()).toContain('This is accessible to everyone');
  }
}

/**
 * Polls both instances until each refuses the token with 401 invalid_token (fails after 15 s),
 * and expects each first refusal less than 5 s after `since`, when the revocation was sent.
 */
async function refusedByBothWithin5s(token: string, since: number): Promise<void> {
  const took = await Promise.all(
    urls.map(async (url) => {
      for (;;) {
        const response = await callPublicTool(url, token);
        if (response.status === 401) {
          expect(bearerChallenge(response.headers.get('www-authenticate')).error).toBe(
            'invalid_token',
          );
          return performance.now() - since;
        }
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        if (performance.now() - since > 15_000) throw new Error(`${url} still serves the token`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }),
  );
  for (const ms of took) expect(ms).toBeLessThan(5000);
}

describe('a revoked access token is refused by both MCP instances within 5 s', () => {
  it('the instances poll the feed the authorization server advertises', async () => {
    const metadata = await (await fetch(`${as.url}/.well-known/oauth-authorization-server`)).json();
    expect(metadata.revocation_feed_endpoint).toBe(`${as.url}/revocations`);
  });

  it('(a) revoked by /revoke', async () => {
    const tokens = await grant();
    await servedByBoth(tokens.access_token);
    const request = tokenRequest(client, {
      token: tokens.access_token,
      token_type_hint: 'access_token',
    });
    const since = performance.now();
    const revoked = await fetch(`${as.url}/revoke`, { method: 'POST', ...request });
    expect(revoked.status).toBe(200);
    await refusedByBothWithin5s(tokens.access_token, since);
  });

  it('(b) revoked with its family when a refresh token is used twice', async () => {
    const spent = (await grant()).refresh_token;
    if (!spent) throw new Error('the grant has no refresh token');
    const refresh = () => refreshGrant({ issuer: as.url, resource, client, refreshToken: spent });
    const rotated = await refresh();
    expect(rotated.status).toBe(200);
    const current = await rotated.json();
    await servedByBoth(current.access_token);
    const since = performance.now();
    // The first refresh token again: reuse, so the authorization server revokes the grant.
    const reuse = await refresh();
    expect(reuse.status).toBe(400);
    expect((await reuse.json()).error).toBe('invalid_grant');
    await refusedByBothWithin5s(current.access_token, since);
  });

  it('(c) revoked by the user on /account (Revoke for the app)', async () => {
    const tokens = await grant();
    await servedByBoth(tokens.access_token);
    const page = await (
      await fetch(`${as.url}/account`, { headers: { cookie: jar.header() } })
    ).text();
    const csrf = /name="csrf" value="([^"]*)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    expect(csrf).toBeTruthy();
    const since = performance.now();
    const revoked = await fetch(`${as.url}/account/revoke`, {
      method: 'POST',
      headers: {
        cookie: jar.header(),
        origin: as.url,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ client_id: client.client_id, csrf: csrf! }),
      redirect: 'manual',
    });
    expect(revoked.status).toBe(303);
    await refusedByBothWithin5s(tokens.access_token, since);
  });

  it('a token nobody revoked is still served by both', async () => {
    await servedByBoth((await grant()).access_token);
  });
});
