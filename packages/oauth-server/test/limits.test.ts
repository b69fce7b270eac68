import { slidingWindow } from '@portcullis/rate-limit';
import { describe, expect, it } from 'vitest';
import {
  authorizeParams,
  exchange,
  form,
  ISSUER,
  listen,
  publicClient,
  REDIRECT,
  register,
  setup,
} from './support/setup.js';

describe('request size limits', () => {
  it('RFC 6749 §3.2: a token request over the size limit (declared) is 413 invalid_request, never 500', async () => {
    const { as } = await setup({ maxBodyBytes: 1024 });
    const response = (await as.handle(
      form('/token', { grant_type: 'refresh_token', refresh_token: 'x'.repeat(5000) }),
    ))!;
    expect(response.status).toBe(413);
    expect((await response.json()).error).toBe('invalid_request');
  });

  it('a streamed body without Content-Length is cut off at the limit (413) on token, revoke and introspect', async () => {
    const { as } = await setup({ maxBodyBytes: 1024 });
    for (const path of ['/token', '/revoke', '/introspect']) {
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 512;
          if (pulled > 1_000_000) controller.close();
          else controller.enqueue(new TextEncoder().encode('a'.repeat(512)));
        },
      });
      const response = (await as.handle(
        new Request(ISSUER + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body,
          duplex: 'half',
        } as RequestInit),
      ))!;
      expect(response.status, path).toBe(413);
      expect(pulled, path).toBeLessThan(10_000);
    }
  });

  it('RFC 7591 §3: an oversized registration (over real HTTP) is 413', async () => {
    const { as } = await setup({ maxBodyBytes: 2048 });
    const http = await listen((r) => as.handle(r));
    try {
      const response = await fetch(`${http.origin}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(1_000_000) }),
      });
      expect(response.status).toBe(413);
      expect((await response.json()).error).toBe('invalid_request');
    } finally {
      await http.close();
    }
  });

  it('a wrong Content-Type on the token endpoint is 415 invalid_request', async () => {
    const { as } = await setup();
    const response = (await as.handle(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      }),
    ))!;
    expect(response.status).toBe(415);
    expect((await response.json()).error).toBe('invalid_request');
  });
});

describe('rate limits', () => {
  it('token: per client, 429 too_many_requests with Retry-After and RateLimit headers', async () => {
    const { as } = await setup({
      rateLimit: { token: { perClient: slidingWindow(2, 60), perIp: false } },
    });
    const clientId = await publicClient(as);
    const call = () =>
      exchange(as, {
        grant_type: 'refresh_token',
        refresh_token: 'x'.repeat(43),
        client_id: clientId,
      });
    const first = await call();
    expect(first.response.headers.get('ratelimit')).toMatch(/r=1/);
    expect(first.response.headers.get('ratelimit-policy')).toBeTruthy();
    await call();
    const third = await call();
    expect(third.response.status).toBe(429);
    expect(third.body.error).toBe('too_many_requests');
    expect(Number(third.response.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client is not affected.
    const other = await publicClient(as);
    const fourth = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: 'x'.repeat(43),
      client_id: other,
    });
    expect(fourth.response.status).toBe(400);
  });

  it('token: per IP from getClientIp', async () => {
    const { as } = await setup({
      rateLimit: { token: { perIp: slidingWindow(1, 60), perClient: false } },
      getClientIp: (r) => r.headers.get('x-test-ip') ?? undefined,
    });
    const call = (ip: string) =>
      as.handle(form('/token', { grant_type: 'x' }, { 'x-test-ip': ip }));
    expect((await call('1.1.1.1'))!.status).toBe(400);
    expect((await call('1.1.1.1'))!.status).toBe(429);
    expect((await call('2.2.2.2'))!.status).toBe(400);
  });

  it('trustProxy: the first X-Forwarded-For hop is the IP; without trustProxy no per-IP limit applies', async () => {
    const limits = { register: { perIp: slidingWindow(1, 3600) } };
    const trusting = await setup({ rateLimit: limits, trustProxy: true });
    const req = (ip: string) => ({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      _ip: ip,
    });
    const post = (as: typeof trusting.as, ip: string) =>
      as.handle(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': `${ip}, 10.0.0.1` },
          body: JSON.stringify(req(ip)),
        }),
      );
    expect((await post(trusting.as, '9.9.9.9'))!.status).toBe(201);
    expect((await post(trusting.as, '9.9.9.9'))!.status).toBe(429);
    expect((await post(trusting.as, '8.8.8.8'))!.status).toBe(201);
    const untrusting = await setup({ rateLimit: limits });
    for (let i = 0; i < 3; i++) expect((await post(untrusting.as, '9.9.9.9'))!.status).toBe(201);
  });

  it('authorize: over the limit the error is shown (429), not redirected', async () => {
    const { as } = await setup({ rateLimit: { authorize: { perClient: slidingWindow(1, 60) } } });
    const clientId = await publicClient(as);
    const params = authorizeParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    expect((await as.authorization.parse(params)).ok).toBe(true);
    const second = await as.authorization.parse(params);
    expect(second.ok).toBe(false);
    if (!second.ok) {
      expect(second.response.status).toBe(429);
      expect(second.response.headers.get('location')).toBeNull();
      expect(second.response.headers.get('retry-after')).toBeTruthy();
    }
  });

  it('rate limits are on by default (memory store)', async () => {
    const { as } = await setup({ rateLimit: undefined });
    const { response } = await register(as, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
    });
    expect(response.status).toBe(201);
    const clientId = await publicClient(as);
    const { response: token } = await exchange(as, {
      grant_type: 'refresh_token',
      refresh_token: 'x'.repeat(43),
      client_id: clientId,
    });
    expect(token.headers.get('ratelimit')).toBeTruthy();
  });
});
