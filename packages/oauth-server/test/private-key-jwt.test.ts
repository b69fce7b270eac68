import { generateKeyPairSync } from 'node:crypto';
import { createPkcePair } from '@portcullis/pkce';
import { createTokenStore, memoryAdapter } from '@portcullis/token-store';
import fc from 'fast-check';
import {
  exportJWK,
  generateKeyPair,
  type CryptoKey as JoseKey,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationServer } from '../src/index.js';
import { loopbackDocuments } from './support/loopback-documents.js';
import {
  authorizeParams,
  exchange,
  form,
  ISSUER,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  register,
  type Setup,
  setup,
} from './support/setup.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_ENDPOINT = `${ISSUER}/token`;

interface Signer {
  privateKey: JoseKey;
  jwk: JWK;
  alg: string;
}

async function signer(alg = 'ES256', kid = `k-${crypto.randomUUID()}`): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, alg };
}

/** A client assertion as RFC 7523 §3 describes it, on the server's clock, with overrides. */
async function assertion(
  s: Signer,
  clientId: string,
  clock: { now: number },
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const iat = Math.floor(clock.now / 1000);
  return new SignJWT({
    iss: clientId,
    sub: clientId,
    aud: ISSUER,
    jti: crypto.randomUUID(),
    iat,
    exp: iat + 60,
    ...claims,
  })
    .setProtectedHeader({ alg: s.alg, kid: s.jwk.kid, ...header })
    .sign(s.privateKey);
}

const withAssertion = (jwt: string, extra: Record<string, string> = {}) => ({
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: jwt,
  ...extra,
});

async function registerKeyClient(as: AuthorizationServer, extra: Record<string, unknown>) {
  const { response, body } = await register(as, {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'private_key_jwt',
    ...extra,
  });
  expect(response.status).toBe(201);
  return body;
}

/** A code for `clientId`, exchanged with `auth` (the client authentication parameters). */
async function codeExchange(
  as: AuthorizationServer,
  clientId: string,
  auth: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const { code, verifier } = await obtainCode(as, clientId);
  return exchange(
    as,
    {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      resource: RESOURCE,
      ...auth,
    },
    headers,
  );
}

function expectInvalidClient(
  result: { response: Response; body: Record<string, unknown> },
  description?: string,
) {
  expect(result.response.status).toBe(401);
  expect(result.response.headers.get('content-type')).toContain('application/json');
  expect(result.body.error).toBe('invalid_client');
  if (description) expect(result.body.error_description).toContain(description);
}

describe('private_key_jwt registration (RFC 7591 §2, RFC 7523)', () => {
  it('a client registers its public keys (jwks): no secret issued, the keys and method echoed', async () => {
    const { as } = await setup();
    const key = await signer();
    const body = await registerKeyClient(as, {
      jwks: { keys: [key.jwk] },
      token_endpoint_auth_signing_alg: 'ES256',
    });
    expect(body.token_endpoint_auth_method).toBe('private_key_jwt');
    expect(body.client_secret).toBeUndefined();
    expect(body.jwks).toEqual({ keys: [key.jwk] });
    expect(body.token_endpoint_auth_signing_alg).toBe('ES256');
  });

  it('refuses (invalid_client_metadata) what cannot be a private_key_jwt registration', async () => {
    const { as } = await setup();
    const key = await signer();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'p' };
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    });
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'one of jwks and jwks_uri'],
      [{ jwks: { keys: [key.jwk] }, jwks_uri: 'https://keys.example/jwks.json' }, 'not both'],
      [{ jwks: { keys: [privateJwk] } }, 'private key material'],
      [{ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'private key material'],
      [{ jwks: { keys: [rsa1024] } }, 'not an RSA public key'],
      [{ jwks: { keys: [{ ...key.jwk, use: 'enc' }] } }, 'use'],
      [{ jwks: { keys: [{ ...key.jwk, alg: 'HS256' }] } }, 'alg'],
      [{ jwks: { keys: Array.from({ length: 11 }, () => key.jwk) } }, '1 to 10 keys'],
      [{ jwks: { keys: [] } }, '1 to 10 keys'],
      [{ jwks: [key.jwk] }, 'JWK Set'],
      [{ jwks_uri: 'http://keys.example/jwks.json' }, 'https'],
      [{ jwks_uri: 'https://u:p@keys.example/jwks.json' }, 'credentials'],
      [
        { jwks: { keys: [key.jwk] }, token_endpoint_auth_signing_alg: 'HS256' },
        'token_endpoint_auth_signing_alg',
      ],
      [
        { jwks: { keys: [key.jwk] }, token_endpoint_auth_signing_alg: 'none' },
        'token_endpoint_auth_signing_alg',
      ],
    ];
    for (const [extra, description] of cases) {
      const { response, body } = await register(as, {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'private_key_jwt',
        ...extra,
      });
      expect(response.status, description).toBe(400);
      expect(body.error).toBe('invalid_client_metadata');
      expect(body.error_description).toContain(description);
    }
    // Keys are for private_key_jwt only.
    const other = await register(as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
      jwks: { keys: [key.jwk] },
    });
    expect(other.body.error).toBe('invalid_client_metadata');
  });
});

