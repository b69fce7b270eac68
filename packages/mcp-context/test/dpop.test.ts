import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  createMemoryReplayStore,
  createNonceIssuer,
  createProof,
  DEFAULT_DPOP_ALGORITHMS,
  generateProofKey,
  jwkThumbprint,
  type ProofKey,
  type ReplayStore,
} from '@portcullis/dpop';
import { serviceAvailable, TEST_REDIS_URL } from '@portcullis/internal-testing';
import { redisReplayStore } from '@portcullis/rate-limit/redis';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate,
  type BearerAuthOptions,
  cachedVerifier,
  introspectionVerifier,
  jwtVerifier,
} from '../src/index.js';
import { bearerAuth } from '../src/node/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import {
  callTool,
  parseChallenge,
  post,
  startServer,
  type TestServer,
  TOOL_SCOPES,
  text,
} from './support/server.js';
import { startV2Server, type V2TestServer } from './support/v2-server.js';

let issuer: TestIssuer;
/** Both schemes, per-tool scopes (SDK 1.x, Express). */
let both: TestServer;
/** DPoP required, with server nonces. */
let strict: TestServer;
let key: ProofKey;
let jkt: string;
const nonces = createNonceIssuer({ secret: crypto.getRandomValues(new Uint8Array(32)) });

const verifier = (resource: string) =>
  jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri });

function mint(resource: string, claims: Record<string, unknown> = {}) {
  return issuer.mintToken({
    sub: 'alice',
    client_id: 'agent-1',
    aud: resource,
    scope: 'read read_data',
    cnf: { jkt },
    ...claims,
  });
}

async function proofFor(
  url: string,
  token: string,
  options: { key?: ProofKey; method?: string; nonce?: string } = {},
) {
  return createProof({
    ...(options.key ?? key),
    method: options.method ?? 'POST',
    url,
    accessToken: token,
    nonce: options.nonce,
  });
}

const dpopHeaders = (token: string, proof: string) => ({
  Authorization: `DPoP ${token}`,
  DPoP: proof,
});

/** A tools/call with `Authorization: DPoP` and a fresh proof for `url`. */
async function sendDpop(
  url: string,
  token: string,
  tool: string,
  options: { key?: ProofKey; method?: string; nonce?: string } = {},
) {
  return post(url, callTool(tool), dpopHeaders(token, await proofFor(url, token, options)));
}

/** The public URL two instances behind one load balancer serve. */
const PUBLIC = 'https://mcp.example.com/mcp';

/** Two instances (each its own guard and HTTP server) of one public resource, sharing `replay`. */
function balanced(replay: ReplayStore) {
  const start = () =>
    startServer({ verifier, publicResource: PUBLIC, originCheck: false, dpop: { replay } });
  return Promise.all([start(), start()]);
}

/** The challenges of a WWW-Authenticate header, split at each scheme. */
function challenges(header: string | null) {
  if (!header) throw new Error('no WWW-Authenticate header');
  return header
    .split(/, (?=(?:Bearer|DPoP) )/)
    .map((part) => parseChallenge(part))
    .reduce<Record<string, Record<string, string>>>((all, c) => {
      all[c.scheme] = c.params;
      return all;
    }, {});
}

async function whoami(response: Response) {
  expect(response.status).toBe(200);
  // SDK 1.x answers JSON here; SDK 2.x an SSE stream of one message.
  const raw = await response.text();
  const json = raw.startsWith('{') ? raw : (/^data: (.*)$/m.exec(raw)?.[1] ?? '');
  const body = JSON.parse(json) as { result: unknown };
  return JSON.parse(text(body.result)) as Record<string, unknown>;
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  key = await generateProofKey();
  jkt = await jwkThumbprint(key.publicJwk);
  both = await startServer({
    verifier,
    toolScopes: TOOL_SCOPES,
    dpop: true,
    authorizationServers: [issuer.issuer],
  });
  strict = await startServer({
    verifier,
    dpop: { required: true, nonce: nonces, algorithms: ['ES256'] },
    authorizationServers: [issuer.issuer],
  });
});

afterAll(async () => {
  await both?.close();
  await strict?.close();
  await issuer?.close();
});

