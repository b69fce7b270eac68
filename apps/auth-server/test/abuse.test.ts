import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AUTH_DIR,
  type AuthServer,
  CookieJar,
  cleanEnv,
  devLogin,
  freePort,
  spawnGroup,
  tempDir,
  waitFor,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_RESOURCE, startApp } from './helpers/app';

/** This machine's first non-loopback IPv4 address: a "remote" caller for listening checks. */
function externalAddress(): string {
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) return entry.address;
    }
  }
  throw new Error('this machine has no non-loopback IPv4 address to test listening against');
}

function register(url: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      redirect_uris: ['http://127.0.0.1:9/callback'],
      token_endpoint_auth_method: 'none',
      client_name: 'Abuse Test',
    }),
  });
}

/** Registers until the first 429 (at most `max` tries); returns how many got 201 before it. */
async function registerUntilLimited(url: string, headers: () => Record<string, string>, max = 200) {
  for (let i = 0; i < max; i++) {
    const response = await register(url, headers());
    if (response.status === 429) {
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      return i;
    }
    expect(response.status).toBe(201);
  }
  throw new Error(`no 429 after ${max} registrations from one caller`);
}

/** A token request from an unknown client (401), counted by the per-address limit first. */
function token(url: string, headers: Record<string, string> = {}) {
  return fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: 'grant_type=refresh_token&refresh_token=nothing&client_id=nobody',
  });
}

/** Token requests until the first 429 (at most `max`); returns how many were answered before it. */
async function tokenUntilLimited(url: string, headers: () => Record<string, string>, max = 400) {
  for (let i = 0; i < max; i++) {
    const response = await token(url, headers());
    if (response.status === 429) {
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      return i;
    }
    expect(response.status).toBe(401);
  }
  throw new Error(`no 429 after ${max} token requests from one caller`);
}

let n = 0;
const forged = () => `198.51.${Math.floor(n / 250) % 250}.${n++ % 250}`;

