import http from 'node:http';
import net from 'node:net';
import type { AuthServer } from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from './helpers/app';

/**
 * Issue 13 item 7: no input makes the app answer 5xx or fall over. At least 10,000 requests,
 * generated from a seed (FUZZ_SEED to replay one), over every route: random methods, paths,
 * queries, bodies, content types, headers and cookies, plus raw-socket oddities.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const HTTP_REQUESTS = 8_500;
const RAW_REQUESTS = 1_500;

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rand = ReturnType<typeof prng>;

const ROUTES = [
  '/',
  '/login',
  '/consent',
  '/account',
  '/account/revoke',
  '/authorize',
  '/authorize/decision',
  '/token',
  '/register',
  '/revoke',
  '/introspect',
  '/userinfo',
  '/jwks.json',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server/x',
  '/.well-known/oauth-protected-resource',
  '/api/auth/session',
  '/api/auth/csrf',
  '/api/auth/providers',
  '/api/auth/signin',
  '/api/auth/signin/dev-login',
  '/api/auth/callback/dev-login',
  '/api/auth/callback/auth0',
  '/api/auth/callback/firebase',
  '/api/auth/signout',
  '/api/auth/error',
  '/api/auth/_log',
  '/api/auth/nope',
  '/api/auth',
  '/icon.svg',
  '/favicon.ico',
  '/_next/static/chunks/x.js',
  '/_next/image',
];
const METHODS = [
  ...Array<string>(3).fill('GET'),
  ...Array<string>(3).fill('POST'),
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'PATCH',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'LOCK',
  'PURGE',
  'SEARCH',
  'REPORT',
  'UNLOCK',
];
const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=x',
  'text/plain',
  'application/octet-stream',
  'application/jwt',
  'application/json; charset=utf-16',
  '*/*',
  ';;;',
  'application/x-www-form-urlencoded; charset=bogus',
];
const PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'scope',
  'state',
  'resource',
  'prompt',
  'callbackUrl',
  'error',
  'grant_type',
  'code',
  'code_verifier',
  'refresh_token',
  'token',
  'token_type_hint',
  'csrfToken',
  'email',
  'json',
  'request',
  'decision',
  'csrf',
  'revoked',
  'idToken',
];

function junk(r: Rand, max = 40): string {
  const alphabets = [
    'abcdefghijklmnopqrstuvwxyz0123456789',
    '%/\\?#&=;:@!$\'"()*+,[]{}<>|^`~ .-_',
    '\u0000\n\r\t\u001f\u007f',
    'éü日本語🙂\u202e\ufeff\ud800',
  ];
  let out = '';
  const length = r.int(max);
  for (let i = 0; i < length; i++) {
    const alphabet = r.pick(alphabets);
    out += alphabet[r.int(alphabet.length)];
  }
  return out;
}

