import { PGlite } from '@electric-sql/pglite';
import { createTokenStore, memoryAdapter, type TokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import * as oauth from 'oauth4webapi';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuthorizationServer, createAuthorizationServer } from '../src/index.js';
import { listen } from './support/setup.js';

const RESOURCE = 'http://127.0.0.1:8000/mcp';
const CALLBACK = 'http://127.0.0.1:7000/callback';
const insecure = { [oauth.allowInsecureRequests]: true };

/** A real deployment: the handlers behind node:http on 127.0.0.1, reached with fetch. */
/** The clock of the server and its store: real time, plus what a test skips ahead. */
const clock = { now: 0 };
const now = () => Date.now() + clock.now;

async function deploy(store: TokenStore) {
  const http = await listen();
  const as = await createAuthorizationServer({
    issuer: http.origin,
    store,
    now,
    // The resource server below registers itself; allowed to introspect by the operator.
    introspection: { allow: () => true },
    resources: [{ uri: RESOURCE }],
    scopes: { 'mcp:read': 'Read', 'mcp:write': 'Write' },
    defaultScopes: ['mcp:read'],
  });
  // Mounted as the README shows: the handler itself, so bodies and answers take the bridge.
  http.serve(as.handle);
  return { as, http };
}

/** The whole code flow as an MCP client drives it, with oauth4webapi doing every client-side check. */
async function codeFlow(
  as: AuthorizationServer,
  origin: string,
  authMethod: 'none' | 'client_secret_basic' | 'private_key_jwt',
) {
  // Step 3: discovery (RFC 8414), issuer checked byte for byte by oauth4webapi.
  const issuer = new URL(origin);
  const server = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
  expect(server.issuer).toBe(origin);
  expect(server.code_challenge_methods_supported).toEqual(['S256']);

  // private_key_jwt (RFC 7523): the client's own key pair, the private key not even extractable.
  const keyPair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  const jwks = { keys: [{ kty, crv, x, y, kid: 'e2e-1', alg: 'ES256' }] as oauth.JsonObject[] };

  // Step 4: DCR (RFC 7591).
  const registration = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(
      server,
      {
        redirect_uris: [CALLBACK],
        token_endpoint_auth_method: authMethod,
        client_name: 'e2e',
        grant_types: ['authorization_code', 'refresh_token'],
        ...(authMethod === 'private_key_jwt' ? { jwks } : {}),
      },
      insecure,
    ),
  );
  const client: oauth.Client = {
    client_id: registration.client_id,
    token_endpoint_auth_method: authMethod,
  };
  // The server's clock runs ahead by what this file skips: oauth4webapi's clockSkew dates its
  // assertions (iat, exp) on the server's time, as a client whose clock differs would.
  Object.defineProperty(client, oauth.clockSkew, { get: () => Math.round(clock.now / 1000) });
  const clientAuth =
    authMethod === 'none'
      ? oauth.None()
      : authMethod === 'private_key_jwt'
        ? oauth.PrivateKeyJwt({ key: keyPair.privateKey, kid: 'e2e-1' })
        : oauth.ClientSecretBasic(registration.client_secret as string);
  if (authMethod === 'private_key_jwt') {
    expect(server.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(registration.client_secret).toBeUndefined();
  }

  // Step 5: the authorization request; the app's login/consent is simulated with parse + approve.
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const authUrl = new URL(server.authorization_endpoint!);
  authUrl.searchParams.set('client_id', client.client_id);
  authUrl.searchParams.set('redirect_uri', CALLBACK);
  authUrl.searchParams.set('response_type', 'code');
  authUrl.searchParams.set('scope', 'mcp:read mcp:write');
  authUrl.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  authUrl.searchParams.set('code_challenge_method', 'S256');
  authUrl.searchParams.set('state', state);
  authUrl.searchParams.set('resource', RESOURCE);
  const parsed = await as.authorization.parse(authUrl.searchParams);
  if (!parsed.ok) throw new Error(`authorize refused: ${parsed.response.status}`);
  expect(await parsed.pending.needsConsent('alice')).toBe(true);
  const redirect = await parsed.pending.approve('alice');
  expect(redirect.status).toBe(302);

  // RFC 9207: oauth4webapi requires and checks iss because the metadata says it is supported.
  const callback = oauth.validateAuthResponse(
    server,
    client,
    new URL(redirect.headers.get('location')!),
    state,
  );
  const tampered = new URL(redirect.headers.get('location')!);
  tampered.searchParams.set('iss', 'http://evil.example');
  expect(() => oauth.validateAuthResponse(server, client, tampered, state)).toThrow();

  // Step 6: code → tokens.
  const tokens = await oauth.processAuthorizationCodeResponse(
    server,
    client,
    await oauth.authorizationCodeGrantRequest(
      server,
      client,
      clientAuth,
      callback,
      CALLBACK,
      verifier,
      {
        additionalParameters: { resource: RESOURCE },
        ...insecure,
      },
    ),
  );
  expect(tokens.token_type).toBe('bearer');
  expect(tokens.scope).toBe('mcp:read mcp:write');
  expect(tokens.expires_in).toBe(3600);

  // RFC 9068: the access token validates as a JWT access token for the resource.
  const request = new Request(RESOURCE, {
    headers: { Authorization: `Bearer ${tokens.access_token}` },
  });
  const claims = await oauth.validateJwtAccessToken(server, request, RESOURCE, insecure);
  expect(claims).toMatchObject({
    iss: origin,
    sub: 'alice',
    aud: RESOURCE,
    client_id: client.client_id,
    scope: 'mcp:read mcp:write',
  });

  // Step 8: refresh (rotation), revoke, introspect.
  const refreshed = await oauth.processRefreshTokenResponse(
    server,
    client,
    await oauth.refreshTokenGrantRequest(
      server,
      client,
      clientAuth,
      tokens.refresh_token!,
      insecure,
    ),
  );
  expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  // Presented again within the grace window (a retry, parallel refreshes): the same successor.
  const retried = await oauth.processRefreshTokenResponse(
    server,
    client,
    await oauth.refreshTokenGrantRequest(
      server,
      client,
      clientAuth,
      tokens.refresh_token!,
      insecure,
    ),
  );
  expect(retried.refresh_token).toBe(refreshed.refresh_token);
  clock.now += 31_000;
  const rotatedOut = await oauth.refreshTokenGrantRequest(
    server,
    client,
    clientAuth,
    tokens.refresh_token!,
    insecure,
  );
  await expect(oauth.processRefreshTokenResponse(server, client, rotatedOut)).rejects.toMatchObject(
    { error: 'invalid_grant' },
  );

  // A resource server registered as a confidential client introspects.
  const rsReg = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(
      server,
      {
        redirect_uris: ['https://rs.example/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      insecure,
    ),
  );
  const rs: oauth.Client = { client_id: rsReg.client_id };
  const rsAuth = oauth.ClientSecretBasic(rsReg.client_secret as string);
  const introspect = async (token: string) =>
    oauth.processIntrospectionResponse(
      server,
      rs,
      await oauth.introspectionRequest(server, rs, rsAuth, token, insecure),
    );
  // Reuse of the rotated-out token revoked the whole family (RFC 9700 §4.14.2).
  expect((await introspect(refreshed.access_token)).active).toBe(false);
  return { server, client, clientAuth, introspect };
}

describe('end to end over HTTP with oauth4webapi', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('MCP authorization 2025-11-25: DCR → authorize → code → token → refresh → revoke → introspect (public client, memory store)', async () => {
    const { as, http } = await deploy(createTokenStore({ adapter: memoryAdapter(), now }));
    cleanups.push(http.close);
    const { server, client, clientAuth, introspect } = await codeFlow(as, http.origin, 'none');

    // A fresh grant, then revoke its refresh token (RFC 7009) and see it inactive.
    const verifier = oauth.generateRandomCodeVerifier();
    const params = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: CALLBACK,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's2',
    });
    const parsed = await as.authorization.parse(params);
    if (!parsed.ok) throw new Error('refused');
    expect(await parsed.pending.needsConsent('alice')).toBe(false);
    const callback = oauth.validateAuthResponse(
      server,
      client,
      new URL((await parsed.pending.approve('alice')).headers.get('location')!),
      's2',
    );
    const tokens = await oauth.processAuthorizationCodeResponse(
      server,
      client,
      await oauth.authorizationCodeGrantRequest(
        server,
        client,
        clientAuth,
        callback,
        CALLBACK,
        verifier,
        insecure,
      ),
    );
    expect((await introspect(tokens.access_token)).active).toBe(true);
    expect((await introspect(tokens.refresh_token!)).active).toBe(true);
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(server, client, clientAuth, tokens.refresh_token!, insecure),
    );
    expect((await introspect(tokens.refresh_token!)).active).toBe(false);
    expect((await introspect(tokens.access_token)).active).toBe(false);
  });

  it('MCP authorization 2025-11-25: the same flow for a confidential client (client_secret_basic) on PGlite', async () => {
    const db = new PGlite();
    const { as, http } = await deploy(createTokenStore({ adapter: postgresAdapter(db), now }));
    cleanups.push(async () => {
      await http.close();
      await db.close();
    });
    await codeFlow(as, http.origin, 'client_secret_basic');
  }, 60_000);

  it('RFC 7523: the same flow for a private_key_jwt client (its public key registered, oauth4webapi PrivateKeyJwt assertions at every token request), memory store', async () => {
    const { as, http } = await deploy(createTokenStore({ adapter: memoryAdapter(), now }));
    cleanups.push(http.close);
    const { server, client, clientAuth } = await codeFlow(as, http.origin, 'private_key_jwt');
    // Without an assertion it is refused: it has no secret and is not a public client.
    const refused = await oauth.refreshTokenGrantRequest(
      server,
      client,
      oauth.None(),
      'x'.repeat(43),
      insecure,
    );
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    // Revocation with an assertion too.
    const revoked = await oauth.revocationRequest(
      server,
      client,
      clientAuth,
      'x'.repeat(43),
      insecure,
    );
    expect(revoked.status).toBe(200);
  });

  it('RFC 8414 §3: metadata is reachable by fetch with CORS over HTTP', async () => {
    const { http } = await deploy(createTokenStore({ adapter: memoryAdapter(), now }));
    cleanups.push(http.close);
    const response = await fetch(`${http.origin}/.well-known/oauth-authorization-server`, {
      headers: { Origin: 'https://inspector.example' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect((await response.json()).issuer).toBe(http.origin);
    // Paths that are not the server's fall through (404 here; next() under Express).
    expect((await fetch(`${http.origin}/not-ours`)).status).toBe(404);
    const head = await fetch(`${http.origin}/jwks.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});
