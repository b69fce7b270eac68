import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProof, generateProofKey, jwkThumbprint, type ProofKey } from '@portcullis/dpop';
import {
  authenticate,
  introspectionVerifier,
  jwtVerifier,
  type TokenVerifier,
  tokenStoreVerifier,
} from '@portcullis/mcp-context';
import { type AuthorizationServer, createAuthorizationServer } from '@portcullis/oauth-server';
import { toNodeHandler } from '@portcullis/oauth-server/node';
import { createTokenStore, memoryAdapter, type TokenStore } from '@portcullis/token-store';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The tokens @portcullis/oauth-server binds with DPoP, as each verifier of @portcullis/mcp-context
 * reads them: `cnf.jkt` from the JWT (jwtVerifier), from the store record's `extra`
 * (tokenStoreVerifier) and from the introspection answer (introspectionVerifier); then the guard
 * with `dpop` accepts the token with its key's proof and refuses it as Bearer.
 */
const RESOURCE = 'http://127.0.0.1:8000/mcp';
const REDIRECT = 'http://127.0.0.1:9/callback';
const servers: Server[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function authorizationServer(format: 'jwt' | 'opaque') {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = createTokenStore({ adapter: memoryAdapter() });
  const as = await createAuthorizationServer({
    issuer,
    store,
    resources: [{ uri: RESOURCE }],
    scopes: { read: 'Read' },
    accessTokenFormat: format,
    rateLimit: false,
    introspection: { allow: () => true },
  });
  const node = toNodeHandler(as.handle, { origin: issuer });
  server.on('request', (req, res) => void node(req, res));
  return { issuer, store, as };
}

async function register(issuer: string, metadata: Record<string, unknown>) {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT], ...metadata }),
  });
  return (await response.json()) as { client_id: string; client_secret?: string };
}

/** A code approved for user-1, exchanged at /token with a DPoP proof of `key`. */
async function boundToken(issuer: string, as: AuthorizationServer, key: ProofKey) {
  const { client_id } = await register(issuer, { token_endpoint_auth_method: 'none' });
  const verifier = randomBytes(32).toString('base64url');
  const parsed = await as.authorization.parse(
    new URLSearchParams({
      response_type: 'code',
      client_id,
      redirect_uri: REDIRECT,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: RESOURCE,
    }),
  );
  if (!parsed.ok) throw new Error('authorization refused');
  const code = new URL(
    (await parsed.pending.approve('user-1')).headers.get('location')!,
  ).searchParams.get('code')!;
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      DPoP: await createProof({ ...key, method: 'POST', url: `${issuer}/token` }),
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id,
    }),
  });
  const body = (await response.json()) as { access_token: string; token_type: string };
  expect(body.token_type).toBe('DPoP');
  return body.access_token;
}

/** What the guard answers for the token sent with `scheme` (and a proof of `key` for DPoP). */
async function guard(
  verifier: TokenVerifier,
  token: string,
  scheme: 'Bearer' | 'DPoP',
  key: ProofKey,
) {
  const headers: Record<string, string> = {
    authorization: `${scheme} ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (scheme === 'DPoP') {
    headers.dpop = await createProof({ ...key, method: 'POST', url: RESOURCE, accessToken: token });
  }
  return authenticate(
    new Request(RESOURCE, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    }),
    { verifier, resource: RESOURCE, dpop: true },
  );
}

async function expectBound(verifier: TokenVerifier, token: string, key: ProofKey) {
  const jkt = await jwkThumbprint(key.publicJwk);
  const info = await verifier(token);
  expect((info.extra?.claims as { cnf?: unknown } | undefined)?.cnf).toEqual({ jkt });
  const accepted = await guard(verifier, token, 'DPoP', key);
  expect('authInfo' in accepted && accepted.authInfo.clientId).toBeTruthy();
  const asBearer = await guard(verifier, token, 'Bearer', key);
  expect('response' in asBearer && asBearer.response.status).toBe(401);
  const thief = await guard(verifier, token, 'DPoP', await generateProofKey());
  expect('response' in thief && thief.response.status).toBe(401);
}

describe("mcp-context's verifiers read the DPoP binding of oauth-server's tokens (RFC 9449 §6)", () => {
  it('a JWT access token: jwtVerifier surfaces cnf.jkt', async () => {
    const { issuer, as } = await authorizationServer('jwt');
    const key = await generateProofKey();
    const token = await boundToken(issuer, as, key);
    await expectBound(
      jwtVerifier({
        issuer,
        audience: RESOURCE,
        profile: 'rfc9068',
        jwksUri: `${issuer}/jwks.json`,
      }),
      token,
      key,
    );
  });

  it('an opaque access token: tokenStoreVerifier (the record’s extra) and introspectionVerifier surface cnf.jkt', async () => {
    const { issuer, as, store } = await authorizationServer('opaque');
    const key = await generateProofKey();
    const token = await boundToken(issuer, as, key);
    await expectBound(tokenStoreVerifier(store as TokenStore, { resource: RESOURCE }), token, key);
    const rs = await register(issuer, { token_endpoint_auth_method: 'client_secret_basic' });
    await expectBound(
      introspectionVerifier({
        endpoint: `${issuer}/introspect`,
        clientId: rs.client_id,
        clientSecret: rs.client_secret!,
        audience: RESOURCE,
      }),
      token,
      key,
    );
  });
});