/** Percent-encodes every byte a request target may not carry raw; keeps the rest as is. */
function pct(text: string): string {
  return [...Buffer.from(text)]
    .map((b) =>
      b > 0x20 && b < 0x7f && b !== 0x23
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

function value(r: Rand): string {
  return r.pick([
    () => junk(r),
    () => 'http://127.0.0.1:9/callback',
    () => 'https://evil.example/cb#frag',
    () => `/${junk(r, 10)}`,
    () => '//evil.example',
    () => 'javascript:alert(1)',
    () => 'x'.repeat(r.int(10_000)),
    () => 'code',
    () => 'S256',
    () => 'read write admin',
    () => 'authorization_code',
    () => 'refresh_token',
    () => String(r.int(1e9)),
    () => '',
    () => 'a'.repeat(43),
    () => `x\n{"level":"error","msg":"forged"}`,
  ])();
}

function query(r: Rand): string {
  const params = new URLSearchParams();
  const count = r.int(6);
  for (let i = 0; i < count; i++)
    params.append(r.chance(0.9) ? r.pick(PARAMS) : junk(r, 8), value(r));
  const text = params.toString();
  if (r.chance(0.1)) return `?${pct(junk(r, 30))}`;
  return text ? `?${text}` : '';
}

function path(r: Rand): string {
  if (r.chance(0.75)) return r.pick(ROUTES) + query(r);
  return r.pick([
    () => `/${pct(junk(r, 20))}`,
    () => `${r.pick(ROUTES)}/${pct(junk(r, 10))}`,
    () => `/%${junk(r, 2)}`,
    () => '/..%2f..%2fetc%2fpasswd',
    () => '//evil.example/',
    () => `/api/auth/${pct(junk(r, 10))}/${pct(junk(r, 10))}`,
    () => '/%00',
    () => '/%ff%fe',
    () => `/_next/${pct(junk(r, 10))}`,
    () => `/${'a/'.repeat(r.int(200))}`,
  ])();
}

function body(r: Rand, type: string | undefined): Buffer | undefined {
  if (r.chance(0.2)) return undefined;
  const text = r.pick([
    () =>
      JSON.stringify({
        redirect_uris: [value(r)],
        client_name: value(r),
        [r.pick(PARAMS)]: value(r),
      }),
    () =>
      JSON.stringify(r.pick([null, 1, 'x', [], { redirect_uris: 'x' }, { __proto__: { a: 1 } }])),
    () => new URLSearchParams(query(r).slice(1)).toString(),
    () =>
      `--x\r\nContent-Disposition: form-data; name="${r.pick(PARAMS)}"\r\n\r\n${value(r)}\r\n--x--\r\n`,
    () => junk(r, 200),
    () => '{"a":',
    () => 'x'.repeat(r.chance(0.5) ? 40_000 : r.int(2_000)),
    () => `${type?.includes('json') ? '{"a":1}' : 'a=1'}${'&b=2'.repeat(r.int(3_000))}`,
  ])();
  return Buffer.from(text);
}

function cookie(r: Rand): string {
  const names = [
    'next-auth.session-token',
    'next-auth.callback-url',
    'next-auth.csrf-token',
    '__Host-next-auth.csrf-token',
    '__Secure-next-auth.session-token',
    'x',
  ];
  return Array.from(
    { length: 1 + r.int(3) },
    () => `${r.pick(names)}=${pct(value(r)).replace(/;/g, '%3b').slice(0, 4000)}`,
  ).join('; ');
}

function headers(r: Rand, hasBody: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  const type = r.chance(0.85) ? r.pick(CONTENT_TYPES) : undefined;
  if (type && (hasBody || r.chance(0.2))) h['content-type'] = type;
  if (r.chance(0.3)) h.cookie = cookie(r);
  if (r.chance(0.2))
    h.authorization = r.pick([
      `Basic ${junk(r, 20)}`,
      `Bearer ${junk(r, 30)}`,
      // JWT-shaped (the /userinfo verifier's first test).
      `Bearer eyJhbGciOiJFUzI1NiJ9.${junk(r, 20)}.${junk(r, 20)}`,
      'Basic Og==',
      'Basic eDp5',
      junk(r, 10),
    ]);
  if (r.chance(0.2)) h.origin = r.pick(['https://evil.example', 'null', junk(r, 20)]);
  if (r.chance(0.2)) h['x-forwarded-for'] = r.pick(['1.2.3.4', junk(r, 30), '::1, 10.0.0.1', '']);
  if (r.chance(0.1)) h['x-portcullis-peer'] = junk(r, 20);
  if (r.chance(0.1))
    h.host = r.pick([
      'evil.example',
      'localhost:1',
      '[::1]',
      junk(r, 20).replace(/[^\x21-\x7e]/g, ''),
    ]);
  if (r.chance(0.1))
    h['x-forwarded-host'] = r.pick(['evil.example', junk(r, 20).replace(/[^\x21-\x7e]/g, '')]);
  if (r.chance(0.1)) h['x-forwarded-proto'] = r.pick(['https', 'gopher', '']);
  if (r.chance(0.1))
    h.accept = r.pick([
      'text/html',
      'application/json',
      '*/*',
      junk(r, 20).replace(/[^\x20-\x7e]/g, ''),
    ]);
  if (r.chance(0.1)) h.rsc = '1';
  if (r.chance(0.1)) h['next-action'] = junk(r, 20).replace(/[^\x21-\x7e]/g, '') || 'x';
  if (r.chance(0.05)) h['next-router-state-tree'] = pct(junk(r, 40));
  if (r.chance(0.05)) h.range = 'bytes=0-1,5-';
  if (r.chance(0.05)) h['accept-encoding'] = 'gzip, br, zstd';
  // Header values the HTTP client itself refuses (control characters) are left to the raw phase.
  for (const key of Object.keys(h)) h[key] = h[key]!.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
  return h;
}

const RAW_CASES: ((r: Rand) => string)[] = [
  () => 'GET / HTTP/1.1\r\n\r\n',
  () => 'GET /token HTTP/1.0\r\n\r\n',
  () => 'GARBAGE\r\n\r\n',
  () => 'GET /\r\n\r\n',
  () => 'GET http://evil.example/login HTTP/1.1\r\nHost: evil.example\r\n\r\n',
  () => 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  () => 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n',
  () => `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  () =>
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  () =>
    'POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
  () =>
    'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}',
  () =>
    'POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  () => 'GET / HTTP/1.1\nHost: x\n\n',
  () => 'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
  () => 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
  () => 'GET / HTTP/1.1\r\nHost: x\r\nX: \u0001\r\n\r\n',
  () => 'GET / HTTP/2.0\r\nHost: x\r\n\r\n',
  () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  (r) => `GET /${junk(r, 30).replace(/[\r\n ]/g, '')} HTTP/1.1\r\nHost: x\r\n\r\n`,
  (r) =>
    `${r.pick(METHODS)} ${r.pick(ROUTES)} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie(r).replace(/[\r\n]/g, '')}\r\n\r\n`,
  () =>
    'GET /login HTTP/1.1\r\nHost: x\r\n\r\nGET /token HTTP/1.1\r\nHost: x\r\n\r\nTRACE / HTTP/1.1\r\nHost: x\r\n\r\n',
  () => 'POST /token HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  () =>
    'POST /api/auth/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{x',
  () =>
    'POST /authorize/decision HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10\r\n\r\n--b\r\nxxxxx',
  () => `GET /authorize?${'a=1&'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  () => `GET ${'/x'.repeat(6000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
];

/** Sends raw bytes; resolves every status code in what comes back before the server closes. */
function raw(port: number, text: string): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = () => {
      socket.destroy();
      const statuses = [
        ...Buffer.concat(chunks)
          .toString('latin1')
          .matchAll(/HTTP\/1\.[01] (\d{3})/g),
      ];
      resolve(statuses.map((m) => Number(m[1])));
    };
    // A request the server is still waiting on (a body it was promised) is simply abandoned.
    socket.setTimeout(1000, done);
    socket.on('connect', () => {
      socket.write(Buffer.from(text, 'latin1'));
      socket.end();
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', done);
    socket.on('close', done);
  });
}

function isJsonLine(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

describe('fuzz: no 5xx and no crash from any input', () => {
  let app: AuthServer;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it(`${HTTP_REQUESTS + RAW_REQUESTS} random requests over every route answer < 500 (seed ${SEED})`, async () => {
    const r = prng(SEED);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 12 });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;

    const one = (): Promise<void> => {
      const method = r.pick(METHODS);
      const target = pct(path(r));
      const payload =
        ['GET', 'HEAD'].includes(method) && r.chance(0.9) ? undefined : body(r, undefined);
      const h = headers(r, payload !== undefined);
      return new Promise((resolve) => {
        const request = http.request(
          { host: '127.0.0.1', port: app.port, method, path: target, headers: h, agent },
          (response) => {
            const status = response.statusCode ?? 0;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status >= 500)
              failures.push(
                `${status} ${method} ${target.slice(0, 200)} ${JSON.stringify(h).slice(0, 300)}`,
              );
            response.resume();
            response.on('end', resolve);
            response.on('error', resolve);
          },
        );
        request.on('error', (error) => {
          // The server may close a connection after refusing a request; never a crash.
          if (!/socket hang up|ECONNRESET|EPIPE/.test(error.message))
            failures.push(`${method} ${target}: ${error.message}`);
          resolve();
        });
        if (payload) request.end(payload);
        else request.end();
      });
    };

    // The HTTP phase and the raw-socket phase run side by side: raw requests mostly wait.
    const started = Date.now();
    let httpMs = 0;
    let rawMs = 0;
    const httpPhase = Promise.all(
      Array.from({ length: 12 }, async () => {
        while (sent < HTTP_REQUESTS) {
          sent++;
          await one();
        }
      }),
    ).then(() => {
      agent.destroy();
      httpMs = Date.now() - started;
    });
    let rawSent = 0;
    // Its own stream of the seed, so that a replay does not depend on how the phases interleave.
    const rawRand = prng(SEED ^ 0x5bd1e995);
    const rawPhase = Promise.all(
      Array.from({ length: 12 }, async () => {
        while (rawSent < RAW_REQUESTS) {
          const make = RAW_CASES[rawSent++ % RAW_CASES.length]!;
          const text = make(rawRand);
          for (const status of await raw(app.port, text)) {
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status >= 500) failures.push(`${status} raw ${JSON.stringify(text.slice(0, 200))}`);
          }
        }
      }),
    ).then(() => {
      rawMs = Date.now() - started;
    });
    await Promise.all([httpPhase, rawPhase]);
    console.log(
      `[fuzz] seed ${SEED}: ${sent} HTTP requests in ${httpMs} ms, ${rawSent} raw in ${rawMs} ms (side by side)`,
    );

    expect(failures, `seed ${SEED}; statuses ${JSON.stringify([...statuses])}`).toEqual([]);
    expect(sent + rawSent).toBeGreaterThanOrEqual(10_000);
    // Still up, still right.
    const metadata = await fetch(`${app.url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    // After the start-up lines, every log line is one JSON object (the store's own start-up
    // notice aside): no stack trace, no Next.js "⨯", nothing a caller could have forged.
    const output = app.output();
    const lines = output.slice(output.indexOf('[auth-server] issuer')).split('\n').slice(1);
    const stray = lines.filter(
      (line) => line.trim() !== '' && !line.startsWith('[@portcullis/') && !isJsonLine(line),
    );
    expect(stray.slice(0, 10)).toEqual([]);
  }, 300_000);
});
