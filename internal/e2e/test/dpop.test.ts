import { randomBytes } from 'node:crypto';
import {
  type AuthServer,
  authorizeOverHttp,
  bearerChallenge,
  type CookieJar,
  claimsOf,
  devLogin,
  freePort,
  type Loopback,
  loopbackRedirect,
  type McpServer,
  mcpRequest,
  registerClient,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest } from './helpers/discovery.js';

// Loopback http only: oauth4webapi refuses http unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const MACHINE = 'nightly-report';
const MACHINE_SECRET = randomBytes(32).toString('base64url');

const newKey = () =>
  crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>;

/** The SHA-256 JWK thumbprint (RFC 7638) of a P-256 public key. */
async function thumbprint(key: CryptoKeyPair): Promise<string> {
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', key.publicKey);
  const input = JSON.stringify({ crv, kty, x, y });
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(input));
  return Buffer.from(digest).toString('base64url');
}

/** An MCP JSON-RPC call with DPoP, through oauth4webapi (proof with `ath`, DPoP-Nonce kept). */
function mcpCall(url: string, token: string, dpop: oauth.DPoPHandle, method = 'tools/list') {
  return oauth.protectedResourceRequest(
    token,
    'POST',
    new URL(url),
    new Headers({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} }),
    { DPoP: dpop, ...insecure },
  );
}

/** A refused protectedResourceRequest: its status and parsed challenges. */
async function refusal(call: Promise<Response>) {
  const error = await call.then(
    (response) => response,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
  const challenge = error as oauth.WWWAuthenticateChallengeError;
  return { status: challenge.status, challenges: challenge.cause };
}

/** The same token endpoint call again when the server asks for a nonce (RFC 9449 §8). */
async function withNonceRetry<T>(request: () => Promise<T>, onNonce: () => void): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    onNonce();
    return request();
  }
}

