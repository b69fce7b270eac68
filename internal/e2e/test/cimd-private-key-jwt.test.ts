import { rmSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type AuthServer,
  authorizeOverHttp,
  type CookieJar,
  devLogin,
  freePort,
  type Loopback,
  loopbackRedirect,
  type McpServer,
  OPAQUE_SUB,
  startAuthServer,
  startMcpServer,
  tempDir,
} from '@portcullis/internal-testing/apps';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  discoverAuthorizationServer,
  insecure,
} from './helpers/discovery.js';
import { toolJson } from './helpers/sdk-client.js';
import { selfSignedCertificate, serveJsonOverHttps } from './helpers/tls.js';

// Issue 19 §2: Client ID Metadata Documents that authenticate with private_key_jwt (RFC 7523)
// against the built auth server and the template MCP server. A ChatGPT-style document (its own
// URL as client_id, private_key_jwt preferred and none offered too, RS256 keys at a jwks_uri)
// works as a public client and with oauth4webapi's PrivateKeyJwt assertions; a document offering
// only private_key_jwt (inline jwks) needs an assertion; an assertion is accepted once.

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type KeyPair = CryptoKeyPair & { kid: string };

/** A non-extractable private key and its public JWK (what the document publishes). */
async function keyPair(kind: 'RS256' | 'ES256', kid: string): Promise<KeyPair> {
  const algorithm =
    kind === 'RS256'
      ? {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await crypto.subtle.generateKey(algorithm, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return { ...pair, kid };
}

async function publicJwk({ publicKey, kid }: KeyPair) {
  const { kty, n, e, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  return { kty, n, e, crv, x, y, kid, use: 'sig' };
}

describe('private_key_jwt Client ID Metadata Documents against the built apps', () => {
  let as: AuthServer;
  let mcp: McpServer;
  let loopback: Loopback;
  let jar: CookieJar;
  let server: oauth.AuthorizationServer;
  let documents: Awaited<ReturnType<typeof serveJsonOverHttps>>;
  let chatgpt: string;
  let onlyJwt: string;
  const certDir = tempDir('portcullis-e2e-tls-');
  let rsa: KeyPair;
  let ec: KeyPair;

  beforeAll(async () => {
    const tls = selfSignedCertificate(certDir);
    loopback = await loopbackRedirect();
    [rsa, ec] = await Promise.all([keyPair('RS256', 'chatgpt-1'), keyPair('ES256', 'agent-1')]);
    const [rsaJwk, ecJwk] = await Promise.all([publicJwk(rsa), publicJwk(ec)]);
    documents = await serveJsonOverHttps(
      tls,
      (origin) => ({
        // The shape ChatGPT publishes (packages/oauth-server/test/private-key-jwt.test.ts).
        '/chatgpt/client.json': {
          client_id: `${origin}/chatgpt/client.json`,
          client_uri: 'https://chatgpt.com/',
          redirect_uris: [loopback.redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          client_name: 'ChatGPT',
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
          token_endpoint_auth_signing_alg: 'RS256',
          jwks_uri: `${origin}/chatgpt/jwks.json`,
        },
        '/chatgpt/jwks.json': { keys: [rsaJwk] },
        '/only-jwt/client.json': {
          client_id: `${origin}/only-jwt/client.json`,
          client_name: 'Key-only agent',
          redirect_uris: [loopback.redirectUri],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [ecJwk] },
        },
        // Cacheable, as published documents are: the server's fetch budget (10 a minute from one
        // address) is for cache misses, and these flows use each document a dozen times.
      }),
      'max-age=300',
    );
    chatgpt = `${documents.origin}/chatgpt/client.json`;
    onlyJwt = `${documents.origin}/only-jwt/client.json`;
    const mcpPort = await freePort();
    as = await startAuthServer({
      resources: [`http://127.0.0.1:${mcpPort}/mcp`],
      // The development allowance for documents (and their jwks_uri) on loopback addresses, and
      // trust in the document server's self-signed certificate.
      env: { CIMD_ALLOW_INSECURE: '1', NODE_EXTRA_CA_CERTS: tls.certFile },
    });
    mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
    jar = await devLogin(as.url, 'keys@example.com');
    ({ server } = await discoverAuthorizationServer(mcp.url));
  }, 120_000);

  afterAll(async () => {
    await mcp?.close();
    await as?.close();
    await documents?.close();
    await loopback?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  /** oauth4webapi's PrivateKeyJwt, remembering each assertion it sent. */
  function recordingJwt(key: KeyPair, sent: string[]): oauth.ClientAuth {
    const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid });
    return async (as, client, body, headers) => {
      await auth(as, client, body, headers);
      sent.push(body.get('client_assertion') as string);
    };
  }

  /** Sends an assertion already sent once. */
  const replaying =
    (assertion: string): oauth.ClientAuth =>
    (_as, client, body) => {
      body.set('client_id', client.client_id);
      body.set('client_assertion_type', JWT_BEARER);
      body.set('client_assertion', assertion);
    };

  /** Login and consent over HTTP, then the code exchange with `clientAuth`: the raw response. */
  async function codeFlow(clientId: string, clientAuth: oauth.ClientAuth) {
    const client: oauth.Client = { client_id: clientId };
    const { url, verifier, state } = await authorizationRequest(server, {
      client_id: clientId,
      redirect_uri: loopback.redirectUri,
      resource: mcp.url,
    });
    const { callback } = await authorizeOverHttp(as.url, jar, url);
    const params = oauth.validateAuthResponse(server, client, callback, state);
    const exchange = (auth: oauth.ClientAuth) =>
      oauth.authorizationCodeGrantRequest(
        server,
        client,
        auth,
        params,
        loopback.redirectUri,
        verifier,
        { additionalParameters: { resource: mcp.url }, ...insecure },
      );
    const response = await exchange(clientAuth);
    return {
      response,
      tokens: () => oauth.processAuthorizationCodeResponse(server, client, response),
      /** The same code again with another authentication (after a refusal). */
      retry: (auth: oauth.ClientAuth) => exchange(auth),
      client,
    };
  }

  /** The template's authenticated_tool over the real MCP SDK client with `token`. */
  async function whoAmI(token: string) {
    const sdk = new Client({ name: 'cimd-private-key-jwt-e2e', version: '1.0.0' });
    await sdk.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    try {
      return toolJson(
        await sdk.callTool({ name: 'authenticated_tool', arguments: { param: 'keys' } }),
      );
    } finally {
      await sdk.close();
    }
  }

  const refusedAs = async (response: Response) => ({
    status: response.status,
    error: ((await response.clone().json()) as { error: string }).error,
  });

  it('metadata: client ID metadata documents and private_key_jwt at the token endpoint', () => {
    expect(server.client_id_metadata_document_supported).toBe(true);
    expect(server.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(server.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['RS256', 'ES256']),
    );
  });

  it('ChatGPT-style document, as a public client (none): code flow, token, MCP call', async () => {
    const flow = await codeFlow(chatgpt, oauth.None());
    const tokens = await flow.tokens();
    expect(tokens.refresh_token).toBeTruthy();
    expect(await whoAmI(tokens.access_token)).toMatchObject({
      user_id: expect.stringMatching(OPAQUE_SUB),
      client_id: chatgpt,
    });
  });

  it('ChatGPT-style document, with an RS256 assertion (key at its jwks_uri): code flow, token, refresh, MCP call; the assertion again is refused', async () => {
    const sent: string[] = [];
    const auth = recordingJwt(rsa, sent);
    const flow = await codeFlow(chatgpt, auth);
    const tokens = await flow.tokens();
    expect(sent).toHaveLength(1);
    expect(await whoAmI(tokens.access_token)).toMatchObject({
      user_id: expect.stringMatching(OPAQUE_SUB),
      client_id: chatgpt,
    });
    expect(documents.fetches).toContain('/chatgpt/jwks.json');
    // The refresh is authenticated by a new assertion.
    const refreshed = await oauth.processRefreshTokenResponse(
      server,
      flow.client,
      await oauth.refreshTokenGrantRequest(server, flow.client, auth, tokens.refresh_token!, {
        additionalParameters: { resource: mcp.url },
        ...insecure,
      }),
    );
    expect(sent).toHaveLength(2);
    expect((await whoAmI(refreshed.access_token)).client_id).toBe(chatgpt);

    // Replayed on a fresh code: its jti is remembered until it expires.
    const replay = await codeFlow(chatgpt, replaying(sent[0]!));
    expect(await refusedAs(replay.response)).toEqual({ status: 401, error: 'invalid_client' });
    // The document pins RS256: an ES256 assertion of the right client is refused too.
    const es = await codeFlow(chatgpt, oauth.PrivateKeyJwt({ key: ec.privateKey, kid: ec.kid }));
    expect(await refusedAs(es.response)).toEqual({ status: 401, error: 'invalid_client' });
  });

  it('a document offering only private_key_jwt (inline jwks): works with an assertion, refused without one, an assertion replayed refused', async () => {
    const sent: string[] = [];
    const signed = await codeFlow(onlyJwt, recordingJwt(ec, sent));
    const tokens = await signed.tokens();
    expect(await whoAmI(tokens.access_token)).toMatchObject({
      user_id: expect.stringMatching(OPAQUE_SUB),
      client_id: onlyJwt,
    });

    // No assertion: it is not a public client.
    const unsigned = await codeFlow(onlyJwt, oauth.None());
    expect(await refusedAs(unsigned.response)).toEqual({ status: 401, error: 'invalid_client' });
    await expect(unsigned.tokens()).rejects.toMatchObject({ error: 'invalid_client' });
    // Another key under the same kid: refused.
    const other = await keyPair('ES256', ec.kid);
    const forged = await codeFlow(
      onlyJwt,
      oauth.PrivateKeyJwt({ key: other.privateKey, kid: other.kid }),
    );
    expect(await refusedAs(forged.response)).toEqual({ status: 401, error: 'invalid_client' });
    // The first flow's assertion again.
    const replay = await codeFlow(onlyJwt, replaying(sent[0]!));
    expect(await refusedAs(replay.response)).toEqual({ status: 401, error: 'invalid_client' });
    // The refusal did not spend the code: the client's own fresh assertion redeems it.
    const retried = await replay.retry(oauth.PrivateKeyJwt({ key: ec.privateKey, kid: ec.kid }));
    expect(retried.status).toBe(200);
  });
});