describe('RFC 9728 §2: protected resource metadata', () => {
  it('publishes the proof algorithms, and dpop_bound_access_tokens_required when DPoP is required', async () => {
    const open = await (
      await fetch(`${both.origin}/.well-known/oauth-protected-resource/mcp`)
    ).json();
    expect(open.dpop_signing_alg_values_supported).toEqual([...DEFAULT_DPOP_ALGORITHMS]);
    expect(open.dpop_signing_alg_values_supported).not.toContain('RS256');
    expect(open).not.toHaveProperty('dpop_bound_access_tokens_required');
    const closed = await (
      await fetch(`${strict.origin}/.well-known/oauth-protected-resource/mcp`)
    ).json();
    expect(closed.dpop_signing_alg_values_supported).toEqual(['ES256']);
    expect(closed.dpop_bound_access_tokens_required).toBe(true);
  });
});

describe('RFC 9449 §7.1: Authorization: DPoP with a proof (SDK 1.x, Express)', () => {
  it('admits a bound token with a fresh proof; the tool sees the proven key', async () => {
    const token = await mint(both.resource);
    const response = await sendDpop(both.url, token, 'whoami');
    const caller = await whoami(response);
    expect(caller.dpopJkt).toBe(jkt);
    expect(caller.clientId).toBe('agent-1');
  });

  it('a cached token still needs a fresh proof on every request: replayed, wrong key and missing proofs are refused', async () => {
    const token = await mint(both.resource);
    const proof = await proofFor(both.url, token);
    expect((await post(both.url, callTool('whoami'), dpopHeaders(token, proof))).status).toBe(200);
    // The token is in the verified-token cache now; a second fresh proof passes...
    const again = await sendDpop(both.url, token, 'whoami');
    expect(again.status).toBe(200);
    // ...the first one, replayed, does not.
    const replayed = await post(both.url, callTool('whoami'), dpopHeaders(token, proof));
    expect(replayed.status).toBe(401);
    const replay = challenges(replayed.headers.get('www-authenticate'));
    expect(replay.DPoP?.error).toBe('invalid_dpop_proof');
    expect(replay.DPoP?.error_description).toMatch(/used before/);
    expect(replay.Bearer).toBeDefined();
    expect(replay.Bearer?.error).toBeUndefined();
    // A proof by another key for the cached token.
    const thief = await generateProofKey();
    const stolen = await sendDpop(both.url, token, 'whoami', { key: thief });
    expect(stolen.status).toBe(401);
    expect(challenges(stolen.headers.get('www-authenticate')).DPoP?.error).toBe('invalid_token');
    // No proof at all.
    const bare = await post(both.url, callTool('whoami'), { Authorization: `DPoP ${token}` });
    expect(bare.status).toBe(401);
    const missing = challenges(bare.headers.get('www-authenticate'));
    expect(missing.DPoP?.error).toBe('invalid_dpop_proof');
    expect(missing.DPoP?.algs).toBe('ES256 ES384 ES512 PS256 PS384 PS512 EdDSA Ed25519');
  });

  it('refuses a proof for another URL, another method or another token: invalid_dpop_proof', async () => {
    const token = await mint(both.resource);
    const other = await mint(both.resource, { jti: 'another' });
    const cases: [string, RegExp][] = [
      [await proofFor(`${both.origin}/elsewhere`, token), /"htu"/],
      [await proofFor('http://mcp.example.com/mcp', token), /"htu"/],
      [await proofFor(both.url, token, { method: 'GET' }), /"htm"/],
      [await proofFor(both.url, other), /"ath"/],
    ];
    for (const [proof, why] of cases) {
      const response = await post(both.url, callTool('whoami'), dpopHeaders(token, proof));
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await response.json();
      expect(body.error).toBe('invalid_dpop_proof');
      expect(body.error_description).toMatch(why);
    }
  });

  it('the proof names the URL without its query: a query on the request is ignored', async () => {
    const token = await mint(both.resource);
    const response = await post(
      `${both.url}?session=1`,
      callTool('whoami'),
      dpopHeaders(token, await proofFor(both.url, token)),
    );
    expect(response.status).toBe(200);
  });

  it('refuses a token without cnf.jkt sent with the DPoP scheme: invalid_token, key binding', async () => {
    const token = await mint(both.resource, { cnf: undefined });
    const response = await sendDpop(both.url, token, 'whoami');
    expect(response.status).toBe(401);
    const challenge = challenges(response.headers.get('www-authenticate')).DPoP;
    expect(challenge?.error).toBe('invalid_token');
    expect(challenge?.error_description).toBe('Invalid DPoP key binding');
  });

  it('checks per-tool scopes after the proof: 403 insufficient_scope on the DPoP challenge', async () => {
    const token = await mint(both.resource);
    const response = await sendDpop(both.url, token, 'secure_operation');
    expect(response.status).toBe(403);
    const challenge = challenges(response.headers.get('www-authenticate')).DPoP;
    expect(challenge?.error).toBe('insufficient_scope');
    expect(challenge?.scope).toBe('read read_data admin');
  });

  it('malformed proofs and DPoP credentials: 401 invalid_dpop_proof or 400 invalid_request', async () => {
    const token = await mint(both.resource);
    for (const proof of ['abc', 'a.b.c', `${await proofFor(both.url, token)}x!`, 'e30.e30.e30']) {
      const response = await post(both.url, callTool('whoami'), dpopHeaders(token, proof));
      expect(response.status).toBe(401);
      expect((await response.json()).error).toBe('invalid_dpop_proof');
    }
    const spaced = await post(both.url, callTool('whoami'), { Authorization: 'DPoP a b' });
    expect(spaced.status).toBe(400);
    expect(challenges(spaced.headers.get('www-authenticate')).DPoP?.error).toBe('invalid_request');
  });

  it('fast-check: arbitrary DPoP and Authorization headers never get a 5xx', async () => {
    const token = await mint(both.resource);
    const good = await proofFor(both.url, token);
    const headerText = fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          headerText,
          fc.constantFrom(good, good.replace(/^[^.]+/, 'e30'), `${good}.${good}`),
          fc.base64String({ maxLength: 300 }).map((s) => `${s}.${s}.${s}`),
        ),
        fc.oneof(
          fc.constant(`DPoP ${token}`),
          headerText.map((s) => `DPoP ${s}`),
        ),
        async (proof, authorization) => {
          const response = await post(both.url, callTool('whoami'), {
            Authorization: authorization,
            DPoP: proof,
          });
          await response.arrayBuffer();
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('RFC 9449 §7.2: a DPoP-bound token sent as Bearer', () => {
  it('is refused, before and after the token is cached; the challenge offers both schemes', async () => {
    const token = await mint(both.resource);
    const first = await post(both.url, callTool('whoami'), { Authorization: `Bearer ${token}` });
    expect(first.status).toBe(401);
    const refused = challenges(first.headers.get('www-authenticate'));
    expect(refused.Bearer?.error).toBe('invalid_token');
    expect(refused.Bearer?.error_description).toMatch(/DPoP-bound/);
    expect(refused.DPoP?.algs).toBeDefined();
    await sendDpop(both.url, token, 'whoami');
    const cached = await post(both.url, callTool('whoami'), { Authorization: `Bearer ${token}` });
    expect(cached.status).toBe(401);
  });

  it('an unbound token is still accepted as Bearer when DPoP is not required', async () => {
    const token = await mint(both.resource, { cnf: undefined });
    const caller = await whoami(
      await post(both.url, callTool('whoami'), { Authorization: `Bearer ${token}` }),
    );
    expect(caller.dpopJkt).toBeUndefined();
  });

  it('no credentials: 401 with a Bearer and a DPoP challenge, neither with an error', async () => {
    const response = await post(both.url, callTool('whoami'));
    expect(response.status).toBe(401);
    const offered = challenges(response.headers.get('www-authenticate'));
    expect(Object.keys(offered)).toEqual(['Bearer', 'DPoP']);
    expect(offered.Bearer?.resource_metadata).toBe(
      `${both.origin}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(offered.DPoP?.error).toBeUndefined();
    expect(offered.DPoP?.resource_metadata).toBe(offered.Bearer?.resource_metadata);
  });
});

describe('DPoP required, with server nonces (RFC 9449 §9)', () => {
  it('refuses any Bearer token with a DPoP challenge alone', async () => {
    const token = await mint(strict.resource, { cnf: undefined });
    const response = await post(strict.url, callTool('whoami'), {
      Authorization: `Bearer ${token}`,
    });
    expect(response.status).toBe(401);
    const offered = challenges(response.headers.get('www-authenticate'));
    expect(Object.keys(offered)).toEqual(['DPoP']);
    expect(offered.DPoP?.error).toBe('invalid_token');
    expect(offered.DPoP?.algs).toBe('ES256');
  });

  it('answers use_dpop_nonce with a DPoP-Nonce; the retry with it passes', async () => {
    const token = await mint(strict.resource);
    const first = await sendDpop(strict.url, token, 'whoami');
    expect(first.status).toBe(401);
    expect(challenges(first.headers.get('www-authenticate')).DPoP?.error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    // RFC 9449 §8.1 syntax; that it is the issuer's own is shown by the retry passing.
    expect(nonce).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/);
    const second = await sendDpop(strict.url, token, 'whoami', { nonce: nonce ?? '' });
    expect((await whoami(second)).dpopJkt).toBe(jkt);
    expect(second.headers.get('dpop-nonce')).toBe(nonce);
    const stale = await sendDpop(strict.url, token, 'whoami', { nonce: 'not-a-nonce' });
    expect(stale.status).toBe(401);
    expect(challenges(stale.headers.get('www-authenticate')).DPoP?.error).toBe('use_dpop_nonce');
  });

  it('refuses a proof signed with an algorithm outside the allow-list', async () => {
    const rsa = await generateProofKey('Ed25519');
    const token = await mint(strict.resource, { cnf: { jkt: await jwkThumbprint(rsa.publicJwk) } });
    const response = await post(
      strict.url,
      callTool('whoami'),
      dpopHeaders(
        token,
        await proofFor(strict.url, token, { key: rsa, nonce: await nonces.issue() }),
      ),
    );
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.error).toBe('invalid_dpop_proof');
    expect(body.error_description).toMatch(/alg/);
  });
});

describe('dpop.maxAgeSeconds and dpop.clockSkewSeconds', () => {
  const resource = 'http://127.0.0.1:1/mcp';
  const bad: [string, unknown][] = [
    ['maxAgeSeconds', -1],
    ['maxAgeSeconds', 0],
    ['maxAgeSeconds', Number.NaN],
    ['maxAgeSeconds', Number.POSITIVE_INFINITY],
    ['maxAgeSeconds', '60'],
    ['clockSkewSeconds', -1],
    ['clockSkewSeconds', Number.NaN],
    ['clockSkewSeconds', Number.POSITIVE_INFINITY],
    ['clockSkewSeconds', '15'],
  ];

  it.each(bad)(
    '%s: %s is a TypeError when bearerAuth is made, not a 401 on every request',
    (name, value) => {
      const options = { verifier: verifier(resource), resource, dpop: { [name]: value } };
      let thrown: unknown;
      try {
        bearerAuth(options as BearerAuthOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toContain(`"dpop.${name}"`);
      expect((thrown as Error).message).toContain(String(value));
      expect((thrown as { code: string }).code).toMatch(/^ERR_INVALID_ARG_(TYPE|VALUE)$/);
    },
  );

  it('authenticate() (fetch-style) throws the same TypeError on its first call', async () => {
    const options: BearerAuthOptions = {
      verifier: verifier(resource),
      resource,
      dpop: { maxAgeSeconds: Number.NaN },
    };
    await expect(authenticate(new Request(resource), options)).rejects.toThrow(
      '"dpop.maxAgeSeconds" must be a finite number of seconds, at least 1, received NaN',
    );
  });

  it('good values are used: a 30 s window admits a fresh proof and refuses one 40 s old', async () => {
    const server = await startServer({
      verifier,
      dpop: { maxAgeSeconds: 30, clockSkewSeconds: 0 },
    });
    try {
      const token = await mint(server.resource);
      expect((await sendDpop(server.url, token, 'whoami')).status).toBe(200);
      const iat = Math.floor(Date.now() / 1000) - 40;
      const stale = await createProof({
        ...key,
        method: 'POST',
        url: server.url,
        accessToken: token,
        iat,
      });
      const refused = await post(server.url, callTool('whoami'), dpopHeaders(token, stale));
      expect(refused.status).toBe(401);
      expect(challenges(refused.headers.get('www-authenticate')).DPoP?.error).toBe(
        'invalid_dpop_proof',
      );
      // The same proof is inside the default 60 s window: the 30 s is what refused it.
      const defaults = await startServer({ verifier, dpop: true });
      try {
        const fresh = await mint(defaults.resource);
        const old = await createProof({
          ...key,
          method: 'POST',
          url: defaults.url,
          accessToken: fresh,
          iat,
        });
        expect((await post(defaults.url, callTool('whoami'), dpopHeaders(fresh, old))).status).toBe(
          200,
        );
      } finally {
        await defaults.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('RFC 7662 introspection: cnf.jkt from the introspection answer', () => {
  it('admits the bound opaque token with its key, refuses it as Bearer and with another key', async () => {
    let calls = 0;
    const endpoint = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      calls++;
      const token = new URLSearchParams(body).get('token');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify(
          token === 'opaque-bound'
            ? {
                active: true,
                client_id: 'agent-2',
                sub: 'bob',
                scope: 'read',
                exp: Math.floor(Date.now() / 1000) + 300,
                cnf: { jkt },
              }
            : { active: false },
        ),
      );
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', () => resolve()));
    const introspect = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
    const server = await startServer({
      verifier: () =>
        cachedVerifier(
          introspectionVerifier({ endpoint: introspect, clientId: 'rs', clientSecret: 'secret' }),
        ),
      dpop: true,
    });
    try {
      const token = 'opaque-bound';
      for (let i = 0; i < 2; i++) {
        const caller = await whoami(await sendDpop(server.url, token, 'whoami'));
        expect(caller.dpopJkt).toBe(jkt);
      }
      expect(calls).toBe(1); // the second request was a cache hit, and still needed its proof
      const asBearer = await post(server.url, callTool('whoami'), {
        Authorization: `Bearer ${token}`,
      });
      expect(asBearer.status).toBe(401);
      const thief = await generateProofKey();
      const stolen = await sendDpop(server.url, token, 'whoami', { key: thief });
      expect(stolen.status).toBe(401);
      expect((await stolen.json()).error_description).toBe('Invalid DPoP key binding');
    } finally {
      await server.close();
      endpoint.closeAllConnections();
      await new Promise((resolve) => endpoint.close(resolve));
    }
  });
});

describe.runIf(await serviceAvailable('Redis'))(
  'the replay store on Redis (redisReplayStore of @portcullis/rate-limit)',
  () => {
    it('two instances sharing it: a proof accepted by one is refused by the other; Redis stalled is a 503', async () => {
      const redis = new Redis(TEST_REDIS_URL);
      const prefix = `portcullis:test:dpop:${crypto.randomUUID()}:`;
      const replay = redisReplayStore(redis, { prefix });
      const [a, b] = await balanced(replay);
      const stalled = await startServer({
        verifier,
        dpop: {
          replay: redisReplayStore({ call: () => new Promise(() => {}) }, { timeoutMs: 50 }),
        },
      });
      try {
        const token = await mint(PUBLIC);
        const proof = await proofFor(PUBLIC, token);
        const first = await post(b.url, callTool('whoami'), dpopHeaders(token, proof));
        expect(first.status).toBe(200);
        const again = await post(a.url, callTool('whoami'), dpopHeaders(token, proof));
        expect(again.status).toBe(401);
        expect((await again.json()).error_description).toMatch(/used before/);
        expect(await redis.keys(`${prefix}*`)).toHaveLength(1);
        const fresh = await mint(stalled.resource);
        const down = await sendDpop(stalled.url, fresh, 'whoami');
        expect(down.status).toBe(503);
        expect((await down.json()).error).toBe('temporarily_unavailable');
      } finally {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
        await Promise.all([a.close(), b.close(), stalled.close()]);
      }
    });
  },
);

describe('the replay store', () => {
  it('one proof sent 20 times at once: exactly one request passes', async () => {
    const token = await mint(both.resource);
    const proof = await proofFor(both.url, token);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(both.url, callTool('whoami'), dpopHeaders(token, proof)).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(19);
  });

  it('shared by two instances: a proof accepted by one is refused by the other', async () => {
    const replay = createMemoryReplayStore();
    const [a, b] = await balanced(replay);
    try {
      const token = await mint(PUBLIC);
      const proof = await proofFor(PUBLIC, token);
      expect((await post(a.url, callTool('whoami'), dpopHeaders(token, proof))).status).toBe(200);
      const atB = await post(b.url, callTool('whoami'), dpopHeaders(token, proof));
      expect(atB.status).toBe(401);
      expect((await atB.json()).error_description).toMatch(/used before/);
      // Without the shared store, B would have taken it: the refusal is the store's doing.
      const [alone] = await balanced(createMemoryReplayStore());
      const accepted = await post(alone.url, callTool('whoami'), dpopHeaders(token, proof));
      expect(accepted.status).toBe(200);
      await alone.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a failing store is an outage: 503 with Retry-After, never an accepted proof', async () => {
    const down = await startServer({
      verifier,
      dpop: {
        replay: {
          remember: async () => {
            throw new Error('redis down');
          },
        },
      },
    });
    try {
      const token = await mint(down.resource);
      const response = await sendDpop(down.url, token, 'whoami');
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
    } finally {
      await down.close();
    }
  });
});

describe('the real SDK 1.x client, with a proof on every request', () => {
  it('initializes, lists and calls tools over DPoP', async () => {
    const token = await mint(both.resource);
    const transport = new StreamableHTTPClientTransport(new URL(both.url), {
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        const method = init?.method ?? 'GET';
        headers.set('Authorization', `DPoP ${token}`);
        headers.set('DPoP', await proofFor(String(input), token, { method }));
        return fetch(input, { ...init, headers });
      },
    });
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(JSON.parse(text(result)).dpopJkt).toBe(jkt);
    } finally {
      await client.close();
    }
  });
});

describe('OpenTelemetry', () => {
  it('the mcp.bearer_auth span of a DPoP request says dpop, the cache outcome and the refusal', async () => {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const server = await startServer({ verifier, dpop: true, tracerProvider });
    try {
      const token = await mint(server.resource);
      expect((await sendDpop(server.url, token, 'whoami')).status).toBe(200);
      const thief = await generateProofKey();
      expect((await sendDpop(server.url, token, 'whoami', { key: thief })).status).toBe(401);
      const [allowed, refused] = exporter.getFinishedSpans().map((span) => span.attributes);
      expect(allowed).toMatchObject({
        'mcp.auth.scheme': 'dpop',
        'mcp.auth.token_cache': 'miss',
        'mcp.auth.outcome': 'allowed',
      });
      expect(refused).toMatchObject({
        'mcp.auth.scheme': 'dpop',
        'mcp.auth.token_cache': 'hit',
        'mcp.auth.outcome': 'refused',
      });
    } finally {
      await server.close();
    }
  });
});

describe('SDK 2.x servers and fetch-style authenticate', () => {
  const servers: V2TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  for (const style of ['node', 'fetch'] as const) {
    it(`${style}: admits a proof-carrying request and refuses the bound token as Bearer`, async () => {
      const server = await startV2Server({
        verifier,
        authorizationServers: [issuer.issuer],
        style,
        dpop: true,
      });
      servers.push(server);
      const token = await mint(server.url);
      const caller = await whoami(await sendDpop(server.url, token, 'whoami'));
      expect(caller.dpopJkt).toBe(jkt);
      const asBearer = await post(server.url, callTool('whoami'), {
        Authorization: `Bearer ${token}`,
      });
      expect(asBearer.status).toBe(401);
    });
  }

  it('authenticate() checks htu against the public origin of the resource (behind a proxy)', async () => {
    const resource = 'https://mcp.example.com/mcp';
    const options: BearerAuthOptions = {
      verifier: verifier(resource),
      resource,
      dpop: true,
      originCheck: false,
    };
    const token = await mint(resource);
    // The proxy forwarded to http://app:3000/mcp; the client signed the public URL.
    const request = (proof: string) =>
      new Request('http://app:3000/mcp', {
        method: 'POST',
        headers: { ...dpopHeaders(token, proof), 'Content-Type': 'application/json' },
        body: JSON.stringify(callTool('whoami')),
      });
    const ok = await authenticate(request(await proofFor(resource, token)), options);
    expect('authInfo' in ok && ok.authInfo.extra?.dpopJkt).toBe(jkt);
    const internal = await authenticate(
      request(await proofFor('http://app:3000/mcp', token)),
      options,
    );
    expect('response' in internal && internal.response.status).toBe(401);
  });
});
