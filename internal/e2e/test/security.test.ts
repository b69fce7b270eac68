import { randomBytes } from 'node:crypto';
import {
  type AuthServer,
  authorizeOverHttp,
  bearerChallenge,
  type CookieJar,
  claimsOf,
  codeFlow,
  devLogin,
  freePort,
  type McpServer,
  mcpRequest,
  pkce,
  type RegisteredClient,
  refreshGrant,
  registerClient,
  startAuthServer,
  startMcpServer,
  tokenRequest,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REDIRECT_URI = 'http://127.0.0.1:9/callback'; // never reached: redirects are read, not followed

/** The resource server's client, configured on the authorization server as the one that may introspect. */
const INTROSPECTOR = {
  client_id: 'e2e-resource-server',
  client_secret: randomBytes(32).toString('base64url'),
  token_endpoint_auth_method: 'client_secret_basic',
} satisfies RegisteredClient;

async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('security end to end: two MCP servers behind one authorization server', () => {
  let as: AuthServer;
  let mcpA: McpServer;
  let mcpB: McpServer;
  let client: RegisteredClient;
  let jar: CookieJar;

  beforeAll(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    as = await startAuthServer({
      resources: [`http://127.0.0.1:${portA}/mcp`, `http://127.0.0.1:${portB}/mcp`],
      env: {
        // Reuse detection at once: without a grace window a second use is reuse, not a retry.
        REFRESH_TOKEN_GRACE_SECONDS: '0',
        // A resource server's own confidential client, the one allowed to introspect (RFC 7662).
        OAUTH_CLIENT_ID: INTROSPECTOR.client_id,
        OAUTH_CLIENT_SECRET: INTROSPECTOR.client_secret,
        OAUTH_REDIRECT_URI: 'http://127.0.0.1:9/resource-server',
        INTROSPECTION_CLIENT_IDS: INTROSPECTOR.client_id,
      },
    });
    [mcpA, mcpB] = await Promise.all([
      startMcpServer({ issuer: as.url, port: portA }),
      startMcpServer({ issuer: as.url, port: portB }),
    ]);
    client = await registerClient(as.url, { redirectUri: REDIRECT_URI, name: 'Security client' });
    jar = await devLogin(as.url, 'mallory@example.com');
  });

  afterAll(async () => {
    await mcpA?.close();
    await mcpB?.close();
    await as?.close();
  });

  const flow = (resource: string, scope = 'read') =>
    codeFlow({ issuer: as.url, resource, client, redirectUri: REDIRECT_URI, scope, jar });

  it('RFC 8707 + RFC 9068 §4: a token issued for one MCP server is refused by the other with 401 invalid_token', async () => {
    const forA = await flow(mcpA.url);
    const forB = await flow(mcpB.url);
    expect(claimsOf(forA.access_token).aud).toBe(mcpA.url);
    expect(claimsOf(forB.access_token).aud).toBe(mcpB.url);

    expect((await mcpRequest(mcpA.url, forA.access_token, 'tools/list')).status).toBe(200);
    expect((await mcpRequest(mcpB.url, forB.access_token, 'tools/list')).status).toBe(200);
    for (const [url, token] of [
      [mcpB.url, forA.access_token],
      [mcpA.url, forB.access_token],
    ] as const) {
      const refused = await mcpRequest(url, token, 'tools/list');
      expect(refused.status).toBe(401);
      expect(bearerChallenge(refused.headers.get('www-authenticate')).error).toBe('invalid_token');
    }
  });

  it('RFC 7009 §2.1: a revoked refresh token cannot be used (invalid_grant)', async () => {
    const tokens = await flow(mcpA.url);
    const revoke = await fetch(`${as.url}/revoke`, {
      method: 'POST',
      ...tokenRequest(client, {
        token: tokens.refresh_token ?? '',
        token_type_hint: 'refresh_token',
      }),
    });
    expect(revoke.status).toBe(200);
    const refused = await refreshGrant({
      issuer: as.url,
      resource: mcpA.url,
      client,
      refreshToken: tokens.refresh_token ?? '',
    });
    expect(refused.status).toBe(400);
    expect((await jsonOf(refused)).error).toBe('invalid_grant');
  });

  it('OAuth 2.1 §4.3.1: a refresh token used twice revokes its family; the rotated one stops working too', async () => {
    const tokens = await flow(mcpA.url);
    const refresh = (refreshToken: string) =>
      refreshGrant({ issuer: as.url, resource: mcpA.url, client, refreshToken });
    const rotated = await jsonOf(await refresh(tokens.refresh_token ?? ''));
    expect(rotated.refresh_token).toBeTruthy();
    const replay = await refresh(tokens.refresh_token ?? '');
    expect(replay.status).toBe(400);
    expect((await jsonOf(replay)).error).toBe('invalid_grant');
    const victim = await refresh(String(rotated.refresh_token));
    expect(victim.status).toBe(400);
  });

  describe('the authorization server restarted mid-flow loses nothing', () => {
    it('between authorization and code exchange: the code is still redeemable and the client still known', async () => {
      const { verifier, challenge } = pkce();
      const state = randomBytes(8).toString('hex');
      const url = new URL(`${as.url}/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        scope: 'read',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: mcpA.url,
      }).toString();
      const { callback } = await authorizeOverHttp(as.url, jar, url);
      const code = callback.searchParams.get('code') ?? '';
      expect(code).toBeTruthy();
      const keysBefore = await jsonOf(await fetch(`${as.url}/jwks.json`));

      await as.restart();

      const exchanged = await fetch(`${as.url}/token`, {
        method: 'POST',
        ...tokenRequest(client, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: verifier,
          resource: mcpA.url,
        }),
      });
      expect(exchanged.status).toBe(200);
      const tokens = await jsonOf(exchanged);
      expect((await mcpRequest(mcpA.url, String(tokens.access_token), 'tools/list')).status).toBe(
        200,
      );
      // The same signing key, the same session (no login) and the same consent (no screen).
      expect(await jsonOf(await fetch(`${as.url}/jwks.json`))).toEqual(keysBefore);
      const { callback: back, consentShown } = await authorizeOverHttp(as.url, jar, url);
      expect(consentShown).toBe(false);
      expect(back.origin + back.pathname).toBe(REDIRECT_URI);
      expect(back.searchParams.get('code')).toBeTruthy();
    });

    it('between token and refresh: the refresh token still works and the access token still introspects as active', async () => {
      const tokens = await flow(mcpA.url);
      const introspector = INTROSPECTOR;

      await as.restart();

      const introspection = await fetch(`${as.url}/introspect`, {
        method: 'POST',
        ...tokenRequest(introspector, { token: tokens.access_token }),
      });
      expect(introspection.status).toBe(200);
      expect(await jsonOf(introspection)).toMatchObject({
        active: true,
        client_id: client.client_id,
        aud: mcpA.url,
      });
      const refreshed = await refreshGrant({
        issuer: as.url,
        resource: mcpA.url,
        client,
        refreshToken: tokens.refresh_token ?? '',
      });
      expect(refreshed.status).toBe(200);
      const next = await jsonOf(refreshed);
      expect((await mcpRequest(mcpA.url, String(next.access_token), 'tools/list')).status).toBe(
        200,
      );
    });
  });
});

describe('security end to end: expiry (ACCESS_TOKEN_TTL_SECONDS=1)', () => {
  let as: AuthServer;
  let mcp: McpServer;

  beforeAll(async () => {
    const port = await freePort();
    as = await startAuthServer({
      resources: [`http://127.0.0.1:${port}/mcp`],
      env: { ACCESS_TOKEN_TTL_SECONDS: '1' },
    });
    mcp = await startMcpServer({ issuer: as.url, port });
  });

  afterAll(async () => {
    await mcp?.close();
    await as?.close();
  });

  it('RFC 6750 §3.1: an expired access token gets 401 with error="invalid_token"', async () => {
    const client = await registerClient(as.url, { redirectUri: REDIRECT_URI });
    const jar = await devLogin(as.url, 'eve@example.com');
    const tokens = await codeFlow({
      issuer: as.url,
      resource: mcp.url,
      client,
      redirectUri: REDIRECT_URI,
      scope: 'read',
      jar,
    });
    const { exp } = claimsOf(tokens.access_token) as { exp: number };
    // Past exp plus the resource server's clock tolerance (5 s by default in mcp-context).
    const wait = exp * 1000 + 6_000 - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    const response = await mcpRequest(mcp.url, tokens.access_token, 'tools/list');
    expect(response.status).toBe(401);
    const challenge = bearerChallenge(response.headers.get('www-authenticate'));
    expect(challenge.error).toBe('invalid_token');
    expect(challenge.resource_metadata).toBeTruthy();
  });
});
