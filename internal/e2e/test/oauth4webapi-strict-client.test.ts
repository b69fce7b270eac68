import {
  type AuthServer,
  authorizeOverHttp,
  bearerChallenge,
  type CookieJar,
  devLogin,
  freePort,
  type Loopback,
  loopbackRedirect,
  type McpServer,
  mcpRequest,
  OPAQUE_SUB,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest, discoverAuthorizationServer } from './helpers/discovery.js';

// Loopback http only: oauth4webapi refuses http unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * oauth4webapi is strict by design: it checks each response against the RFCs and throws on any
 * deviation. Every step here goes through its `process*` and `validate*` functions.
 */
describe('oauth4webapi as a strict client of the built apps', () => {
  let as: AuthServer;
  let mcp: McpServer;
  let loopback: Loopback;
  let jar: CookieJar;
  let server: oauth.AuthorizationServer;
  let client: oauth.Client;

  beforeAll(async () => {
    loopback = await loopbackRedirect();
    const mcpPort = await freePort();
    as = await startAuthServer({ resources: [`http://127.0.0.1:${mcpPort}/mcp`] });
    mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
    jar = await devLogin(as.url, 'grace@example.com');
  });

  afterAll(async () => {
    await mcp?.close();
    await as?.close();
    await loopback?.close();
  });

  /** A fresh authorization request, followed through login and consent over HTTP. */
  async function authorize(scope = 'read') {
    const { url, verifier, state } = await authorizationRequest(server, {
      client_id: client.client_id,
      redirect_uri: loopback.redirectUri,
      scope,
      resource: mcp.url,
    });
    const { callback } = await authorizeOverHttp(as.url, jar, url);
    return { callback, verifier, state };
  }

  function exchange(params: URLSearchParams, verifier: string) {
    return oauth.authorizationCodeGrantRequest(
      server,
      client,
      oauth.None(),
      params,
      loopback.redirectUri,
      verifier,
      { additionalParameters: { resource: mcp.url }, ...insecure },
    );
  }

  it('RFC 9728 §3.3: the protected resource metadata `resource` equals the MCP URL', async () => {
    const response = await oauth.resourceDiscoveryRequest(new URL(mcp.url), insecure);
    // Throws unless `resource` is exactly the URL the metadata was requested for.
    const metadata = await oauth.processResourceDiscoveryResponse(new URL(mcp.url), response);
    expect(metadata.resource).toBe(mcp.url);
    expect(metadata.authorization_servers).toEqual([as.url]);
    expect(metadata.bearer_methods_supported).toEqual(['header']);
  });

  it('RFC 8414 §3.3: the AS metadata `issuer` equals the `authorization_servers` entry', async () => {
    // Throws unless the document's `issuer` is identical to the identifier it was fetched for.
    const discovered = await discoverAuthorizationServer(mcp.url);
    const prm = discovered.prm;
    server = discovered.server;
    expect(server.issuer).toBe(prm.authorization_servers![0]);
    expect(server.code_challenge_methods_supported).toEqual(['S256']);
    expect(server.authorization_response_iss_parameter_supported).toBe(true);
    expect(server.client_id_metadata_document_supported).toBe(true);
    for (const endpoint of [
      'registration_endpoint',
      'revocation_endpoint',
      'introspection_endpoint',
      'jwks_uri',
    ] as const) {
      expect(server[endpoint]).toMatch(new RegExp(`^${as.url}/`));
    }
  });

  it('RFC 7591 §3.2.1: dynamic client registration answers 201 with a client_id', async () => {
    const response = await oauth.dynamicClientRegistrationRequest(
      server,
      {
        client_name: 'oauth4webapi strict client',
        redirect_uris: [loopback.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      insecure,
    );
    expect(response.status).toBe(201);
    const registered = await oauth.processDynamicClientRegistrationResponse(response);
    expect(registered.client_id).toBeTruthy();
    expect(registered.redirect_uris).toEqual([loopback.redirectUri]);
    client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
  });

  it('RFC 9207 + RFC 6749 §5.1 + RFC 9068: `iss` on the authorization response, the token response shape, a JWT access token for the MCP URL', async () => {
    const { callback, verifier, state } = await authorize();
    expect(callback.searchParams.get('iss')).toBe(as.url);
    // Throws on a missing or different `iss` (the metadata promises it) or another `state`.
    const params = oauth.validateAuthResponse(server, client, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      server,
      client,
      await exchange(params, verifier),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.scope).toBe('read');
    expect(tokens.refresh_token).toBeTruthy();

    // The access token, verified the way a resource server would (RFC 9068 §4: typ at+jwt,
    // signature from the JWKS, iss, aud, exp, iat, sub, client_id, jti).
    const claims = await oauth.validateJwtAccessToken(
      server,
      new Request(mcp.url, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      mcp.url,
      insecure,
    );
    expect(claims).toMatchObject({
      iss: as.url,
      aud: mcp.url,
      sub: expect.stringMatching(OPAQUE_SUB),
      client_id: client.client_id,
      scope: 'read',
    });

    const listed = await mcpRequest(mcp.url, tokens.access_token, 'tools/list');
    expect(listed.status).toBe(200);
  });

  it('RFC 9207 §2.4: an authorization response with another `iss` is rejected by the client', async () => {
    const { callback, state } = await authorize();
    const forged = new URL(callback);
    forged.searchParams.set('iss', 'http://127.0.0.1:1');
    expect(() => oauth.validateAuthResponse(server, client, forged, state)).toThrow(/iss/);
  });

  it('RFC 7636 §4.6: a wrong code_verifier is refused with invalid_grant, and the same code then exchanges with the right one', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(server, client, callback, state);
    // A strict client probing first: the failed attempt must not spend the code.
    const response = await exchange(params, oauth.generateRandomCodeVerifier());
    expect(response.status).toBe(400);
    const refusal = oauth.processAuthorizationCodeResponse(server, client, response);
    await expect(refusal).rejects.toBeInstanceOf(oauth.ResponseBodyError);
    await expect(refusal).rejects.toMatchObject({ error: 'invalid_grant' });

    const tokens = await oauth.processAuthorizationCodeResponse(
      server,
      client,
      await exchange(params, verifier),
    );
    expect(tokens.access_token).toBeTruthy();
    expect((await mcpRequest(mcp.url, tokens.access_token, 'tools/list')).status).toBe(200);
  });

  it('RFC 6749 §4.1.2: an authorization code used twice is refused with invalid_grant', async () => {
    const { callback, verifier, state } = await authorize();
    const params = oauth.validateAuthResponse(server, client, callback, state);
    await oauth.processAuthorizationCodeResponse(server, client, await exchange(params, verifier));
    const again = await exchange(params, verifier);
    expect(again.status).toBe(400);
    await expect(
      oauth.processAuthorizationCodeResponse(server, client, again),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('Client ID Metadata Documents: without the development allowance a client_id on 127.0.0.1 is refused before any fetch', async () => {
    const url = new URL(server.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'https://127.0.0.1:9/client.json',
      redirect_uri: loopback.redirectUri,
      scope: 'read',
      state: oauth.generateRandomState(),
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
      resource: mcp.url,
    }).toString();
    const response = await fetch(url, {
      headers: { cookie: jar.header(), accept: 'application/json' },
      redirect: 'manual',
    });
    // An error, never a redirect to a redirect_uri that nothing vouches for; and no fetch was
    // tried (with CIMD_ALLOW_INSECURE=1 it would be "could not be fetched").
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.json()).toEqual({
      error: 'invalid_client',
      error_description: 'the client_id URL points to a non-public address',
    });
  });

  it('RFC 6750 §3.1: a bogus bearer token gets 401 with error="invalid_token"', async () => {
    for (const bogus of ['not-a-token', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      const response = await mcpRequest(mcp.url, bogus, 'tools/list');
      expect(response.status).toBe(401);
      const challenge = bearerChallenge(response.headers.get('www-authenticate'));
      expect(challenge.error).toBe('invalid_token');
      expect(challenge.resource_metadata).toBe(
        `${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp`,
      );
    }
  });
});
