import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTokenStore,
  memoryAdapter,
  StoreUnavailableError,
  type TokenStore,
} from '@portcullis/token-store';
import { importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cachedVerifier,
  InvalidTokenError,
  introspectionVerifier,
  jwtVerifier,
  staticTokenVerifier,
  tokenStoreVerifier,
  VerifierUnavailableError,
} from '../src/index.js';
import { bearerAuth, type NodeRequest } from '../src/node/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';

const RESOURCE = 'http://127.0.0.1:8000/mcp';
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(async () => {
  await issuer?.close();
});

const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'alice',
  aud: RESOURCE,
  client_id: 'app',
  scope: 'read write',
  ...extra,
});

describe('jwtVerifier (RFC 9068)', () => {
  it('RFC 9068 §2.2: maps client_id, sub, scope, exp, aud and keeps the claims', async () => {
    const verify = jwtVerifier({
      issuer: issuer.issuer,
      audience: RESOURCE,
      jwksUri: issuer.jwksUri,
    });
    const token = await issuer.mintToken(claims({ aud: ['http://other.example/api', RESOURCE] }));
    const info = await verify(token);
    expect(info).toMatchObject({
      token,
      clientId: 'app',
      userId: 'alice',
      scopes: ['read', 'write'],
    });
    expect(info.resource?.href).toBe(RESOURCE);
    expect(info.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect((info.extra?.claims as Record<string, unknown> | undefined)?.iss).toBe(issuer.issuer);
  });

  it('RFC 7518 §3.2: HS256 is accepted only with an explicitly configured secret', async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const token = await issuer.mintToken(claims(), { alg: 'HS256', secret });
    const asymmetricOnly = jwtVerifier({
      issuer: issuer.issuer,
      audience: RESOURCE,
      jwksUri: issuer.jwksUri,
    });
    await expect(asymmetricOnly(token)).rejects.toBeInstanceOf(InvalidTokenError);
    const withSecret = jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, secret });
    expect((await withSecret(token)).userId).toBe('alice');
    const wrongSecret = jwtVerifier({
      issuer: issuer.issuer,
      audience: RESOURCE,
      secret: crypto.getRandomValues(new Uint8Array(32)),
    });
    await expect(wrongSecret(token)).rejects.toMatchObject({ code: 'invalid_token' });
    // With a secret only, ES256 tokens have no key to verify against.
    await expect(withSecret(await issuer.mintToken(claims()))).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('RFC 8725 §3.1: refuses "none" and HS* without a secret at configuration time', () => {
    const base = { issuer: issuer.issuer, audience: RESOURCE, jwksUri: issuer.jwksUri };
    expect(() => jwtVerifier({ ...base, algorithms: ['ES256', 'none'] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => jwtVerifier({ ...base, algorithms: ['HS256'] })).toThrow(/secret/);
    expect(() =>
      jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, secret: 'short' }),
    ).toThrow(/32 bytes/);
    // Neither keys nor a secret: the JWKS is discovered from the issuer (test/discovery.test.ts).
    expect(jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE })).toBeTypeOf('function');
    expect(() => jwtVerifier({ ...base, audience: 'not a url' })).toThrow(TypeError);
    expect(() => jwtVerifier({ ...base, key: { kty: 'oct', k: 'abc' } })).toThrow(TypeError);
  });

  it('RFC 7515 §4.1.4: a single public key works without a JWKS', async () => {
    const verify = jwtVerifier({
      issuer: issuer.issuer,
      audience: RESOURCE,
      key: issuer.publicJwk,
    });
    expect((await verify(await issuer.mintToken(claims()))).clientId).toBe('app');
  });

  describe('a configured key is imported once and then used as it is', () => {
    const verifierWith = (key: JsonWebKey | CryptoKey, extra: Record<string, unknown> = {}) =>
      jwtVerifier({
        issuer: issuer.issuer,
        audience: RESOURCE,
        key: key as CryptoKey,
        cache: false,
        ...extra,
      });

    it('RFC 7517: a JWK with or without alg, and a CryptoKey, verify the same tokens, many times', async () => {
      const { alg: _alg, ...withoutAlg } = issuer.publicJwk;
      const cryptoKey = await importJWK(issuer.publicJwk, 'ES256');
      for (const key of [issuer.publicJwk, withoutAlg, cryptoKey]) {
        const verify = verifierWith(key as JsonWebKey);
        // Concurrently first (one import shared), then again from the imported key.
        const tokens = await Promise.all([1, 2, 3].map((i) => issuer.mintToken(claims({ n: i }))));
        const first = await Promise.all(tokens.map((token) => verify(token)));
        expect(first.map((info) => info.userId)).toEqual(['alice', 'alice', 'alice']);
        for (const token of tokens) expect((await verify(token)).clientId).toBe('app');
        // A tampered token is still refused once the key is imported.
        const [head, payload] = tokens[0]!.split('.');
        const forged = `${head}.${payload}.${tokens[1]!.split('.')[2]}`;
        await expect(verify(forged)).rejects.toMatchObject({ code: 'invalid_token' });
      }
    });

    it('RFC 7517 §4.2-4.4: a JWK for encryption, for signing only, or for another alg refuses the token (401, not 500)', async () => {
      const token = await issuer.mintToken(claims());
      for (const key of [
        { ...issuer.publicJwk, use: 'enc' },
        { ...issuer.publicJwk, key_ops: ['sign'] },
        { ...issuer.publicJwk, alg: 'ES384' },
      ]) {
        const verify = verifierWith(key as JsonWebKey);
        for (let i = 0; i < 2; i++) {
          await expect(verify(token), JSON.stringify(key)).rejects.toBeInstanceOf(
            InvalidTokenError,
          );
        }
      }
    });

    it('RFC 8725 §3.1: a key and a secret side by side each verify their own family', async () => {
      const secret = crypto.getRandomValues(new Uint8Array(32));
      for (const key of [issuer.publicJwk, await importJWK(issuer.publicJwk, 'ES256')]) {
        const verify = verifierWith(key as JsonWebKey, {
          secret,
          algorithms: ['ES256', 'HS256'],
        });
        expect((await verify(await issuer.mintToken(claims()))).userId).toBe('alice');
        const hmac = await issuer.mintToken(claims(), { alg: 'HS256', secret });
        expect((await verify(hmac)).userId).toBe('alice');
        const other = crypto.getRandomValues(new Uint8Array(32));
        await expect(
          verify(await issuer.mintToken(claims(), { alg: 'HS256', secret: other })),
        ).rejects.toBeInstanceOf(InvalidTokenError);
      }
    });

    it('RFC 9068 §4: a typ that is not a string is refused as an invalid token', async () => {
      const token = await issuer.mintToken(claims(), { header: { typ: 42 } });
      await expect(verifierWith(issuer.publicJwk)(token)).rejects.toBeInstanceOf(InvalidTokenError);
    });
  });

  it('RFC 9068 §4: requireAccessTokenType refuses a plain JWT', async () => {
    const verify = jwtVerifier({
      issuer: issuer.issuer,
      audience: RESOURCE,
      jwksUri: issuer.jwksUri,
      requireAccessTokenType: true,
    });
    await expect(
      verify(await issuer.mintToken(claims(), { header: { typ: 'JWT' } })),
    ).rejects.toBeInstanceOf(InvalidTokenError);
    expect((await verify(await issuer.mintToken(claims()))).userId).toBe('alice');
  });

  describe("profile: 'rfc9068' (RFC 9068 §4 in full) beside the tolerant default", () => {
    const strict = () =>
      jwtVerifier({
        issuer: issuer.issuer,
        audience: RESOURCE,
        jwksUri: issuer.jwksUri,
        profile: 'rfc9068',
        cache: false,
      });
    const tolerant = () =>
      jwtVerifier({
        issuer: issuer.issuer,
        audience: RESOURCE,
        jwksUri: issuer.jwksUri,
        cache: false,
      });
    const now = () => Math.floor(Date.now() / 1000);
    const tokens = {
      'typ JWT': () => issuer.mintToken(claims(), { header: { typ: 'JWT' } }),
      'no typ': () => issuer.mintToken(claims(), { header: { typ: undefined } }),
      'no sub': () => issuer.mintToken(claims({ sub: undefined })),
      'no client_id': () => issuer.mintToken(claims({ client_id: undefined, azp: 'app' })),
      'no iat': () => issuer.mintToken(claims({ iat: undefined })),
      'iat an hour in the future': () => issuer.mintToken(claims({ iat: now() + 3600 })),
    };

    for (const [name, mint] of Object.entries(tokens)) {
      it(`RFC 9068 §4: refuses a token with ${name}; the tolerant default accepts it`, async () => {
        const token = await mint();
        await expect(strict()(token)).rejects.toBeInstanceOf(InvalidTokenError);
        expect((await tolerant()(token)).clientId).toBe('app');
      });
    }

    it('RFC 9068 §4: accepts what an RFC 9068 server issues, iat within the clock tolerance', async () => {
      const verify = strict();
      expect((await verify(await issuer.mintToken(claims()))).userId).toBe('alice');
      expect((await verify(await issuer.mintToken(claims({ iat: now() + 3 })))).userId).toBe(
        'alice',
      );
    });

    it('names the unknown profile', () => {
      expect(() =>
        jwtVerifier({
          issuer: issuer.issuer,
          audience: RESOURCE,
          jwksUri: issuer.jwksUri,
          profile: 'strict' as 'rfc9068',
        }),
      ).toThrow(/profile/);
    });
  });

  it('RFC 7519 §4.1.4: a small clock tolerance, no more', async () => {
    const verify = jwtVerifier({
      issuer: issuer.issuer,
      audience: RESOURCE,
      jwksUri: issuer.jwksUri,
      cache: false,
    });
    expect((await verify(await issuer.mintToken(claims(), { expiresIn: -2 }))).userId).toBe(
      'alice',
    );
    await expect(verify(await issuer.mintToken(claims(), { expiresIn: -30 }))).rejects.toThrow(
      /expired/,
    );
  });

  it('RFC 7517 §4.5: the JWKS is fetched once; an unknown kid refetches once, then cools down', async () => {
    const local = await createTestIssuer();
    try {
      const verify = jwtVerifier({
        issuer: local.issuer,
        audience: RESOURCE,
        jwksUri: local.jwksUri,
        cache: false,
      });
      for (let i = 0; i < 3; i++) await verify(await local.mintToken(claims()));
      expect(local.jwksRequests).toBe(1);
      // A flood of unknown kids inside the cooldown does not hammer the issuer.
      for (let i = 0; i < 5; i++) {
        await expect(
          verify(await local.mintToken(claims(), { header: { kid: `bogus-${i}` } })),
        ).rejects.toBeInstanceOf(InvalidTokenError);
      }
      expect(local.jwksRequests).toBe(1);
      const fast = jwtVerifier({
        issuer: local.issuer,
        audience: RESOURCE,
        jwksUri: local.jwksUri,
        jwks: { cooldownMs: 0 },
      });
      await fast(await local.mintToken(claims()));
      const before = local.jwksRequests;
      await local.rotateKey({ dropPrevious: true });
      expect((await fast(await local.mintToken(claims()))).userId).toBe('alice');
      expect(local.jwksRequests).toBe(before + 1);
    } finally {
      await local.close();
    }
  });

  it('an unreachable JWKS is VerifierUnavailableError (503), not invalid_token', async () => {
    const local = await createTestIssuer();
    const token = await local.mintToken(claims());
    const verify = jwtVerifier({
      issuer: local.issuer,
      audience: RESOURCE,
      jwksUri: local.jwksUri,
    });
    await local.close();
    await expect(verify(token)).rejects.toBeInstanceOf(VerifierUnavailableError);
  });

  it('the built-in cache verifies a token once and reuses it until exp', async () => {
    const local = await createTestIssuer();
    try {
      const fetchSpy = vi.fn(fetch);
      const verify = jwtVerifier({
        issuer: local.issuer,
        audience: RESOURCE,
        jwksUri: local.jwksUri,
        jwks: { fetch: fetchSpy },
      });
      const token = await local.mintToken(claims());
      const first = await verify(token);
      const second = await verify(token);
      expect(second).toEqual(first);
      expect(second.token).toBe(token);
      expect(fetchSpy).toHaveBeenCalledTimes(1);
      // A different token with the same claims is verified on its own.
      await verify(await local.mintToken(claims()));
      await expect(verify(`${token.slice(0, -2)}AA`)).rejects.toBeInstanceOf(InvalidTokenError);
    } finally {
      await local.close();
    }
  });
});

