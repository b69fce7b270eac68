import { PGlite } from '@electric-sql/pglite';
import { createTokenStore } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRedirect } from '../src/lib/redirect-uri.js';
import {
  confidentialClient,
  exchange,
  ISSUER,
  MACHINE,
  MACHINE_SECRET,
  obtainCode,
  publicClient,
  REDIRECT,
  RESOURCE,
  saveMachineClient,
  setup,
} from './support/setup.js';

/** Values that hit the interesting paths: real ones, near-misses, control characters, long and odd Unicode. */
function values(real: string[]) {
  return fc.oneof(
    fc.constantFrom(
      ...real,
      '',
      ' ',
      'S256',
      'plain',
      'code',
      'token',
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'openid',
      REDIRECT,
      RESOURCE,
      '\u0000',
      '%00',
      'a.b.c',
      'x'.repeat(43),
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA',
    ),
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.string({ maxLength: 6000 }),
  );
}

const PARAMS = [
  'grant_type',
  'code',
  'code_verifier',
  'redirect_uri',
  'resource',
  'client_id',
  'client_secret',
  'refresh_token',
  'scope',
  'token',
  'token_type_hint',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'state',
  'client_assertion_type',
  'client_assertion',
];

function paramsArb(real: string[]) {
  return fc.dictionary(
    fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 8 })),
    values(real),
    { maxKeys: 10 },
  );
}

const authHeader = fc.option(
  fc.oneof(
    fc.string().map((s) => `Basic ${s}`),
    fc
      .tuple(fc.string(), fc.string())
      .map(([a, b]) => `Basic ${Buffer.from(`${a}:${b}`).toString('base64')}`),
    fc.string(),
  ),
  { nil: undefined },
);

async function world(store?: ReturnType<typeof createTokenStore>) {
  // Client credentials on: an operator's machine client, and dynamic ones limited to `read`.
  const s = await setup(
    { clientCredentials: { clientIds: [MACHINE], dynamicRegistrationScopes: ['read'] } },
    store,
  );
  await saveMachineClient(s.store);
  const pub = await publicClient(s.as);
  const conf = await confidentialClient(s.as);
  const { code, verifier } = await obtainCode(s.as, pub);
  const { body } = await exchange(s.as, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    client_id: pub,
  });
  const { code: code2, verifier: verifier2 } = await obtainCode(s.as, pub);
  const real = [
    MACHINE,
    MACHINE_SECRET,
    pub,
    conf.clientId,
    conf.secret,
    code,
    code2,
    verifier,
    verifier2,
    body.access_token as string,
    body.refresh_token as string,
  ];
  return { ...s, real };
}

function formRequest(
  path: string,
  params: Record<string, string>,
  authorization: string | undefined,
) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (authorization !== undefined) headers.Authorization = authorization.replace(/[\r\n\0]/g, '');
  let safeAuth = true;
  try {
    new Headers(headers);
  } catch {
    safeAuth = false;
  }
  if (!safeAuth) delete headers.Authorization;
  return new Request(ISSUER + path, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
  });
}

async function assertNot500(response: Response | undefined, what: string) {
  expect(response, what).toBeDefined();
  const r = response!;
  expect(r.status, `${what}: ${await r.clone().text()}`).toBeLessThan(500);
  if (r.status >= 400 && r.headers.get('content-type') === 'application/json') {
    const body = await r.json();
    expect(typeof body.error).toBe('string');
  }
}

const RUNS = { numRuns: 150 };

