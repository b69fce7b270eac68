// A key-based machine client configured by the operator (MACHINE_CLIENTS with
// token_endpoint_auth_method private_key_jwt; issue 19 §1-2): its keys are checked at start by
// the rules /register applies (the library's own checks), and the built app gives it a client
// credentials token for a jose-signed assertion, refusing the same assertion twice.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuthServer } from '@portcullis/internal-testing/apps';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/lib/config';
import { MCP_RESOURCE, startApp } from './helpers/app';

const AGENT = 'inventory-agent';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const keys = await generateKeyPair('ES256');
const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'agent-1', alg: 'ES256' };
const privateJwk = await exportJWK(
  (await generateKeyPair('ES256', { extractable: true })).privateKey,
);
const keyClient = (extra: Record<string, unknown> = {}) => ({
  client_id: AGENT,
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [publicJwk] },
  scope: 'read',
  ...extra,
});

describe('MACHINE_CLIENTS with private_key_jwt: configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-pkjwt-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (clients: unknown[], env: Record<string, string> = {}) =>
    loadConfig({ DATA_DIR: dir, MACHINE_CLIENTS: JSON.stringify(clients), ...env });

  it('reads jwks (public members only) or an https jwks_uri, and a signing alg; no secret', () => {
    expect(
      load([keyClient({ jwks: { keys: [{ ...publicJwk, extra: 'dropped' }] } })]).clientCredentials
        .machineClients,
    ).toEqual([
      { clientId: AGENT, scopes: ['read'], privateKeyJwt: { jwks: { keys: [publicJwk] } } },
    ]);
    const uri = keyClient({
      jwks: undefined,
      jwks_uri: 'https://agent.example/jwks.json',
      token_endpoint_auth_signing_alg: 'ES256',
    });
    expect(load([uri]).clientCredentials.machineClients[0]).toEqual({
      clientId: AGENT,
      scopes: ['read'],
      privateKeyJwt: {
        jwks_uri: 'https://agent.example/jwks.json',
        token_endpoint_auth_signing_alg: 'ES256',
      },
    });
    // http only with the development allowance, as at /register.
    const http = keyClient({ jwks: undefined, jwks_uri: 'http://127.0.0.1:9/jwks.json' });
    expect(
      load([http], { CIMD_ALLOW_INSECURE: 'true' }).clientCredentials.machineClients[0],
    ).toMatchObject({ privateKeyJwt: { jwks_uri: 'http://127.0.0.1:9/jwks.json' } });
  });

  it('stops at start-up with one line naming MACHINE_CLIENTS for every bad key-based client', () => {
    const cases: [unknown, RegExp][] = [
      [keyClient({ client_secret: 'x'.repeat(40) }), /has no client_secret/],
      [keyClient({ jwks: undefined }), /one of jwks and jwks_uri/],
      [keyClient({ jwks_uri: 'https://agent.example/jwks.json' }), /one of jwks and jwks_uri/],
      [keyClient({ jwks: { keys: [] } }), /jwks must hold 1 to 10 keys/],
      [keyClient({ jwks: [publicJwk] }), /JWK Set/],
      [keyClient({ jwks: { keys: [privateJwk] } }), /private key material/],
      [keyClient({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }), /private key material/],
      [keyClient({ jwks: { keys: [{ ...publicJwk, use: 'enc' }] } }), /not a signature key/],
      [
        keyClient({ jwks: undefined, jwks_uri: 'http://agent.example/jwks.json' }),
        /jwks_uri must use https/,
      ],
      [keyClient({ jwks: undefined, jwks_uri: 'not a url' }), /absolute URL/],
      [keyClient({ token_endpoint_auth_signing_alg: 'HS256' }), /token_endpoint_auth_signing_alg/],
      [keyClient({ token_endpoint_auth_signing_alg: 'none' }), /token_endpoint_auth_signing_alg/],
      [
        keyClient({ token_endpoint_auth_method: 'client_secret_jwt' }),
        /token_endpoint_auth_method/,
      ],
      // Keys on a secret client are a mistake, not silently ignored.
      [
        {
          client_id: AGENT,
          client_secret: 'x'.repeat(40),
          jwks: { keys: [publicJwk] },
          scope: 'read',
        },
        /jwks is for token_endpoint_auth_method private_key_jwt/,
      ],
      [keyClient({ scope: 'openid' }), /not a scope a machine client can hold/],
    ];
    for (const [entry, message] of cases) {
      let error: unknown;
      try {
        load([entry]);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(entry)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('MACHINE_CLIENTS');
      expect((error as ConfigError).message).toMatch(message);
      expect((error as ConfigError).message).not.toContain('\n');
    }
  });
});

describe('MACHINE_CLIENTS with private_key_jwt in the built app', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp({ env: { MACHINE_CLIENTS: JSON.stringify([keyClient()]) } });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  const assertion = ({ aud = app.url, key = keys.privateKey } = {}) =>
    new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'agent-1' })
      .setIssuer(AGENT)
      .setSubject(AGENT)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(key);
  const token = (params: Record<string, string>) =>
    fetch(`${app.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: MCP_RESOURCE,
        ...params,
      }),
    });
  const errorOf = async (response: Response) => ({
    status: response.status,
    error: ((await response.json()) as { error: string }).error,
  });

  it('a signed assertion gets a token for the client itself; the same assertion again is refused', async () => {
    const signed = await assertion();
    const response = await token({ client_assertion_type: JWT_BEARER, client_assertion: signed });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    expect(body).not.toHaveProperty('refresh_token');
    expect(decodeJwt(body.access_token as string)).toMatchObject({
      sub: AGENT,
      client_id: AGENT,
      aud: MCP_RESOURCE,
    });
    // Replayed: its jti is remembered until it expires.
    expect(
      await errorOf(await token({ client_assertion_type: JWT_BEARER, client_assertion: signed })),
    ).toEqual({ status: 401, error: 'invalid_client' });
    // A fresh assertion still works: the refusal was the replay's.
    const again = await token({
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertion(),
    });
    expect(again.status).toBe(200);
  });

  it('refuses no assertion, a secret, another key and another audience (401 invalid_client)', async () => {
    const foreign = await assertion({ key: (await generateKeyPair('ES256')).privateKey });
    const cases: Record<string, string>[] = [
      { client_id: AGENT },
      { client_id: AGENT, client_secret: 'x'.repeat(40) },
      { client_assertion_type: JWT_BEARER, client_assertion: foreign },
      {
        client_assertion_type: JWT_BEARER,
        client_assertion: await assertion({ aud: 'https://elsewhere.example' }),
      },
    ];
    for (const params of cases) {
      expect(await errorOf(await token(params)), JSON.stringify(Object.keys(params))).toEqual({
        status: 401,
        error: 'invalid_client',
      });
    }
  });
});