describe('private_key_jwt at the token endpoint (RFC 7523 §2.2, §3)', () => {
  let env: Setup;
  let key: Signer;
  let clientId: string;

  beforeAll(async () => {
    env = await setup();
    key = await signer();
    clientId = (await registerKeyClient(env.as, { jwks: { keys: [key.jwk] } })).client_id as string;
  });

  const sign = (claims: JWTPayload = {}, header: Record<string, unknown> = {}, s = key) =>
    assertion(s, clientId, env.clock, claims, header);

  it('a code exchange and a refresh, each with its own assertion (aud the issuer, as a string and as an array of one); introspection and revocation too', async () => {
    const first = await codeExchange(env.as, clientId, withAssertion(await sign()));
    expect(first.response.status).toBe(200);
    expect(first.body.refresh_token).toEqual(expect.any(String));
    const refreshed = await exchange(env.as, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      ...withAssertion(await sign({ aud: [ISSUER] }), { client_id: clientId }),
    });
    expect(refreshed.response.status).toBe(200);
    // Introspection (a resource server that authenticates with its key; setup allows any).
    const introspect = await env.as.handle(
      form('/introspect', {
        token: refreshed.body.access_token as string,
        ...withAssertion(await sign({ aud: ISSUER })),
      }),
    );
    expect(introspect!.status).toBe(200);
    expect(await introspect!.json()).toMatchObject({ active: true, client_id: clientId });
    const revoke = await env.as.handle(
      form('/revoke', {
        token: refreshed.body.refresh_token as string,
        ...withAssertion(await sign({ aud: ISSUER })),
      }),
    );
    expect(revoke!.status).toBe(200);
  });

  it('RFC 7523 §3 item 7: the same assertion a second time is refused (jti remembered until exp)', async () => {
    const jwt = await sign();
    expect((await codeExchange(env.as, clientId, withAssertion(jwt))).response.status).toBe(200);
    expectInvalidClient(await codeExchange(env.as, clientId, withAssertion(jwt)), 'used before');
  });

  it('every wrong assertion is 401 invalid_client (JSON), naming what is wrong', async () => {
    const now = Math.floor(env.clock.now / 1000);
    const other = await signer();
    const sameKidOtherKey = await signer('ES256', key.jwk.kid);
    const hmac = await new SignJWT({
      iss: clientId,
      sub: clientId,
      aud: ISSUER,
      jti: 'h',
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!!'));
    const unsigned = `${btoa(JSON.stringify({ alg: 'none' })).replace(/=+$/, '')}.${btoa(
      JSON.stringify({
        iss: clientId,
        sub: clientId,
        aud: ISSUER,
        jti: 'n',
        exp: now + 60,
      }),
    ).replace(/=+$/, '')}.`;
    const cases: [Record<string, string>, string][] = [
      [withAssertion(await sign({ aud: 'https://other.example/token' })), 'aud'],
      // draft-ietf-oauth-rfc7523bis: the issuer alone, not the token endpoint, not among others.
      [withAssertion(await sign({ aud: TOKEN_ENDPOINT })), 'aud'],
      [withAssertion(await sign({ aud: [ISSUER, 'https://elsewhere.example'] })), 'issuer alone'],
      [withAssertion(await sign({ aud: [TOKEN_ENDPOINT, ISSUER] })), 'issuer alone'],
      [withAssertion(await sign({ aud: `${ISSUER}/revoke` })), 'aud'],
      [withAssertion(await sign({ iss: 'someone-else' })), 'iss'],
      [withAssertion(await sign({ sub: 'someone-else' }), { client_id: clientId }), 'sub'],
      [withAssertion(await sign({ iat: now - 200, exp: now - 100 })), 'expired'],
      [withAssertion(await sign({ exp: now + 600 })), 'too long'],
      [withAssertion(await sign({ iat: now - 10, exp: now + 295 })), 'too long'],
      [withAssertion(await sign({ iat: now + 120, exp: now + 180 })), 'iat'],
      [withAssertion(await sign({ nbf: now + 120 })), 'nbf'],
      [withAssertion(await sign({ jti: undefined })), 'jti'],
      [withAssertion(await sign({ jti: 'x'.repeat(257) })), 'jti'],
      [withAssertion(await sign({ exp: undefined })), 'exp'],
      [withAssertion(await sign({}, {}, other)), 'no key'],
      [withAssertion(await sign({}, {}, sameKidOtherKey)), 'signature'],
      [withAssertion(await sign({}, { kid: undefined }, sameKidOtherKey)), 'signature'],
      [withAssertion(hmac), 'asymmetric'],
      [withAssertion(unsigned, { client_id: clientId }), 'signed JWT'],
      [withAssertion('not.a.jwt', { client_id: clientId }), 'signed JWT'],
      [withAssertion(unsigned), 'does not name a client'],
      [withAssertion(''), 'required'],
      [withAssertion('a'.repeat(200)), 'does not name a client'],
      [
        { client_assertion_type: 'urn:other', client_assertion: await sign() },
        'client_assertion_type',
      ],
      [{ client_assertion_type: ASSERTION_TYPE }, 'required'],
      [{ client_assertion: await sign() }, 'client_assertion_type'],
      [
        withAssertion(await sign(), { client_id: 'another-client' }),
        'client authentication failed',
      ],
      [withAssertion(await sign(), { client_secret: 'x' }), 'one client authentication method'],
      [{ client_id: clientId }, 'private_key_jwt'],
      [{ client_id: clientId, client_secret: 'guess' }, 'client authentication failed'],
    ];
    for (const [auth, description] of cases) {
      const result = await codeExchange(env.as, clientId, auth);
      expect(result.response.status, description).toBe(401);
      expect(result.body.error, description).toBe('invalid_client');
      expect(result.body.error_description, description).toContain(description);
    }
    // With Basic as well: two methods.
    expectInvalidClient(
      await codeExchange(env.as, clientId, withAssertion(await sign()), {
        Authorization: `Basic ${btoa(`${clientId}:x`)}`,
      }),
      'one client authentication method',
    );
  });

  it('a public client cannot authenticate with an assertion; a registered alg is enforced', async () => {
    const publicId = await publicClient(env.as);
    expectInvalidClient(
      await codeExchange(
        env.as,
        publicId,
        withAssertion(await assertion(key, publicId, env.clock)),
      ),
      'does not authenticate with private_key_jwt',
    );
    const rsa = await signer('RS256');
    const pinned = (
      await registerKeyClient(env.as, {
        jwks: { keys: [rsa.jwk, key.jwk] },
        token_endpoint_auth_signing_alg: 'RS256',
      })
    ).client_id as string;
    expectInvalidClient(
      await codeExchange(env.as, pinned, withAssertion(await assertion(key, pinned, env.clock))),
      'RS256',
    );
    const ok = await codeExchange(
      env.as,
      pinned,
      withAssertion(await assertion(rsa, pinned, env.clock)),
    );
    expect(ok.response.status).toBe(200);
  });

  it('a key set without kids: the assertion is tried against each key of its algorithm', async () => {
    const a = await signer();
    const b = await signer();
    const { kid: _a, ...aJwk } = a.jwk;
    const { kid: _b, ...bJwk } = b.jwk;
    const id = (await registerKeyClient(env.as, { jwks: { keys: [aJwk, bJwk] } }))
      .client_id as string;
    const signed = await assertion(b, id, env.clock, {}, { kid: undefined });
    expect((await codeExchange(env.as, id, withAssertion(signed))).response.status).toBe(200);
  });

  it('metadata offers private_key_jwt and the asymmetric algorithms at the token, revocation and introspection endpoints', async () => {
    const meta = (await (await env.as.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`),
    ))!.json()) as Record<string, string[]>;
    for (const endpoint of ['token', 'revocation', 'introspection']) {
      expect(meta[`${endpoint}_endpoint_auth_methods_supported`]).toContain('private_key_jwt');
      const algs = meta[`${endpoint}_endpoint_auth_signing_alg_values_supported`]!;
      expect(algs).toEqual(expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']));
      expect(algs.some((alg) => alg === 'none' || alg.startsWith('HS'))).toBe(false);
    }
  });

  it('a store without a once-only store: private_key_jwt is neither offered nor registered', async () => {
    const store = createTokenStore({ adapter: memoryAdapter() });
    const { replay: _omitted, ...withoutReplay } = store;
    const { as } = await setup({}, withoutReplay as typeof store);
    const meta = (await (await as.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`),
    ))!.json()) as Record<string, unknown>;
    expect(meta.token_endpoint_auth_methods_supported).not.toContain('private_key_jwt');
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toBeUndefined();
    const { body } = await register(as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk] },
    });
    expect(body.error).toBe('invalid_client_metadata');
  });

  it('never 5xx: any jwks, jwks_uri and signing alg at /register is 201 or 400 (fast-check)', async () => {
    const keyish = fc.oneof(
      fc.constant(key.jwk),
      fc.record(
        {
          kty: fc.constantFrom('EC', 'RSA', 'OKP', 'oct', 'x'),
          crv: fc.constantFrom('P-256', 'P-384', 'Ed25519', 'X25519', ''),
          x: fc.string({ maxLength: 90 }),
          y: fc.string({ maxLength: 90 }),
          n: fc.string({ maxLength: 400 }),
          e: fc.string({ maxLength: 9 }),
          d: fc.string({ maxLength: 4 }),
          use: fc.constantFrom('sig', 'enc', ''),
          alg: fc.constantFrom('ES256', 'HS256', 'none', ''),
          kid: fc.string({ maxLength: 300 }),
          key_ops: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            jwks: fc.oneof(fc.record({ keys: fc.array(keyish, { maxLength: 12 }) }), fc.anything()),
            jwks_uri: fc.oneof(fc.webUrl(), fc.string(), fc.anything()),
            token_endpoint_auth_signing_alg: fc.oneof(
              fc.constantFrom('ES256', 'HS256'),
              fc.anything(),
            ),
          },
          { requiredKeys: [] },
        ),
        async (extra) => {
          const { response } = await register(env.as, {
            redirect_uris: [REDIRECT],
            token_endpoint_auth_method: 'private_key_jwt',
            ...extra,
          });
          expect([201, 400]).toContain(response.status);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never 5xx: any client_assertion / client_assertion_type / client_id is a 4xx (fast-check)', async () => {
    const real = [await sign(), await sign({ aud: 'x' }), ASSERTION_TYPE, clientId];
    const value = fc.oneof(
      fc.constantFrom(...real, '', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', '\u0000'),
      fc.string(),
      fc.string({ maxLength: 9000 }),
      fc
        .tuple(fc.string(), fc.string(), fc.string())
        .map((parts) => parts.map((p) => Buffer.from(p).toString('base64url')).join('.')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            client_assertion_type: value,
            client_assertion: value,
            client_id: value,
            client_secret: value,
          },
          { requiredKeys: [] },
        ),
        async (auth) => {
          const response = (await env.as.handle(
            form('/token', {
              grant_type: 'authorization_code',
              code: 'c',
              code_verifier: 'v'.repeat(43),
              ...auth,
            }),
          ))!;
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          await response.body?.cancel();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('private_key_jwt for a machine client (client_credentials, an agent without a secret)', () => {
  it('a DCR client with grant_types client_credentials and jwks gets tokens with an assertion only', async () => {
    const env = await setup({ clientCredentials: { dynamicRegistrationScopes: ['read'] } });
    const key = await signer();
    const { response, body } = await register(env.as, {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk] },
      scope: 'read',
    });
    expect(response.status).toBe(201);
    expect(body.client_secret).toBeUndefined();
    const id = body.client_id as string;
    const grant = async (auth: Record<string, string>) =>
      exchange(env.as, { grant_type: 'client_credentials', resource: RESOURCE, ...auth });
    const ok = await grant(withAssertion(await assertion(key, id, env.clock)));
    expect(ok.response.status).toBe(200);
    expect(ok.body.scope).toBe('read');
    expectInvalidClient(await grant({ client_id: id }), 'private_key_jwt');
  });
});

/** A loopback server publishing key sets and client metadata documents. */
const documents = loopbackDocuments();
const { hits, routes } = documents;

function serve(path: string, body: () => unknown, headers: Record<string, string> = {}) {
  routes.set(path, (res, self) => {
    const value = body();
    const json = typeof value === 'function' ? (value as (s: string) => unknown)(self) : value;
    res
      .writeHead(200, { 'Content-Type': 'application/json', ...headers })
      .end(JSON.stringify(json));
  });
  hits.delete(path);
  return `${documents.origin}${path}`;
}

// The development allowance the CIMD tests use: http and loopback addresses.
const insecure = { clientIdMetadataDocuments: { allowInsecure: true, timeoutMs: 500 } };

describe('private_key_jwt with keys at a jwks_uri (fetched as CIMD documents are)', () => {
  it('keys are fetched once and cached; an unknown kid fetches again at most once a minute (key rotation)', async () => {
    const env = await setup(insecure);
    const first = await signer();
    const second = await signer();
    let keys = [first.jwk];
    const jwksUri = serve('/rotating/jwks.json', () => ({ keys }), {
      'Cache-Control': 'max-age=3600',
    });
    const id = (await registerKeyClient(env.as, { jwks_uri: jwksUri })).client_id as string;
    const sign = (s: Signer) => assertion(s, id, env.clock);
    expect((await codeExchange(env.as, id, withAssertion(await sign(first)))).response.status).toBe(
      200,
    );
    expect((await codeExchange(env.as, id, withAssertion(await sign(first)))).response.status).toBe(
      200,
    );
    expect(hits.get('/rotating/jwks.json')).toBe(1);
    // The client rotates in a second key: the unknown kid makes one fetch.
    keys = [first.jwk, second.jwk];
    expect(
      (await codeExchange(env.as, id, withAssertion(await sign(second)))).response.status,
    ).toBe(200);
    expect(hits.get('/rotating/jwks.json')).toBe(2);
    // Kids it does not have, again and again: no fetch within the minute.
    for (let i = 0; i < 3; i++) {
      expectInvalidClient(
        await codeExchange(env.as, id, withAssertion(await sign(await signer()))),
        'no key',
      );
    }
    expect(hits.get('/rotating/jwks.json')).toBe(2);
    env.clock.now += 61_000;
    expectInvalidClient(
      await codeExchange(env.as, id, withAssertion(await sign(await signer()))),
      'no key',
    );
    expect(hits.get('/rotating/jwks.json')).toBe(3);
  });

  it('a jwks_uri that fails, redirects, is too large or holds private keys: 401 invalid_client, never 5xx', async () => {
    const env = await setup({
      clientIdMetadataDocuments: { allowInsecure: true, timeoutMs: 500, maxBytes: 2048 },
    });
    const key = await signer();
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    routes.set('/redirect/jwks.json', (res) => void res.writeHead(302, { Location: '/x' }).end());
    routes.set('/500/jwks.json', (res) => void res.writeHead(500).end());
    // A private key in the set: refused whole.
    const uris: [string, string][] = [
      [
        serve('/private/jwks.json', () => ({ keys: [key.jwk, privateJwk] })),
        'private key material',
      ],
      [serve('/big/jwks.json', () => ({ keys: [key.jwk], pad: 'x'.repeat(4096) })), 'exceeds'],
      [
        serve('/nokeys/jwks.json', () => ({ keys: [{ kty: 'EC', crv: 'P-256', use: 'enc' }] })),
        'no usable',
      ],
      [serve('/html/jwks.json', () => 'hello'), 'not a JWK Set'],
      [`${documents.origin}/redirect/jwks.json`, 'redirects'],
      [`${documents.origin}/500/jwks.json`, 'HTTP 500'],
      [`${documents.origin}/missing/jwks.json`, 'HTTP 404'],
    ];
    for (const [uri, description] of uris) {
      const id = (await registerKeyClient(env.as, { jwks_uri: uri })).client_id as string;
      const result = await codeExchange(
        env.as,
        id,
        withAssertion(await assertion(key, id, env.clock)),
      );
      expectInvalidClient(result, description);
    }
  });

  it('without the development allowance a loopback jwks_uri is refused at registration (http) and never fetched', async () => {
    const env = await setup();
    const { body } = await register(env.as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: serve('/never/jwks.json', () => ({ keys: [] })),
    });
    expect(body.error).toBe('invalid_client_metadata');
    expect(hits.get('/never/jwks.json')).toBeUndefined();
  });
});

describe('private_key_jwt for Client ID Metadata Document clients', () => {
  const CALLBACK = 'http://127.0.0.1:7777/callback';

  async function docFlow(env: Setup, clientId: string, auth: Record<string, string>) {
    const pkce = await createPkcePair();
    const parsed = await env.as.authorization.parse(
      authorizeParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: CALLBACK,
        code_challenge: pkce.codeChallenge,
        code_challenge_method: 'S256',
        state: 's',
        resource: RESOURCE,
      }),
    );
    if (!parsed.ok) throw new Error(`authorize refused: ${parsed.response.status}`);
    const location = new URL((await parsed.pending.approve('u')).headers.get('location')!);
    return exchange(env.as, {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      code_verifier: pkce.codeVerifier,
      redirect_uri: CALLBACK,
      ...auth,
    });
  }

  it('a ChatGPT-style document (private_key_jwt preferred, none offered too, RS256 keys at a jwks_uri) works as a public client and with an assertion', async () => {
    const env = await setup(insecure);
    const rsa = await signer('RS256');
    const jwksUri = serve('/chatgpt/jwks.json', () => ({ keys: [rsa.jwk] }));
    // The shape ChatGPT publishes (its client_id is its own URL).
    const clientId = serve('/chatgpt/client.json', () => (self: string) => ({
      client_id: self,
      client_uri: 'https://chatgpt.com/',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'ChatGPT',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg: 'RS256',
      jwks_uri: jwksUri,
    }));
    const asPublic = await docFlow(env, clientId, { client_id: clientId });
    expect(asPublic.response.status).toBe(200);
    const signed = await docFlow(
      env,
      clientId,
      withAssertion(await assertion(rsa, clientId, env.clock), { client_id: clientId }),
    );
    expect(signed.response.status).toBe(200);
    // The document pins RS256: an ES256 assertion of the right client is refused.
    const es = await signer();
    expectInvalidClient(
      await docFlow(env, clientId, withAssertion(await assertion(es, clientId, env.clock))),
      'RS256',
    );
  });

  it('a document offering only private_key_jwt (inline jwks) works with an assertion, and not without one', async () => {
    const env = await setup(insecure);
    const key = await signer();
    const clientId = serve('/only-jwt/client.json', () => (self: string) => ({
      client_id: self,
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk] },
    }));
    const signed = await docFlow(
      env,
      clientId,
      withAssertion(await assertion(key, clientId, env.clock)),
    );
    expect(signed.response.status).toBe(200);
    expectInvalidClient(await docFlow(env, clientId, { client_id: clientId }), 'private_key_jwt');
  });

  it('documents that cannot authenticate are refused; one offering none as well falls back to a public client', async () => {
    const env = await setup(insecure);
    const key = await signer();
    const refused: [Record<string, unknown>, string][] = [
      [{ token_endpoint_auth_method: 'private_key_jwt' }, 'needs jwks or jwks_uri'],
      [{ token_endpoint_auth_method: 'client_secret_basic' }, 'shared secret'],
      [{ token_endpoint_auth_method: 'client_secret_jwt' }, 'shared secret'],
      [{ token_endpoint_auth_method: 'tls_client_auth' }, 'none or private_key_jwt'],
      [
        {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [key.jwk] },
          jwks_uri: `${documents.origin}/k`,
        },
        'both',
      ],
      [
        {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ kty: 'oct', k: 'AA' }] },
        },
        'private key material',
      ],
      [
        {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [key.jwk] },
          token_endpoint_auth_signing_alg: 'HS256',
        },
        'token_endpoint_auth_signing_alg',
      ],
    ];
    let n = 0;
    for (const [fields, description] of refused) {
      const clientId = serve(`/refused-${++n}/client.json`, () => (self: string) => ({
        client_id: self,
        redirect_uris: [CALLBACK],
        ...fields,
      }));
      const result = await env.as.authorization.parse(
        authorizeParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: CALLBACK,
          code_challenge: (await createPkcePair()).codeChallenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
        {
          request: new Request(`${ISSUER}/authorize`, { headers: { Accept: 'application/json' } }),
        },
      );
      expect(result.ok, description).toBe(false);
      if (result.ok) continue;
      const body = (await result.response.json()) as Record<string, string>;
      expect(body.error).toBe('invalid_client');
      expect(body.error_description, description).toContain(description);
    }
    // Offers none too, keys unusable: a public client.
    const fallback = serve('/fallback/client.json', () => (self: string) => ({
      client_id: self,
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
    }));
    expect((await docFlow(env, fallback, { client_id: fallback })).response.status).toBe(200);
    expectInvalidClient(
      await docFlow(env, fallback, withAssertion(await assertion(key, fallback, env.clock))),
      'does not authenticate with private_key_jwt',
    );
  });
});