describe('DPoP end to end: oauth4webapi, the auth server and the MCP server (RFC 9449)', () => {
  let as: AuthServer;
  let asNonce: AuthServer;
  let mcp: McpServer;
  let mcpRequired: McpServer;
  let loopback: Loopback;
  let jar: CookieJar;
  let jarNonce: CookieJar;

  beforeAll(async () => {
    loopback = await loopbackRedirect();
    const [port, requiredPort] = [await freePort(), await freePort()];
    const resources = [`http://127.0.0.1:${port}/mcp`, `http://127.0.0.1:${requiredPort}/mcp`];
    [as, asNonce] = await Promise.all([
      startAuthServer({
        resources,
        env: {
          MACHINE_CLIENTS: JSON.stringify([
            { client_id: MACHINE, client_secret: MACHINE_SECRET, scope: 'read' },
          ]),
        },
      }),
      startAuthServer({
        resources,
        env: { DPOP_NONCE_SECRET: randomBytes(32).toString('base64url') },
      }),
    ]);
    [mcp, mcpRequired] = await Promise.all([
      startMcpServer({ issuer: as.url, port, env: { MCP_DPOP: 'optional' } }),
      startMcpServer({ issuer: as.url, port: requiredPort, env: { MCP_DPOP: 'required' } }),
    ]);
    [jar, jarNonce] = await Promise.all([
      devLogin(as.url, 'dpop@example.com'),
      devLogin(asNonce.url, 'dpop@example.com'),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([mcp?.close(), mcpRequired?.close()]);
    await Promise.all([as?.close(), asNonce?.close()]);
    await loopback?.close();
  });

  async function discover(issuer: string) {
    const url = new URL(issuer);
    return oauth.processDiscoveryResponse(
      url,
      await oauth.discoveryRequest(url, { algorithm: 'oauth2', ...insecure }),
    );
  }

  async function publicClient(server: oauth.AuthorizationServer): Promise<oauth.Client> {
    const registered = await registerClient(server.issuer, {
      redirectUri: loopback.redirectUri,
      name: 'oauth4webapi DPoP client',
      endpoint: server.registration_endpoint,
    });
    return { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
  }

  /** Login and consent over HTTP, then the code exchange with DPoP; `dpopJkt` names the key (§10). */
  async function codeFlow(
    server: oauth.AuthorizationServer,
    client: oauth.Client,
    userJar: CookieJar,
    dpop: oauth.DPoPHandle | undefined,
    options: { dpopJkt?: string; onNonce?: () => void } = {},
  ) {
    const { url, verifier, state } = await authorizationRequest(server, {
      client_id: client.client_id,
      redirect_uri: loopback.redirectUri,
      resource: mcp.url,
      ...(options.dpopJkt ? { dpop_jkt: options.dpopJkt } : {}),
    });
    const { callback } = await authorizeOverHttp(server.issuer, userJar, url);
    const params = oauth.validateAuthResponse(server, client, callback, state);
    const exchange = async () =>
      oauth.processAuthorizationCodeResponse(
        server,
        client,
        await oauth.authorizationCodeGrantRequest(
          server,
          client,
          oauth.None(),
          params,
          loopback.redirectUri,
          verifier,
          {
            additionalParameters: { resource: mcp.url },
            ...(dpop ? { DPoP: dpop } : {}),
            ...insecure,
          },
        ),
      );
    return withNonceRetry(exchange, options.onNonce ?? (() => {}));
  }

  function refresh(
    server: oauth.AuthorizationServer,
    client: oauth.Client,
    refreshToken: string,
    dpop: oauth.DPoPHandle | undefined,
  ) {
    return withNonceRetry(
      async () =>
        oauth.processRefreshTokenResponse(
          server,
          client,
          await oauth.refreshTokenGrantRequest(server, client, oauth.None(), refreshToken, {
            additionalParameters: { resource: mcp.url },
            ...(dpop ? { DPoP: dpop } : {}),
            ...insecure,
          }),
        ),
      () => {},
    );
  }

  it('metadata: the auth server lists its proof algorithms; the MCP server its own, and requires DPoP when told', async () => {
    const server = await discover(as.url);
    expect(server.dpop_signing_alg_values_supported).toContain('ES256');
    const optional = await oauth.processResourceDiscoveryResponse(
      new URL(mcp.url),
      await oauth.resourceDiscoveryRequest(new URL(mcp.url), insecure),
    );
    expect(optional.dpop_signing_alg_values_supported).toContain('ES256');
    expect(optional.dpop_bound_access_tokens_required).toBeUndefined();
    const required = await oauth.processResourceDiscoveryResponse(
      new URL(mcpRequired.url),
      await oauth.resourceDiscoveryRequest(new URL(mcpRequired.url), insecure),
    );
    expect(required.dpop_bound_access_tokens_required).toBe(true);
  });

  it('code flow, MCP calls and refresh with one key; the stolen tokens are refused as Bearer, with another key, and at refresh', async () => {
    const server = await discover(as.url);
    const client = await publicClient(server);
    const key = await newKey();
    const dpop = oauth.DPoP(client, key);
    const jkt = await thumbprint(key);

    const tokens = await codeFlow(server, client, jar, dpop);
    expect(tokens.token_type).toBe('dpop');
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt });
    const listed = await mcpCall(mcp.url, tokens.access_token, dpop);
    expect(listed.status).toBe(200);
    // Again: the verified token comes from the cache now, and its new proof is checked all the same.
    const called = await mcpCall(mcp.url, tokens.access_token, dpop, 'tools/list');
    expect(called.status).toBe(200);

    // Stolen: the access token as a Bearer token, and with a proof of the thief's key.
    const asBearer = await mcpRequest(mcp.url, tokens.access_token, 'tools/list');
    expect(asBearer.status).toBe(401);
    expect(bearerChallenge(asBearer.headers.get('www-authenticate')).error).toBe('invalid_token');
    const thief = oauth.DPoP(client, await newKey());
    const otherKey = await refusal(mcpCall(mcp.url, tokens.access_token, thief));
    expect(otherKey.status).toBe(401);
    expect(otherKey.challenges.find((c) => c.scheme === 'dpop')?.parameters.error).toBe(
      'invalid_token',
    );
    // The refresh token of a public client is bound too (§5): refused without the key...
    for (const stolen of [thief, undefined]) {
      const refused = refresh(server, client, tokens.refresh_token!, stolen);
      await expect(refused).rejects.toBeInstanceOf(oauth.ResponseBodyError);
      await expect(refused).rejects.toMatchObject({ error: 'invalid_grant' });
    }
    // ... and nothing was spent: its holder refreshes with the key, and calls on.
    const refreshed = await refresh(server, client, tokens.refresh_token!, dpop);
    expect(refreshed.token_type).toBe('dpop');
    expect(claimsOf(refreshed.access_token).cnf).toEqual({ jkt });
    expect((await mcpCall(mcp.url, refreshed.access_token, dpop)).status).toBe(200);
    const again = await refresh(server, client, refreshed.refresh_token!, dpop);
    expect((await mcpCall(mcp.url, again.access_token, dpop)).status).toBe(200);
  });

  it('a Bearer token still works where DPoP is optional, and is refused where it is required', async () => {
    const server = await discover(as.url);
    const client = await publicClient(server);
    const tokens = await codeFlow(server, client, jar, undefined);
    expect(tokens.token_type).toBe('bearer');
    expect(claimsOf(tokens.access_token)).not.toHaveProperty('cnf');
    expect((await mcpRequest(mcp.url, tokens.access_token, 'tools/list')).status).toBe(200);
    const required = await mcpRequest(mcpRequired.url, tokens.access_token, 'tools/list');
    expect(required.status).toBe(401);
    expect(required.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });

  it('§10 dpop_jkt: the code is exchanged with the named key only', async () => {
    const server = await discover(as.url);
    const client = await publicClient(server);
    const key = await newKey();
    const dpop = oauth.DPoP(client, key);
    const named = await codeFlow(server, client, jar, dpop, { dpopJkt: await thumbprint(key) });
    expect(named.token_type).toBe('dpop');
    const other = codeFlow(server, client, jar, oauth.DPoP(client, await newKey()), {
      dpopJkt: await thumbprint(key),
    });
    await expect(other).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('the token endpoint refuses a replayed proof and one for another URL: 400 invalid_dpop_proof', async () => {
    const server = await discover(as.url);
    const client = await publicClient(server);
    const proofs: string[] = [];
    // Capture the proof oauth4webapi sends, then send it again by hand.
    const capture: typeof fetch = (input, init) => {
      const header = new Headers(init?.headers).get('dpop');
      if (header) proofs.push(header);
      return fetch(input, init);
    };
    const key = await newKey();
    const dpop = oauth.DPoP(client, key);
    const tokens = await codeFlow(server, client, jar, dpop);
    const first = await oauth.refreshTokenGrantRequest(
      server,
      client,
      oauth.None(),
      tokens.refresh_token!,
      { DPoP: dpop, [oauth.customFetch]: capture, ...insecure },
    );
    const rotated = await oauth.processRefreshTokenResponse(server, client, first);
    expect(proofs).toHaveLength(1);
    const replay = await fetch(server.token_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: proofs[0]! },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: rotated.refresh_token!,
        client_id: client.client_id,
      }),
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'The DPoP proof has been used before',
    });
    // A proof made for the MCP server (its htu), shown at the token endpoint.
    const forMcp: string[] = [];
    const mcpProof = await oauth
      .protectedResourceRequest(
        rotated.access_token,
        'POST',
        new URL(mcp.url),
        new Headers(),
        '{}',
        {
          DPoP: dpop,
          [oauth.customFetch]: (_input, init) => {
            forMcp.push(new Headers(init?.headers).get('dpop') ?? '');
            return Promise.resolve(new Response(null, { status: 204 }));
          },
          ...insecure,
        },
      )
      .then(() => forMcp[0]!);
    const misaddressed = await fetch(server.token_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', DPoP: mcpProof },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: rotated.refresh_token!,
        client_id: client.client_id,
      }),
    });
    expect(misaddressed.status).toBe(400);
    expect((await misaddressed.json()).error).toBe('invalid_dpop_proof');
    // Neither refusal spent the refresh token.
    expect((await refresh(server, client, rotated.refresh_token!, dpop)).token_type).toBe('dpop');
  });

  it('§8 server nonces (DPOP_NONCE_SECRET): use_dpop_nonce, the retry with the nonce gets the DPoP token', async () => {
    const server = await discover(asNonce.url);
    const client = await publicClient(server);
    const dpop = oauth.DPoP(client, await newKey());
    let asked = 0;
    const tokens = await codeFlow(server, client, jarNonce, dpop, { onNonce: () => asked++ });
    expect(asked).toBe(1);
    expect(tokens.token_type).toBe('dpop');
    // The nonce came back with the token response: the refresh needs no retry.
    const refreshed = await withNonceRetry(
      async () =>
        oauth.processRefreshTokenResponse(
          server,
          client,
          await oauth.refreshTokenGrantRequest(
            server,
            client,
            oauth.None(),
            tokens.refresh_token!,
            {
              DPoP: dpop,
              ...insecure,
            },
          ),
        ),
      () => asked++,
    );
    expect(asked).toBe(1);
    expect(refreshed.token_type).toBe('dpop');
  });

  it('client credentials with DPoP: a bound machine token; used as Bearer it is refused', async () => {
    const server = await discover(as.url);
    expect(server.grant_types_supported).toContain('client_credentials');
    const client: oauth.Client = { client_id: MACHINE };
    const key = await newKey();
    const dpop = oauth.DPoP(client, key);
    const tokens = await oauth.processClientCredentialsResponse(
      server,
      client,
      await oauth.clientCredentialsGrantRequest(
        server,
        client,
        oauth.ClientSecretBasic(MACHINE_SECRET),
        { scope: 'read', resource: mcp.url },
        { DPoP: dpop, ...insecure },
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    expect(claimsOf(tokens.access_token)).toMatchObject({
      sub: MACHINE,
      cnf: { jkt: await thumbprint(key) },
    });
    expect((await mcpCall(mcp.url, tokens.access_token, dpop)).status).toBe(200);
    expect((await mcpRequest(mcp.url, tokens.access_token, 'tools/list')).status).toBe(401);
    const thief = await refusal(
      mcpCall(mcp.url, tokens.access_token, oauth.DPoP(client, await newKey())),
    );
    expect(thief.status).toBe(401);
  });
});