/** Connects to host:port and sends one request; resolves the status line, or the socket error. */
function rawStatus(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = '';
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('connect', () => socket.write(`GET /login HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.split('\r\n')[0]!);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.on('close', () => resolve(data.split('\r\n')[0] || 'closed'));
  });
}

describe('issue 13 item 2: per-address limits are on by default and cannot be dodged', () => {
  let app: AuthServer;
  let proxied: AuthServer;
  beforeAll(async () => {
    [app, proxied] = await Promise.all([startApp(), startApp({ env: { TRUST_PROXY: '1' } })]);
  });
  afterAll(async () => {
    await Promise.all([app?.close(), proxied?.close()]);
  });

  it('without TRUST_PROXY the socket address counts: a forged X-Forwarded-For does not help', async () => {
    const allowed = await registerUntilLimited(app.url, () => ({ 'x-forwarded-for': forged() }));
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(200);
    // Still limited whatever it claims next.
    for (const claim of ['203.0.113.1', '10.0.0.1, 203.0.113.2', '::1']) {
      expect((await register(app.url, { 'x-forwarded-for': claim })).status).toBe(429);
    }
  });

  it('TRUST_PROXY=1: the address the proxy appended counts, never the client-written first hop', async () => {
    const caller = '203.0.113.7';
    const allowed = await registerUntilLimited(proxied.url, () => ({
      'x-forwarded-for': `${forged()}, ${caller}`,
    }));
    expect(allowed).toBeGreaterThan(0);
    expect(
      (await register(proxied.url, { 'x-forwarded-for': `${forged()}, ${caller}` })).status,
    ).toBe(429);
    // Another caller behind the same proxy has its own budget.
    expect((await register(proxied.url, { 'x-forwarded-for': '203.0.113.8' })).status).toBe(201);
  });

  // /token is answered next to Next.js (src/lib/token-endpoint.ts): the same limits apply.
  it('the token endpoint: the socket address counts without TRUST_PROXY, the appended one with it', async () => {
    const direct = await tokenUntilLimited(app.url, () => ({ 'x-forwarded-for': forged() }));
    expect(direct).toBeGreaterThan(0);
    expect((await token(app.url, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
    const caller = '203.0.113.9';
    const proxiedAllowed = await tokenUntilLimited(proxied.url, () => ({
      'x-forwarded-for': `${forged()}, ${caller}`,
    }));
    expect(proxiedAllowed).toBeGreaterThan(0);
    expect((await token(proxied.url, { 'x-forwarded-for': `${forged()}, ${caller}` })).status).toBe(
      429,
    );
    // Another caller behind the same proxy has its own budget.
    expect((await token(proxied.url, { 'x-forwarded-for': '203.0.113.10' })).status).toBe(401);
  });
});

describe('issue 13 item 6: the dev login never leaves loopback', () => {
  const external = externalAddress();
  const dirs: string[] = [];
  afterAll(async () => {
    const { rmSync } = await import('node:fs');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the app with `command` (no -H of ours) and waits until loopback answers. */
  async function start(args: string[], env: Record<string, string>) {
    const port = await freePort();
    const dataDir = tempDir('portcullis-listen-');
    dirs.push(dataDir);
    const spawned = spawnGroup(process.execPath, args, {
      cwd: AUTH_DIR,
      env: cleanEnv({
        MCP_RESOURCE_URL: MCP_RESOURCE,
        DATA_DIR: dataDir,
        PORT: String(port),
        ...env,
      }),
    });
    try {
      await waitFor(
        'auth server',
        async () =>
          (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`)).ok,
        { timeoutMs: 45_000, spawned },
      );
    } catch (error) {
      await spawned.stop();
      throw error;
    }
    return { port, spawned };
  }

  const nextBin = path.join(AUTH_DIR, 'node_modules/next/dist/bin/next');
  const secret = 'p'.repeat(40);
  type Started = Awaited<ReturnType<typeof start>>;
  let dev: Started, bare: Started, remote: Started, production: Started;
  beforeAll(async () => {
    // Four servers at once: starting them one after the other would take a minute.
    const results = await Promise.allSettled([
      start(['scripts/start.mjs'], {}),
      start([nextBin, 'start'], {}),
      start(['scripts/start.mjs'], { DEV_ALLOW_REMOTE: 'true' }),
      start(['scripts/start.mjs'], {
        ISSUER_URL: 'https://auth.example.com',
        NEXTAUTH_SECRET: secret,
        KEY_ENCRYPTION_SECRET: secret,
        DEV_LOGIN: 'true',
      }),
    ]);
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => s.spawned.stop()));
      throw failed.reason;
    }
    [dev, bare, remote, production] = started as [Started, Started, Started, Started];
  }, 120_000);
  afterAll(async () => {
    await Promise.all([dev, bare, remote, production].map((s) => s?.spawned.stop()));
  });

  it("the app's `pnpm start` in development mode listens on 127.0.0.1 only", async () => {
    expect(await rawStatus(external, dev.port)).toBe('ECONNREFUSED');
    expect(await rawStatus('127.0.0.1', dev.port)).toMatch(/^HTTP\/1\.1 200/);
  });

  it('a bare `next start` on every interface still refuses other machines in development mode', async () => {
    // Accepted by the kernel, closed by the server before a byte of HTTP.
    expect(await rawStatus(external, bare.port)).toMatch(/^(closed|ECONNRESET)$/);
    expect(await rawStatus('127.0.0.1', bare.port)).toMatch(/^HTTP\/1\.1 200/);
    expect(bare.spawned.output()).toContain('connections from this machine only');
  });

  it('DEV_ALLOW_REMOTE=true opens development mode to other machines', async () => {
    expect(await rawStatus(external, remote.port)).toMatch(/^HTTP\/1\.1 200/);
  });

  it('production mode (a public https issuer) listens on every interface, unchanged', async () => {
    expect(await rawStatus(external, production.port)).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('issue 13 item 7: no 5xx from anyone input; one JSON line per log event', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('RFC 9110 §15.5.6: methods Next.js cannot route (TRACE, PROPFIND, …) answer 405 with Allow', async () => {
    for (const [method, target] of [
      ['TRACE', '/'],
      ['TRACE', '/token'],
      ['PROPFIND', '/account'],
      ['MKCOL', '/api/auth/session'],
      ['PURGE', '/authorize'],
    ] as const) {
      const status = await rawRequest(app.port, `${method} ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(status, `${method} ${target}`).toMatch(/^HTTP\/1\.1 405/);
    }
  });

  it('malformed next-auth requests are 4xx, never 500', async () => {
    const cases: [string, RequestInit, number][] = [
      ['/api/auth/callback/dev-login', {}, 405],
      ['/api/auth/csrf?callbackUrl=x', {}, 400],
      ['/api/auth/signin?callbackUrl=javascript:alert(1)', {}, 400],
      [
        '/api/auth/session',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{x' },
        400,
      ],
      ['/api/auth/session', { headers: { cookie: 'next-auth.callback-url=x' } }, 400],
      // A control character next-auth would copy into its Location header.
      ['/api/auth/error/%7f', {}, 400],
    ];
    for (const [target, init, status] of cases) {
      const response = await fetch(`${app.url}${target}`, { redirect: 'manual', ...init });
      expect(response.status, target).toBe(status);
    }
    // Pages with the same forged cookie: signed out, not broken.
    const account = await fetch(`${app.url}/account`, {
      redirect: 'manual',
      headers: { cookie: 'next-auth.callback-url=x' },
    });
    expect(account.status).toBe(307);
  });

  it('a request padded to kilobytes never becomes a Location header clients cannot parse', async () => {
    // Found by the fuzz test (seed 1067828776): a signed-out GET /consent with a 9 KB query was
    // sent to /login with the whole query percent-encoded in its Location; Node's fetch refuses
    // a response whose headers exceed 16 KiB.
    const client = (await (await register(app.url)).json()) as { client_id: string };
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: MCP_RESOURCE,
      state: 's',
    });
    const valid = await fetch(`${app.url}/authorize?${query}`, { redirect: 'manual' });
    expect(valid.status).toBe(302);
    expect(valid.headers.get('location')).toMatch(/^\/login\?callbackUrl=%2Fauthorize%3F/);

    query.set('padding', '/'.repeat(5000)); // each '/' triples when percent-encoded
    const padded = await fetch(`${app.url}/authorize?${query}`, { redirect: 'manual' });
    expect(padded.status).toBe(414);
    const consent = await fetch(`${app.url}/consent?${query}`, { redirect: 'manual' });
    expect(consent.status).toBe(200);
    expect(consent.headers.get('location')).toBeNull();
    expect(await consent.text()).toContain('This request cannot be completed');

    // Signed in, the same request is not sent on to /consent in a Location of that size either.
    const jar = await devLogin(app.url, 'padded@example.com');
    const signedIn = await fetch(`${app.url}/authorize?${query}`, {
      redirect: 'manual',
      headers: { cookie: jar.header() },
    });
    expect(signedIn.status).toBe(414);
    query.delete('padding');
    const unpadded = await fetch(`${app.url}/authorize?${query}`, {
      redirect: 'manual',
      headers: { cookie: jar.header() },
    });
    expect(unpadded.status).toBe(302);
    expect(unpadded.headers.get('location')).toMatch(/^\/consent\?/);

    // Garbage at /consent shows the error page; nothing is carried to the sign-in page.
    const garbage = await fetch(`${app.url}/consent?json=${'x'.repeat(9000)}&token=x`, {
      redirect: 'manual',
    });
    expect(garbage.status).toBe(200);
    expect(garbage.headers.get('location')).toBeNull();
  });

  it('a newline in a callbackUrl cannot forge a log line', async () => {
    const forgedLine = '{"level":"error","msg":"FORGED"}';
    const before = app.output().length;
    await fetch(
      `${app.url}/api/auth/csrf?callbackUrl=${encodeURIComponent(`x\n${forgedLine}\nmore`)}`,
    );
    await fetch(
      `${app.url}/api/auth/signin?callbackUrl=${encodeURIComponent(`\r\n${forgedLine}`)}`,
    );
    await new Promise((r) => setTimeout(r, 200)); // let the child's output arrive
    const lines = app.output().slice(before).split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.startsWith('{"time":'), line).toBe(true);
      expect(JSON.parse(line)).toHaveProperty('level');
    }
    expect(lines.some((line) => line.startsWith(forgedLine))).toBe(false);
  });
});

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.split('\r\n')[0]!);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

describe('issue 13 item 7: a store outage is 503 on every page and endpoint', () => {
  let redis: ReturnType<typeof spawn> | undefined;
  let app: AuthServer;
  let redisPort: number;
  beforeAll(async () => {
    redisPort = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor(
      'redis-server',
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: redisPort });
          s.on('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        }),
      { timeoutMs: 10_000 },
    );
    app = await startApp({ env: { REDIS_URL: `redis://127.0.0.1:${redisPort}` } });
  });
  afterAll(async () => {
    await app?.close();
    redis?.kill('SIGKILL');
  });

  /** A dev-login sign-in, by hand: its response (a session cookie on success). */
  const signIn = async (email: string) => {
    const jar = new CookieJar();
    const csrf = await fetch(`${app.url}/api/auth/csrf`);
    jar.store(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const response = await fetch(`${app.url}/api/auth/callback/dev-login`, {
      method: 'POST',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrfToken, email, callbackUrl: '/account' }),
      redirect: 'manual',
    });
    const session = response.headers
      .getSetCookie()
      .some((c) => /next-auth\.session-token=[^;]/.test(c));
    return { status: response.status, session };
  };

  it('with Redis gone: /account, /consent, /authorize, /token, /register answer 503 with Retry-After; signing in (which records the user) fails without a session', async () => {
    const jar = await devLogin(app.url, 'outage@example.com');
    expect(await signIn('before@example.com')).toMatchObject({ session: true });
    expect((await fetch(`${app.url}/jwks.json`)).status).toBe(200);
    redis!.kill('SIGKILL');
    await new Promise((resolve) => redis!.once('exit', resolve));
    const targets: [string, RequestInit][] = [
      ['/account', { headers: { cookie: jar.header() } }],
      ['/account', {}],
      ['/consent?client_id=x', { headers: { cookie: jar.header() } }],
      ['/authorize?client_id=x&response_type=code', { headers: { cookie: jar.header() } }],
      [
        '/token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=authorization_code&code=x&client_id=y',
        },
      ],
      [
        '/register',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'] }),
        },
      ],
    ];
    for (const [target, init] of targets) {
      const response = await fetch(`${app.url}${target}`, { redirect: 'manual', ...init });
      expect(response.status, target).toBe(503);
      expect(response.headers.get('retry-after'), target).toMatch(/^\d+$/);
    }
    const late = await signIn('late@example.com');
    expect(late.session).toBe(false);
    expect(late.status).toBeLessThan(500);
  });
});