describe('fuzzing every endpoint: malformed input never gets a 500', async () => {
  const w = await world();

  for (const path of ['/token', '/revoke', '/introspect']) {
    it(`RFC 6749 §5.2: ${path} answers arbitrary form parameters and Authorization headers with a 2xx/4xx`, async () => {
      await fc.assert(
        fc.asyncProperty(paramsArb(w.real), authHeader, async (params, auth) => {
          await assertNot500(await w.as.handle(formRequest(path, params, auth)), path);
        }),
        RUNS,
      );
      // 150 requests with real signing and hashing: seconds on a loaded 2-core machine.
    }, 60_000);
  }

  it('RFC 6749 §4.4: client_credentials with the machine client’s credentials and arbitrary scope and resource answers 200 or a 4xx', async () => {
    const auth = `Basic ${Buffer.from(`${MACHINE}:${MACHINE_SECRET}`).toString('base64')}`;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            scope: values(['read', 'write', 'read write', 'admin', 'openid', 'offline_access']),
            resource: values([RESOURCE, `${RESOURCE}/`]),
            client_id: values([MACHINE]),
            client_secret: values([MACHINE_SECRET]),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        async (params, withHeader) => {
          const response = await w.as.handle(
            formRequest(
              '/token',
              { grant_type: 'client_credentials', ...params },
              withHeader ? auth : undefined,
            ),
          );
          await assertNot500(response, 'client_credentials');
          expect([200, 400, 401]).toContain(response!.status);
        },
      ),
      RUNS,
    );
  });

  it('RFC 6749 §5.2: /token answers arbitrary raw bytes with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const response = await w.as.handle(
          new Request(`${ISSUER}/token`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: bytes,
          }),
        );
        await assertNot500(response, 'raw');
      }),
      RUNS,
    );
  });

  it('RFC 7591 §3.2.2: /register answers arbitrary JSON (and near-valid metadata) with 201 or a 4xx', async () => {
    const metadata = fc.record(
      {
        redirect_uris: fc.oneof(
          fc.array(values([REDIRECT, 'http://127.0.0.1/cb']), { maxLength: 3 }),
          fc.jsonValue(),
        ),
        token_endpoint_auth_method: values(['none', 'client_secret_basic', 'client_secret_post']),
        grant_types: fc.oneof(
          fc.array(values(['authorization_code', 'refresh_token', 'client_credentials'])),
          fc.jsonValue(),
        ),
        client_name: fc.oneof(values([]), fc.jsonValue()),
        scope: values(['read', 'read write', 'openid']),
        response_types: fc.oneof(fc.constant([]), fc.array(values(['code'])), fc.jsonValue()),
        application_type: values(['web', 'native']),
        client_uri: values(['https://a.example']),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(metadata, fc.jsonValue()), async (body) => {
        const response = await w.as.handle(
          new Request(`${ISSUER}/register`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body) ?? 'null',
          }),
        );
        await assertNot500(response, 'register');
      }),
      RUNS,
    );
  });

  it('RFC 6749 §4.1.2.1: authorization.parse and GET /authorize answer arbitrary queries with a page, a redirect or ok', async () => {
    const { as } = await setup(
      { interaction: () => new Response('login', { status: 200 }) },
      w.store,
    );
    await fc.assert(
      fc.asyncProperty(
        paramsArb(w.real),
        fc.string({ maxLength: 300 }),
        fc.boolean(),
        async (params, raw, encoded) => {
          const result = await as.authorization.parse(new URLSearchParams(params));
          if (!result.ok) expect([302, 400, 429]).toContain(result.response.status);
          let request: Request;
          try {
            // encodeURI throws on a lone surrogate: such a query cannot be sent at all.
            const query = encoded ? new URLSearchParams(params).toString() : encodeURI(raw);
            request = new Request(`${ISSUER}/authorize?${query}`);
          } catch {
            return;
          }
          const response = await as.handle(request);
          expect(response!.status).toBeLessThan(500);
        },
      ),
      RUNS,
    );
  });

  it('metadata and JWKS answer any method with 2xx/4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/.well-known/oauth-authorization-server',
          '/.well-known/openid-configuration',
          '/jwks.json',
          '/token',
          '/register',
          '/revoke',
          '/introspect',
        ),
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        async (path, method) => {
          await assertNot500(
            await w.as.handle(new Request(ISSUER + path, { method })),
            `${method} ${path}`,
          );
        },
      ),
    );
  });
});

describe('fuzzing on PGlite (a real Postgres: control characters must not reach it as 5xx)', async () => {
  const db = new PGlite();
  const w = await world(createTokenStore({ adapter: postgresAdapter(db) }));

  it('RFC 6749 §5.2: /token and /revoke on PGlite: no 5xx for arbitrary parameters', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/token', '/revoke', '/introspect'),
        paramsArb(w.real),
        authHeader,
        async (path, params, auth) => {
          await assertNot500(await w.as.handle(formRequest(path, params, auth)), path);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  it('RFC 7591 §3.2.2: /register on PGlite: no 5xx for arbitrary client names and URIs', async () => {
    await fc.assert(
      fc.asyncProperty(values([]), values([REDIRECT]), async (name, uri) => {
        const response = await w.as.handle(
          new Request(`${ISSUER}/register`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
              redirect_uris: [uri],
              client_name: name,
              token_endpoint_auth_method: 'none',
            }),
          }),
        );
        await assertNot500(response, 'register');
      }),
      { numRuns: 60 },
    );
    await db.close();
  }, 60_000);
});

describe('RFC 6749 §3.1.2: response parameters added to a redirect URI', () => {
  /** The plain form: one url.searchParams.append() per parameter. */
  function appendedOneByOne(redirectUri: string, params: Record<string, string | undefined>) {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined) url.searchParams.append(name, value);
    }
    return url.href;
  }

  it('buildRedirect gives the same URI as appending one by one, whatever the URI keeps', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'https://a.example/cb',
          'https://a.example',
          'https://a.example/cb?',
          'https://a.example/cb#',
          'https://a.example/cb?x=1&y=%20z+w',
          'http://127.0.0.1:7000/cb?q',
          'http://[::1]:9/x/../y',
          'https://a.example/p%2Fq?a=b#',
          'com.example.app:/oauth/cb',
        ),
        fc.dictionary(fc.string(), fc.option(fc.string({ unit: 'grapheme' }), { nil: undefined })),
        (uri, params) => {
          expect(buildRedirect(uri, params)).toBe(appendedOneByOne(uri, params));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
