import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUserinfo } from '../src/userinfo.js';

// A stand-in authorization server for this one function (the whole flow against the real one
// is internal/e2e's mcp-sdk-client test): discovery and a userinfo endpoint whose answers the
// tests set.
let server: Server;
let issuer: string;
let requests: { path: string; authorization?: string }[];
let answer: { status: number; body: string };
let discovery: { status: number; body: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const reply = req.url === '/.well-known/openid-configuration' ? discovery : answer;
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  requests = [];
  discovery = { status: 200, body: JSON.stringify({ userinfo_endpoint: `${issuer}/userinfo` }) };
  answer = {
    status: 200,
    body: JSON.stringify({ sub: 'u_1', email: 'ada@example.com', name: 'Ada' }),
  };
});

const caller = (scopes = ['read', 'openid', 'email', 'profile'], userId = 'u_1') => ({
  token: 'tok-1',
  userId,
  scopes,
});

describe('createUserinfo (the template: user_profile’s email and name)', () => {
  it('asks the discovered userinfo endpoint with the caller’s token; keeps the answer per user', async () => {
    const userinfo = createUserinfo({ issuer });
    expect(await userinfo(caller())).toEqual({ email: 'ada@example.com', name: 'Ada' });
    expect(requests).toEqual([
      { path: '/.well-known/openid-configuration', authorization: undefined },
      { path: '/userinfo', authorization: 'Bearer tok-1' },
    ]);
    expect(await userinfo(caller())).toEqual({ email: 'ada@example.com', name: 'Ada' });
    expect(requests).toHaveLength(2);
  });

  it('asks nothing for a grant without openid', async () => {
    const userinfo = createUserinfo({ issuer });
    expect(await userinfo(caller(['read']))).toBeUndefined();
    expect(requests).toEqual([]);
  });

  it('ignores an answer about someone else (OpenID Connect Core §5.3.2)', async () => {
    answer = { status: 200, body: JSON.stringify({ sub: 'u_2', email: 'eve@example.com' }) };
    expect(await createUserinfo({ issuer })(caller())).toBeUndefined();
  });

  it('an error, a malformed or an oversized answer gives nothing, and is not kept', async () => {
    const userinfo = createUserinfo({ issuer });
    for (const bad of [
      { status: 401, body: '{"error":"invalid_token"}' },
      { status: 200, body: 'not json' },
      { status: 200, body: JSON.stringify({ sub: 'u_1', name: 'x'.repeat(70_000) }) },
    ]) {
      answer = bad;
      expect(await userinfo(caller())).toBeUndefined();
    }
    answer = { status: 200, body: JSON.stringify({ sub: 'u_1', name: 'Ada' }) };
    expect(await userinfo(caller())).toEqual({ name: 'Ada' });
  });

  it('discovery that fails is tried again on the next call', async () => {
    discovery = { status: 503, body: '' };
    const userinfo = createUserinfo({ issuer });
    expect(await userinfo(caller())).toBeUndefined();
    discovery = { status: 200, body: JSON.stringify({ userinfo_endpoint: `${issuer}/userinfo` }) };
    expect(await userinfo(caller())).toEqual({ email: 'ada@example.com', name: 'Ada' });
  });

  it('keeps at most maxEntries users, and a user’s claims only for ttlMs', async () => {
    const userinfo = createUserinfo({ issuer, maxEntries: 2, ttlMs: 50 });
    for (const id of ['u_1', 'u_2', 'u_3']) {
      answer = { status: 200, body: JSON.stringify({ sub: id, name: id }) };
      expect(await userinfo(caller(undefined, id))).toEqual({ name: id });
    }
    const asked = requests.length;
    answer = { status: 200, body: JSON.stringify({ sub: 'u_1', name: 'u_1 again' }) };
    expect(await userinfo(caller(undefined, 'u_1'))).toEqual({ name: 'u_1 again' }); // evicted
    expect(requests.length).toBe(asked + 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    answer = { status: 200, body: JSON.stringify({ sub: 'u_1', name: 'later' }) };
    expect(await userinfo(caller(undefined, 'u_1'))).toEqual({ name: 'later' }); // expired
  });
});
