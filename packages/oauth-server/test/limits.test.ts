import { createPkcePair } from '@portcullis/pkce';
import { slidingWindow } from '@portcullis/rate-limit';
import { describe, expect, it } from 'vitest';
import {
  authorizeParams,
  basic,
  confidentialClient,
  exchange,
  form,
  ISSUER,
  listen,
  obtainCode,
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
  it('token: per authenticated client, 429 too_many_requests with Retry-After and RateLimit headers', async () => {
    const { as } = await setup({
      rateLimit: { token: { perClient: slidingWindow(2, 60), perIp: false } },
    });
    const { clientId, secret } = await confidentialClient(as);
    const call = (id = clientId, password = secret) =>
      exchange(
        as,
        { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) },
        basic(id, password),
      );
    // Failed authentication is not counted against the client.
    for (let i = 0; i < 5; i++) expect((await call(clientId, 'wrong')).response.status).toBe(401);
    const first = await call();
    expect(first.response.headers.get('ratelimit')).toMatch(/r=1/);
    expect(first.response.headers.get('ratelimit-policy')).toBeTruthy();
    await call();
    const third = await call();
    expect(third.response.status).toBe(429);
    expect(third.body.error).toBe('too_many_requests');
    expect(Number(third.response.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client is not affected.
    const other = await confidentialClient(as);
    expect((await call(other.clientId, other.secret)).response.status).toBe(400);
  });

  it('token: a public client is limited per client × caller address, never deployment-wide', async () => {
    const { as } = await setup({
      rateLimit: { token: { perClient: slidingWindow(2, 60), perIp: false } },
      getClientIp: (r) => r.headers.get('x-test-ip') ?? undefined,
    });
    const clientId = await publicClient(as);
    const call = (ip: string) =>
      exchange(
        as,
        { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: clientId },
        { 'x-test-ip': ip },
      );
    await call('6.6.6.6');
    await call('6.6.6.6');
    expect((await call('6.6.6.6')).response.status).toBe(429);
    expect((await call('7.7.7.7')).response.status).toBe(400);
  });

  it('while an attacker floods /token and /authorize naming a public client, 200 sign-ins and code exchanges of it from other addresses all succeed', async () => {
    const { as } = await setup({
      rateLimit: {},
      getClientIp: (r) => r.headers.get('x-test-ip') ?? undefined,
      interaction: () => new Response(null, { status: 204 }),
    });
    const clientId = await publicClient(as);
    const authorizeUrl = (challenge: string) =>
      `${ISSUER}/authorize?${authorizeParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })}`;
    const attacker = { 'x-test-ip': '6.6.6.6' };
    const flood = async () => {
      for (let i = 0; i < 150; i++) {
        await exchange(
          as,
          {
            grant_type: 'authorization_code',
            code: 'x'.repeat(43),
            code_verifier: 'y'.repeat(43),
            client_id: clientId,
          },
          attacker,
        );
        await as.handle(
          new Request(authorizeUrl('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'), {
            headers: attacker,
          }),
        );
      }
    };
    const signIn = async (n: number) => {
      const ip = { 'x-test-ip': `10.1.${n >> 8}.${n & 255}` };
      const pkce = await createPkcePair();
      const request = new Request(authorizeUrl(pkce.codeChallenge), { headers: ip });
      const parsed = await as.authorization.parse(new URL(request.url).searchParams, { request });
      if (!parsed.ok) return parsed.response.status;
      const code = new URL(
        (await parsed.pending.approve(`user-${n}`)).headers.get('location')!,
      ).searchParams.get('code')!;
      const { response } = await exchange(
        as,
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: pkce.codeVerifier,
          redirect_uri: REDIRECT,
          client_id: clientId,
        },
        ip,
      );
      return response.status;
    };
    const [, statuses] = await Promise.all([
      flood(),
      Promise.all(Array.from({ length: 200 }, (_, n) => signIn(n))),
    ]);
    expect(statuses).toEqual(Array(200).fill(200));
    // The attacker's own address is limited.
    const blocked = await exchange(
      as,
      { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: clientId },
      attacker,
    );
    expect(blocked.response.status).toBe(429);
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

  it('getClientIp is asked once per request, however many limits and audit events need the address', async () => {
    const asked: Request[] = [];
    const { as } = await setup({
      getClientIp: (r) => {
        asked.push(r);
        return r.headers.get('x-test-ip') ?? undefined;
      },
      audit: () => {},
    });
    const ip = { 'x-test-ip': '4.4.4.4' };
    // /register: the per-address limit and the client.registered event.
    const registered = await as.handle(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...ip },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
      }),
    );
    expect(registered!.status).toBe(201);
    expect(asked).toHaveLength(1);
    // /token, a public client: the per-address limit, its per-client × address key, the event.
    const clientId = ((await registered!.json()) as { client_id: string }).client_id;
    const { code, verifier } = await obtainCode(as, clientId);
    asked.length = 0;
    const { response } = await exchange(
      as,
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      },
      ip,
    );
    expect(response.status).toBe(200);
    expect(asked).toHaveLength(1);
  });

  it('trustProxy reads X-Forwarded-For from the right (hops or proxy addresses); a spoofed first hop never helps; without it no per-IP limit applies', async () => {
    const limits = { register: { perIp: slidingWindow(1, 3600) } };
    const post = (as: Awaited<ReturnType<typeof setup>>['as'], forwardedFor: string) =>
      as.handle(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': forwardedFor },
          body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
        }),
      );
    for (const trustProxy of [true, 1, ['10.0.0.1']] as const) {
      const { as } = await setup({ rateLimit: limits, trustProxy: trustProxy as never });
      // The client writes "1.1.1.1, 2.2.2.2"; the one trusted proxy appends what it saw, 9.9.9.9.
      expect((await post(as, '1.1.1.1, 9.9.9.9'))!.status).toBe(201);
      expect((await post(as, '2.2.2.2, 9.9.9.9'))!.status).toBe(429);
      expect((await post(as, '8.8.8.8'))!.status).toBe(201);
    }
    const twoHops = await setup({ rateLimit: limits, trustProxy: ['10.0.0.1', '10.0.0.2'] });
    expect((await post(twoHops.as, '1.1.1.1, 9.9.9.9, 10.0.0.2'))!.status).toBe(201);
    expect((await post(twoHops.as, '5.5.5.5, 9.9.9.9, 10.0.0.2'))!.status).toBe(429);
    const untrusting = await setup({ rateLimit: limits });
    for (let i = 0; i < 3; i++) expect((await post(untrusting.as, '9.9.9.9'))!.status).toBe(201);
  });

  it('authorize: over the limit the error is shown (429), not redirected', async () => {
    const { as } = await setup({
      rateLimit: { authorize: { perClient: slidingWindow(1, 60) } },
      getClientIp: () => '3.3.3.3',
    });
    const clientId = await publicClient(as);
    const params = authorizeParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const request = new Request(`${ISSUER}/authorize?${params}`);
    expect((await as.authorization.parse(params, { request })).ok).toBe(true);
    const second = await as.authorization.parse(params, { request });
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
    const { clientId, secret } = await confidentialClient(as);
    const { response: token } = await exchange(
      as,
      { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) },
      basic(clientId, secret),
    );
    expect(token.headers.get('ratelimit')).toBeTruthy();
  });
});
