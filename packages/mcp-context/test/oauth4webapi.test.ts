import { createNonceIssuer, jwkThumbprint } from '@portcullis/dpop';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtVerifier } from '../src/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import { callTool, startServer, type TestServer, text } from './support/server.js';

// oauth4webapi's DPoP() handle makes the proofs and reads the challenges, as an RFC 9449 client
// of an MCP server would; the server is bearerAuth on Express over node:http.

let issuer: TestIssuer;
let server: TestServer;
const nonces = createNonceIssuer({ secret: crypto.getRandomValues(new Uint8Array(32)) });
const client: oauth.Client = { client_id: 'agent' };
const insecure = { [oauth.allowInsecureRequests]: true };

async function boundToken(keyPair: CryptoKeyPair): Promise<string> {
  const jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  return issuer.mintToken({
    sub: 'alice',
    client_id: 'agent',
    aud: server.resource,
    scope: 'read',
    cnf: { jkt: await jwkThumbprint(jwk) },
  });
}

function call(token: string, DPoP: oauth.DPoPHandle) {
  return oauth.protectedResourceRequest(
    token,
    'POST',
    new URL(server.url),
    new Headers({
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    }),
    JSON.stringify(callTool('whoami')),
    { DPoP, ...insecure },
  );
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = await startServer({
    verifier: (resource) =>
      jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
    dpop: { required: true, nonce: nonces },
  });
});

afterAll(async () => {
  await server?.close();
  await issuer?.close();
});

describe("oauth4webapi's DPoP against bearerAuth({ dpop: { required, nonce } })", () => {
  it('the first call gets use_dpop_nonce; the retry with the nonce reaches the tool', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keyPair);
    const token = await boundToken(keyPair);
    const first = await call(token, DPoP).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    const response = await call(token, DPoP);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: unknown };
    const jwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
    expect(JSON.parse(text(body.result)).dpopJkt).toBe(await jwkThumbprint(jwk));
  });

  it("a token used with another client's key: oauth4webapi sees DPoP error invalid_token", async () => {
    const owner = await oauth.generateKeyPair('ES256');
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const token = await boundToken(owner);
    const attempt = () =>
      call(token, thief).then(
        () => undefined,
        (error: unknown) => error,
      );
    let error = await attempt();
    if (oauth.isDPoPNonceError(error)) error = await attempt();
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const challenge = (error as oauth.WWWAuthenticateChallengeError).cause[0];
    expect(challenge?.scheme).toBe('dpop');
    expect(challenge?.parameters.error).toBe('invalid_token');
    expect(challenge?.parameters.algs).toContain('ES256');
  });
});