describe('cachedVerifier', () => {
  const info = (token: string, expiresAt?: number) => ({
    token,
    clientId: 'c',
    scopes: ['read'],
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });

  it('is keyed by the token: each token verified once; failures are not cached', async () => {
    let now = 1_000_000;
    const inner = vi.fn(async (token: string) => {
      if (token === 'bad') throw new InvalidTokenError('bad');
      return info(token, now / 1000 + 3600);
    });
    const verify = cachedVerifier(inner, { now: () => now });
    await verify('a');
    await verify('a');
    await verify('b');
    expect(inner).toHaveBeenCalledTimes(2);
    await expect(verify('bad')).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verify('bad')).rejects.toBeInstanceOf(InvalidTokenError);
    expect(inner).toHaveBeenCalledTimes(4);
    now += 301_000; // past the default 300 s ttl
    await verify('a');
    expect(inner).toHaveBeenCalledTimes(5);
  });

  it('an entry never outlives the token exp', async () => {
    let now = 1_000_000;
    const inner = vi.fn(async (token: string) => info(token, now / 1000 + 10));
    const verify = cachedVerifier(inner, { now: () => now, ttlSeconds: 3600 });
    await verify('a');
    now += 9_000;
    await verify('a');
    expect(inner).toHaveBeenCalledTimes(1);
    now += 2_000;
    await verify('a');
    expect(inner).toHaveBeenCalledTimes(2);
  });

  it('is bounded: the least recently used entry is evicted first', async () => {
    const inner = vi.fn(async (token: string) => info(token));
    const verify = cachedVerifier(inner, { maxEntries: 2 });
    await verify('a');
    await verify('b');
    await verify('a'); // a is now the most recent
    await verify('c'); // evicts b
    expect(inner).toHaveBeenCalledTimes(3);
    await verify('a');
    expect(inner).toHaveBeenCalledTimes(3);
    await verify('b');
    expect(inner).toHaveBeenCalledTimes(4);
  });

  it('bounded: an entry used since it came in outlives one that was not; when all were, the oldest goes', async () => {
    const inner = vi.fn(async (token: string) => info(token));
    const verify = cachedVerifier(inner, { maxEntries: 3 });
    for (const token of ['a', 'b', 'c']) await verify(token);
    await verify('a');
    await verify('b');
    await verify('d'); // c was never used again: it goes, not the older a
    expect(inner).toHaveBeenCalledTimes(4);
    for (const token of ['a', 'b', 'd']) await verify(token);
    expect(inner).toHaveBeenCalledTimes(4);
    // Now a, b and d (their order in line) were all used: each gets a second chance, then the
    // one longest in line (a) goes, never the new entry.
    await verify('e');
    expect(inner).toHaveBeenCalledTimes(5);
    for (const token of ['b', 'd', 'e']) await verify(token);
    expect(inner).toHaveBeenCalledTimes(5);
    await verify('a');
    expect(inner).toHaveBeenCalledTimes(6);
  });

  it('concurrent verifications of one token share one call; a hit returns a fresh copy', async () => {
    const inner = vi.fn(async (token: string) => info(token));
    const verify = cachedVerifier(inner);
    const results = await Promise.all([verify('t'), verify('t'), verify('t')]);
    expect(inner).toHaveBeenCalledTimes(1);
    expect(results.every((r) => r.token === 't')).toBe(true);
    (await verify('t')).scopes.push('admin');
    expect((await verify('t')).scopes).toEqual(['read']);
    // The first verification's own result is the caller's to change, not the cache's.
    (await verify('u')).scopes.push('admin');
    expect((await verify('u')).scopes).toEqual(['read']);
  });

  it('RFC 6750 §2.1: keeps only b64tokens; anything else is verified every time', async () => {
    const inner = vi.fn(async (token: string) => info(token));
    const verify = cachedVerifier(inner);
    for (const token of ['a b', 'a=b', '"tok"', 'tök']) {
      await verify(token);
      await verify(token);
    }
    expect(inner).toHaveBeenCalledTimes(8);
    await verify('abc.DEF-_~+/==');
    await verify('abc.DEF-_~+/==');
    expect(inner).toHaveBeenCalledTimes(9);
  });

  it("rejects a caller's mistakes with coded TypeErrors", () => {
    expect(() => cachedVerifier('x' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => cachedVerifier(async () => info('x'), { maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});

describe('bearerAuth with a cachedVerifier: a token verified before is let through at once', () => {
  /** One request through the middleware: whether next() ran before the middleware returned. */
  const call = (auth: ReturnType<typeof bearerAuth>, token: string, body: unknown = {}) => {
    const req = {
      method: 'POST',
      url: '/mcp',
      headers: { host: '127.0.0.1:8000', authorization: `Bearer ${token}` },
      body,
    } as unknown as NodeRequest;
    const res = { statusCode: 200, setHeader: () => {}, end: vi.fn() };
    const seen = { next: false, error: undefined as unknown };
    const done = auth(req, res as unknown as ServerResponse, (error) => {
      seen.next = true;
      seen.error = error;
    });
    return { req, res, passedAtOnce: seen.next, seen, done };
  };

  it('a hit passes before bearerAuth returns, as a fresh copy; a miss or an expired entry is verified again', async () => {
    let now = 1_000_000;
    const inner = vi.fn(async (token: string) => ({
      token,
      clientId: 'c',
      scopes: ['read'],
      expiresAt: Date.now() / 1000 + 3600, // the guard's expiry check reads the real clock
    }));
    const auth = bearerAuth({
      verifier: cachedVerifier(inner, { now: () => now }),
      resource: RESOURCE,
    });
    const first = call(auth, 'tok');
    expect(first.passedAtOnce).toBe(false); // verified for the first time: awaited
    await first.done;
    expect(first.seen).toEqual({ next: true, error: undefined });
    first.req.auth?.scopes.push('admin');

    const second = call(auth, 'tok');
    expect(second.passedAtOnce).toBe(true);
    expect(second.req.auth).toMatchObject({ token: 'tok', scopes: ['read'] });
    expect(second.req.auth).not.toBe(first.req.auth);
    expect(inner).toHaveBeenCalledTimes(1);

    expect(call(auth, 'other').passedAtOnce).toBe(false);
    now += 301_000; // past the cache's 300 s: the token is checked again
    const third = call(auth, 'tok');
    expect(third.passedAtOnce).toBe(false);
    await third.done;
    expect(inner).toHaveBeenCalledTimes(3);
  });

  it('RFC 6750 §3.1: a hit still meets the scope check (403 at once, next() not called)', async () => {
    const inner = vi.fn(async (token: string) => ({ token, clientId: 'c', scopes: ['read'] }));
    const auth = bearerAuth({
      verifier: cachedVerifier(inner),
      resource: RESOURCE,
      toolScopes: { secure_operation: ['admin'] },
    });
    await call(auth, 'tok').done;
    const refused = call(auth, 'tok', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'secure_operation', arguments: {} },
    });
    expect(refused.seen.next).toBe(false);
    expect(refused.res.statusCode).toBe(403);
    expect(refused.res.end).toHaveBeenCalledOnce();
    expect(inner).toHaveBeenCalledTimes(1);
  });

  it('RFC 6750 §2.1: a token that is not a b64token gets 400 at once, even one the verifier accepts', async () => {
    const inner = vi.fn(async (token: string) => ({ token, clientId: 'c', scopes: ['read'] }));
    const verifier = cachedVerifier(inner);
    const auth = bearerAuth({ verifier, resource: RESOURCE });
    // Verified directly (not through the guard): accepted, never remembered.
    await verifier('a=b');
    for (let i = 0; i < 2; i++) {
      const refused = call(auth, 'a=b');
      expect(refused.seen.next).toBe(false);
      expect(refused.res.statusCode).toBe(400);
    }
    expect(inner).toHaveBeenCalledTimes(1);
    // The cached copy of a well-formed token has its own resourceMetadataUrl, set by the guard.
    await call(auth, 'tok').done;
    const hit = call(auth, 'tok');
    expect(hit.passedAtOnce).toBe(true);
    expect(hit.req.auth?.resourceMetadataUrl).toBe(
      'http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp',
    );
  });
});

describe('staticTokenVerifier (the guide’s VALID_TOKENS)', () => {
  const verify = staticTokenVerifier({
    user123: { userId: '123', scopes: ['read', 'write'] },
    user456: { userId: '456', clientId: 'cli', scopes: ['read'] },
  });

  it('accepts exactly the configured tokens, with their user and scopes', async () => {
    expect(await verify('user123')).toEqual({
      token: 'user123',
      clientId: '123',
      userId: '123',
      scopes: ['read', 'write'],
    });
    expect(await verify('user456')).toMatchObject({
      clientId: 'cli',
      userId: '456',
      scopes: ['read'],
    });
    for (const bad of ['user12', 'user1234', 'USER123', '', 'user456 ']) {
      await expect(verify(bad)).rejects.toBeInstanceOf(InvalidTokenError);
    }
  });

  it('returns copies: a tool cannot widen a token’s scopes for later requests', async () => {
    (await verify('user456')).scopes.push('admin');
    expect((await verify('user456')).scopes).toEqual(['read']);
  });

  it("rejects a caller's mistakes with coded TypeErrors", () => {
    expect(() => staticTokenVerifier({ t: { userId: 1 as never, scopes: [] } })).toThrow(TypeError);
    expect(() => staticTokenVerifier({ t: { userId: 'u', scopes: 'read' as never } })).toThrow(
      TypeError,
    );
  });
});

describe('introspectionVerifier (RFC 7662)', () => {
  let server: Server;
  let endpoint: string;
  const seen: { authorization?: string; contentType?: string; body: string; url: string }[] = [];
  const active = new Map<string, Record<string, unknown>>();
  let failWith: number | undefined;

  async function read(req: IncomingMessage) {
    let body = '';
    for await (const chunk of req) body += chunk;
    return body;
  }

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const body = await read(req);
      seen.push({
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
        url: req.url ?? '',
      });
      if (failWith) {
        res.writeHead(failWith).end();
        return;
      }
      // RFC 7662 §2.1: the protected resource authenticates (client_secret_basic here).
      const expected = `Basic ${Buffer.from('rs%3A1:s3cr%26t').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res
          .writeHead(401, { 'Content-Type': 'application/json' })
          .end('{"error":"invalid_client"}');
        return;
      }
      const token = new URLSearchParams(body).get('token') ?? '';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(active.get(token) ?? { active: false }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const make = (options: Partial<Parameters<typeof introspectionVerifier>[0]> = {}) =>
    introspectionVerifier({
      endpoint,
      clientId: 'rs:1',
      clientSecret: 's3cr&t',
      audience: RESOURCE,
      ...options,
    });

  it('RFC 7662 §2.1–2.2: posts the token in a form body with Basic auth; maps an active response', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    active.set('opaque-1', {
      active: true,
      client_id: 'app',
      sub: 'alice',
      scope: 'read write',
      exp,
      aud: RESOURCE,
      iss: 'http://as',
    });
    seen.length = 0;
    const info = await make()('opaque-1');
    expect(info).toMatchObject({
      token: 'opaque-1',
      clientId: 'app',
      userId: 'alice',
      scopes: ['read', 'write'],
      expiresAt: exp,
    });
    expect(info.resource?.href).toBe(RESOURCE);
    expect(seen[0]?.contentType).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(seen[0]?.body).get('token')).toBe('opaque-1');
    expect(seen[0]?.url).toBe('/introspect');
  });

  it('RFC 7662 §2.2: inactive, expired, refresh or foreign-audience tokens are invalid_token', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    active.set('expired', { active: true, client_id: 'a', exp: 1000, aud: RESOURCE });
    active.set('refresh', {
      active: true,
      client_id: 'a',
      exp,
      aud: RESOURCE,
      token_type: 'refresh_token',
    });
    active.set('foreign', { active: true, client_id: 'a', exp, aud: 'http://other/mcp' });
    active.set('truthy', { active: 'true', client_id: 'a', exp, aud: RESOURCE });
    active.set('other-iss', {
      active: true,
      client_id: 'a',
      exp,
      aud: RESOURCE,
      iss: 'http://evil',
    });
    const verify = make({ issuer: 'http://as' });
    for (const token of ['unknown', 'expired', 'refresh', 'foreign', 'truthy', 'other-iss']) {
      await expect(verify(token), token).rejects.toBeInstanceOf(InvalidTokenError);
    }
  });

  it('a failing or unreachable endpoint, or wrong client credentials, is VerifierUnavailableError', async () => {
    await expect(make({ clientSecret: 'wrong' })('opaque-1')).rejects.toBeInstanceOf(
      VerifierUnavailableError,
    );
    failWith = 500;
    try {
      await expect(make()('opaque-1')).rejects.toBeInstanceOf(VerifierUnavailableError);
    } finally {
      failWith = undefined;
    }
    const down = introspectionVerifier({
      endpoint: 'http://127.0.0.1:1/introspect',
      clientId: 'a',
      clientSecret: 'b',
    });
    await expect(down('x')).rejects.toBeInstanceOf(VerifierUnavailableError);
  });
});

describe('tokenStoreVerifier (@portcullis/token-store)', () => {
  let store: TokenStore;
  beforeAll(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    store = createTokenStore({ adapter: memoryAdapter() });
  });
  afterAll(async () => {
    await store.close();
    vi.restoreAllMocks();
  });

  it('accepts an issued opaque token, and refuses it once revoked', async () => {
    const { token } = await store.accessTokens.issue({
      clientId: 'app',
      userId: 'alice',
      scopes: ['read'],
      resource: RESOURCE,
      familyId: 'fam-1',
    });
    const verify = tokenStoreVerifier(store, { resource: RESOURCE });
    const info = await verify(token);
    expect(info).toMatchObject({ token, clientId: 'app', userId: 'alice', scopes: ['read'] });
    expect(info.resource?.href).toBe(RESOURCE);
    expect(info.expiresAt).toBeGreaterThan(Date.now() / 1000);
    await store.accessTokens.revoke(token);
    await expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verify('never-issued')).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('RFC 8707: a token issued for another resource is refused', async () => {
    const { token } = await store.accessTokens.issue({
      clientId: 'app',
      userId: 'alice',
      scopes: ['read'],
      resource: 'http://other/mcp',
      familyId: 'fam-2',
    });
    await expect(tokenStoreVerifier(store, { resource: RESOURCE })(token)).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('an expired token is refused', async () => {
    let now = Date.now();
    const timed = createTokenStore({ adapter: memoryAdapter(), now: () => now });
    const { token } = await timed.accessTokens.issue(
      { clientId: 'app', userId: 'alice', scopes: ['read'], familyId: 'f' },
      { ttlSeconds: 60 },
    );
    const verify = tokenStoreVerifier(timed);
    expect((await verify(token)).userId).toBe('alice');
    now += 61_000;
    await expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
    await timed.close();
  });

  it('a store failure is VerifierUnavailableError (503), not invalid_token', async () => {
    const broken = {
      accessTokens: {
        find: async () => {
          throw new StoreUnavailableError('down');
        },
      },
    };
    await expect(tokenStoreVerifier(broken)('x')).rejects.toBeInstanceOf(VerifierUnavailableError);
  });
});
