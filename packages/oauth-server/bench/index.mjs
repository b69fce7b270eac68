// Authorization-code exchanges and refreshes per second: @portcullis/oauth-server on the memory,
// PGlite, Postgres and Redis stores, beside node-oidc-provider 9.13.3 doing the same exchanges on this machine
// in the same run. Both servers run behind node:http on 127.0.0.1 and are driven by the same
// keep-alive HTTP/1.1 client with the same concurrency (see `post`); both issue ES256 at+jwt access tokens (RFC 9068) for
// one resource and rotate refresh tokens. Each code exchange includes creating the code (our
// pending.approve(); oidc-provider's Grant + AuthorizationCode models), so both sides do the
// work of steps 5 and 6 of the flow without a browser.
import { generateKeyPairSync, sign } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import { createPkcePair } from '@portcullis/pkce';
import { createTokenStore, generateSecret, memoryAdapter } from '@portcullis/token-store';
import { postgresAdapter } from '@portcullis/token-store/postgres';
import { redisAdapter } from '@portcullis/token-store/redis';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import pg from 'pg';
import { createAuthorizationServer } from '../dist/index.js';
import { bridged, replyResponse } from '../dist/lib/node-bridge.js';
import { toNodeHandler } from '../dist/node/index.js';

const RESOURCE = 'http://127.0.0.1:8000/mcp';
const REDIRECT = 'http://127.0.0.1:7000/callback';
const CONCURRENCY = 8;
const WARMUP_MS = 300;
// The machine is shared and its load swings: every server is measured in each of ROUNDS rounds,
// one after another (see the table's note for how the rounds are combined).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEASURE_MS = Number(process.env.BENCH_MS ?? 5000);
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 1500);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN_ID = `bench_${process.pid}_${Date.now().toString(36)}`;
// BENCH_STORES=memory,pglite measures only those rows beside the baseline (for profiling one store).
const STORES = new Set((process.env.BENCH_STORES ?? 'memory,pglite,postgres,redis').split(','));

async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

// The client shares this process with the servers, so its own CPU dilutes every ratio (the
// client row below bounds them). By default it is a keep-alive HTTP/1.1 client on node:net
// that writes each request in one write and reads answers framed by Content-Length (what
// every server here sends; anything else fails the run): about a third of node:http's client
// CPU per request here. BENCH_CLIENT=node-http drives the same requests through node:http's
// client (an Agent with keep-alive) instead. Either way the same client, sending the same
// headers, drives every row.
const CLIENT = process.env.BENCH_CLIENT ?? 'net';
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url, params) {
  const body = new URLSearchParams(params).toString();
  return CLIENT === 'node-http' ? nodeHttpPost(url, body) : netPost(url, body);
}

function nodeHttpPost(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${res.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Per URL: its parts, and its idle keep-alive connections (as the Agent keeps them). */
const targets = new Map();

function netPost(url, body) {
  let target = targets.get(url);
  if (target === undefined) {
    const { host, pathname } = new URL(url);
    target = { host, pathname, idle: [] };
    targets.set(url, target);
  }
  let connection = target.idle.pop();
  while (connection?.closed) connection = target.idle.pop();
  connection ??= new Connection(target.host);
  return connection.post(
    // The request line and headers node:http's client sends for the same call.
    `POST ${target.pathname} HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${Buffer.byteLength(body)}\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n${body}`,
    target.idle,
  );
}

const HEAD_END = Buffer.from('\r\n\r\n');

class Connection {
  constructor(host) {
    const [hostname, port] = host.split(':');
    this.socket = connect(Number(port), hostname);
    this.socket.setNoDelay(true);
    this.buffer = undefined;
    this.waiting = undefined;
    this.closed = false;
    this.socket.on('data', (chunk) => this.#data(chunk));
    this.socket.on('error', (error) => this.#fail(error));
    this.socket.on('close', () => this.#fail(new Error('connection closed')));
  }

  post(bytes, pool) {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject, pool };
      this.socket.write(bytes);
    });
  }

  #fail(error) {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }

  #data(chunk) {
    this.buffer = this.buffer === undefined ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEAD_END);
    if (end === -1) return;
    const head = this.buffer.latin1Slice(0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length || /\r\ntransfer-encoding:/i.test(head)) {
      return this.#fail(new Error('the bench client reads Content-Length framed answers only'));
    }
    const total = end + 4 + Number(length[1]);
    if (this.buffer.length < total) return;
    if (this.buffer.length > total)
      return this.#fail(new Error('unexpected bytes after an answer'));
    const text = this.buffer.utf8Slice(end + 4, total);
    this.buffer = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (/\r\nconnection: *close/i.test(head)) this.socket.end();
    else waiting.pool.push(this);
    if (status !== 200) waiting.reject(new Error(`${status} ${text}`));
    else waiting.resolve(JSON.parse(text));
  }
}

/** Runs `CONCURRENCY` workers calling `step()` in a loop for `ms`; returns operations and seconds. */
async function rate(makeWorker, ms) {
  const workers = await Promise.all(Array.from({ length: CONCURRENCY }, () => makeWorker()));
  const run = async (ms) => {
    let count = 0;
    const end = performance.now() + ms;
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(
      workers.map(async (step) => {
        while (performance.now() < end) {
          await step();
          count++;
        }
      }),
    );
    const { user, system } = process.cpuUsage(cpu);
    return { count, seconds: (performance.now() - started) / 1000, cpuMs: (user + system) / 1000 };
  };
  await run(WARMUP_MS);
  return run(ms);
}

/**
 * What the bench measures on either server: code exchanges (each worker holds a fresh code;
 * `prepare` makes one and returns its exchange) and refresh-token rotations over HTTP.
 */
function tokenDriver(http, tokenUrl, prepare) {
  return {
    close: () =>
      new Promise((resolve) => {
        http.server.closeAllConnections();
        http.server.close(resolve);
      }),
    exchanges: (ms) => rate(prepare, ms),
    refreshes: (ms) =>
      rate(async () => {
        let { refresh_token } = await (await prepare())();
        return async () => {
          ({ refresh_token } = await post(tokenUrl, {
            grant_type: 'refresh_token',
            refresh_token,
            client_id: 'bench',
          }));
        };
      }, ms),
  };
}

/**
 * The store's backend, counting each call the store makes to it: one call is one round trip on
 * Postgres and Redis (one SQL statement, one script or command), so the bench can print how
 * many one grant costs.
 */
function counting(adapter) {
  // Only while `on`: outside the counted grants the wrapper costs a branch, not a growing list.
  const tally = { on: false, calls: [], timed: false, ms: 0 };
  const counted = new Proxy(adapter, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args) => {
        if (tally.on) tally.calls.push(typeof args[0] === 'string' ? `${name}(${args[0]})` : name);
        if (!tally.timed) return value.apply(target, args);
        // The memory adapter does its work within the call: its time is the store's share.
        const started = performance.now();
        const result = value.apply(target, args);
        tally.ms += performance.now() - started;
        return result;
      };
    },
  });
  return { adapter: counted, tally };
}

/**
 * The statements a PGlite store runs and the CPU spent inside PGlite, counted between `start()`
 * and `stop()` (one grant at a time, so the CPU between a call and its answer is PGlite's): every
 * call of the adapter on PGlite is one `execProtocolRaw` (a prepared statement's Bind, Execute,
 * Sync). The counting wrapper is installed only then, so the timed rows run PGlite as it is.
 */
function inPGlite(db) {
  const raw = db.execProtocolRaw;
  const engine = {
    statements: 0,
    cpuMs: 0,
    start() {
      engine.statements = 0;
      engine.cpuMs = 0;
      db.execProtocolRaw = async (...args) => {
        const cpu = process.cpuUsage();
        try {
          return await raw.apply(db, args);
        } finally {
          const { user, system } = process.cpuUsage(cpu);
          engine.statements++;
          engine.cpuMs += (user + system) / 1000;
        }
      };
    },
    stop() {
      db.execProtocolRaw = raw;
    },
  };
  return engine;
}

/**
 * Where the server's CPU goes per grant, for the memory store: the handlers called in process,
 * one grant at a time, through the same bridge toNodeHandler uses (no socket), with the store's
 * share timed inside its calls and an ES256 signature of the same size timed alone. What the
 * `server` column has beyond the handler is HTTP: node:http and toNodeHandler. For the PGlite
 * store (`tally.engine`, see `inPGlite`) also its statements per grant and their CPU, and what
 * one statement costs at least.
 */
async function splitOf(as, store, tally, newCode) {
  const bridge = as.handle[Symbol.for('@portcullis/oauth-server/node-bridge')];
  const encoder = new TextEncoder();
  const call = async (params) => {
    const body = encoder.encode(new URLSearchParams(params).toString());
    const request = bridge.request(
      'POST',
      new URL(`${as.issuer}/token`),
      {
        host: new URL(as.issuer).host,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(body.length),
      },
      body,
    );
    const reply = bridge.takeReply(await as.handle(request));
    if (reply?.status !== 200) throw new Error(`in-process grant failed: ${reply?.body}`);
    return JSON.parse(reply.body);
  };
  const { pending, verifier } = await newCode();
  const exchange = async () => {
    const location = new URL((await pending.approve('alice')).headers.get('location'));
    return call({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code'),
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: 'bench',
      resource: RESOURCE,
    });
  };
  let { refresh_token } = await exchange();
  const refresh = async () => {
    ({ refresh_token } = await call({
      grant_type: 'refresh_token',
      refresh_token,
      client_id: 'bench',
    }));
  };
  const measure = async (step, n) => {
    for (let i = 0; i < n / 4; i++) await step();
    tally.timed = true;
    tally.ms = 0;
    tally.engine?.start();
    const cpu = process.cpuUsage();
    for (let i = 0; i < n; i++) await step();
    const { user, system } = process.cpuUsage(cpu);
    tally.timed = false;
    tally.engine?.stop();
    const engine = tally.engine && {
      statements: tally.engine.statements / n,
      cpuMs: tally.engine.cpuMs / n,
    };
    return { handler: (user + system) / 1000 / n, store: tally.ms / n, engine };
  };
  // PGlite: the least one statement costs in its engine, a keyed read of the store that finds
  // nothing (one prepared statement through execProtocolRaw, as every call of the adapter).
  let floorMs;
  if (tally.engine) {
    const reads = 2000;
    const absent = Array.from({ length: reads }, () => generateSecret());
    for (let i = 0; i < reads / 4; i++) await store.codes.find(absent[i]);
    const cpu = process.cpuUsage();
    for (let i = 0; i < reads; i++) await store.codes.find(absent[i]);
    const { user, system } = process.cpuUsage(cpu);
    floorMs = (user + system) / 1000 / reads;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const input = Buffer.from('x'.repeat(450));
  const signs = 2000;
  const cpu = process.cpuUsage();
  for (let i = 0; i < signs; i++)
    sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const { user, system } = process.cpuUsage(cpu);
  return {
    exchange: await measure(exchange, 3000),
    refresh: await measure(refresh, 3000),
    signMs: (user + system) / 1000 / signs,
    floorMs,
  };
}

async function portcullis(backend, engine) {
  const { adapter, tally } = counting(backend);
  tally.engine = engine;
  const store = createTokenStore({ adapter });
  // Mounted as the README shows, toNodeHandler(as.handle): the issuer is the server's origin,
  // known once it listens, so the listener is attached after.
  const http = await listen();
  const as = await createAuthorizationServer({
    issuer: http.origin,
    store,
    resources: [{ uri: RESOURCE }],
    scopes: { read: 'Read', write: 'Write' },
    rateLimit: false,
  });
  http.server.on('request', toNodeHandler(as.handle, { origin: http.origin }));
  await store.clients.save({
    clientId: 'bench',
    redirectUris: [REDIRECT],
    tokenEndpointAuthMethod: 'none',
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    clientIdIssuedAt: 0,
    createdAt: Date.now(),
    expiresAt: null,
  });
  const tokenUrl = `${http.origin}/token`;
  const newCode = async () => {
    const pkce = await createPkcePair();
    const parsed = await as.authorization.parse(
      new URLSearchParams({
        response_type: 'code',
        client_id: 'bench',
        redirect_uri: REDIRECT,
        code_challenge: pkce.codeChallenge,
        code_challenge_method: 'S256',
        scope: 'read write',
        resource: RESOURCE,
      }),
    );
    if (!parsed.ok) throw new Error('authorize refused');
    return { pending: parsed.pending, verifier: pkce.codeVerifier };
  };
  const exchange = async ({ pending, verifier }) => {
    const location = new URL((await pending.approve('alice')).headers.get('location'));
    return post(tokenUrl, {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code'),
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: 'bench',
      resource: RESOURCE,
    });
  };
  // One of each grant, counting the backend calls the token endpoint makes (approve() not
  // included), after one uncounted exchange: a server in use has its client in memory already.
  const c = await newCode();
  await exchange(c);
  const location = new URL((await c.pending.approve('alice')).headers.get('location'));
  tally.on = true;
  const { refresh_token } = await post(tokenUrl, {
    grant_type: 'authorization_code',
    code: location.searchParams.get('code'),
    code_verifier: c.verifier,
    redirect_uri: REDIRECT,
    client_id: 'bench',
    resource: RESOURCE,
  });
  const exchangeCalls = tally.calls.splice(0);
  await post(tokenUrl, { grant_type: 'refresh_token', refresh_token, client_id: 'bench' });
  const refreshCalls = tally.calls.splice(0);
  tally.on = false;
  return {
    split: () => splitOf(as, store, tally, newCode),
    ...tokenDriver(http, tokenUrl, async () => {
      const c = await newCode();
      return () => exchange(c);
    }),
    roundTrips: { exchange: exchangeCalls, refresh: refreshCalls },
  };
}

async function oidcProvider() {
  const http = await listen();
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const provider = new Provider(http.origin, {
    clients: [
      {
        client_id: 'bench',
        token_endpoint_auth_method: 'none',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'k1' }] },
    cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
    scopes: ['read', 'write'],
    pkce: { required: () => true },
    issueRefreshToken: async () => true,
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 1_209_600, RefreshToken: 1_209_600 },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read write',
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  http.server.on('request', provider.callback());
  const client = await provider.Client.find('bench');
  const tokenUrl = `${http.origin}/token`;
  const exchange = async (pkce) => {
    // The interaction's result, as interactionFinished() would persist it: a grant, then a code.
    const grant = new provider.Grant({ accountId: 'alice', clientId: 'bench' });
    grant.addResourceScope(RESOURCE, 'read write');
    const grantId = await grant.save();
    const code = await new provider.AuthorizationCode({
      accountId: 'alice',
      client,
      grantId,
      redirectUri: REDIRECT,
      scope: 'read write',
      resource: RESOURCE,
      codeChallenge: pkce.codeChallenge,
      codeChallengeMethod: 'S256',
      authTime: Math.floor(Date.now() / 1000),
    }).save();
    return post(tokenUrl, {
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce.codeVerifier,
      redirect_uri: REDIRECT,
      client_id: 'bench',
      resource: RESOURCE,
    });
  };
  return tokenDriver(http, tokenUrl, async () => {
    const pkce = await createPkcePair();
    return () => exchange(pkce);
  });
}

/**
 * The client's own cost: the same requests (and PKCE pairs) against a node:http server that
 * answers a token response of the same size at once. Its CPU per operation, measured in the same
 * rounds, is subtracted from each row's to estimate what the server itself spends.
 */
async function clientOnly(glue = false) {
  const body = JSON.stringify({
    access_token: 'x'.repeat(520),
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: 'y'.repeat(43),
    scope: 'read write',
  });
  // With `glue`, the same answer comes from a handler of this server through toNodeHandler (its
  // headers are a token response's), so the difference is what node:http and toNodeHandler
  // cost beyond the plain server: the HTTP glue of the split below.
  const headers = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version',
    'Access-Control-Expose-Headers': 'WWW-Authenticate, RateLimit, RateLimit-Policy, Retry-After',
    'Access-Control-Max-Age': '86400',
  };
  const fixed = bridged(async (request) => replyResponse(request, { status: 200, headers, body }));
  const http = await listen(
    glue
      ? toNodeHandler(fixed, { origin: 'http://127.0.0.1' })
      : (req, res) => {
          req.resume();
          req.on('end', () => {
            // Framed by Content-Length, as both servers' token responses are.
            res.writeHead(200, {
              'content-type': 'application/json',
              'cache-control': 'no-store',
              'content-length': Buffer.byteLength(body),
            });
            res.end(body);
          });
        },
  );
  const tokenUrl = `${http.origin}/token`;
  return tokenDriver(http, tokenUrl, async () => {
    await createPkcePair();
    return () => post(tokenUrl, { grant_type: 'authorization_code', code: 'c', client_id: 'x' });
  });
}

const fmt = (n) => n.toFixed(0).padStart(8);
const started = performance.now();
const rows = [];
const skipped = [];
const closers = [];

const baseline = await oidcProvider();
rows.push(['node-oidc-provider 9.13.3 (memory)', baseline]);
let memoryRow;
let pgliteRow;
if (STORES.has('memory')) {
  memoryRow = await portcullis(memoryAdapter());
  rows.push(['@portcullis/oauth-server (memory store)', memoryRow]);
}
if (STORES.has('pglite')) {
  const db = new PGlite();
  pgliteRow = await portcullis(postgresAdapter(db), inPGlite(db));
  rows.push(['@portcullis/oauth-server (PGlite store)', pgliteRow]);
  closers.push(() => db.close());
}

// The shared servers: a schema and a key prefix of this run's own, removed at the end.
if (STORES.has('postgres')) {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  try {
    await pool.query(`CREATE SCHEMA "${RUN_ID}"`);
    const adapter = postgresAdapter(pool, { schema: RUN_ID });
    rows.push(['@portcullis/oauth-server (Postgres store)', await portcullis(adapter)]);
    closers.push(async () => {
      await pool.query(`DROP SCHEMA "${RUN_ID}" CASCADE`);
      await pool.end();
    });
  } catch (error) {
    skipped.push(`Postgres row skipped: ${DATABASE_URL} unreachable (${error.message})`);
    await pool.end();
  }
}
if (STORES.has('redis')) {
  // As the token-store README recommends (and the auth-server app does): no auto-pipelining.
  // The same store on a client with ioredis's enableAutoPipelining is the row after it, so the
  // advice is measured in every run (see the README for why it loses here).
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  const pipelining = new Redis(REDIS_URL, {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    enableAutoPipelining: true,
  });
  try {
    await redis.connect();
    await pipelining.connect();
    const prefix = `${RUN_ID}:`;
    rows.push([
      '@portcullis/oauth-server (Redis store)',
      await portcullis(redisAdapter(redis, { prefix })),
    ]);
    const autoPipelined = await portcullis(redisAdapter(pipelining, { prefix: `${prefix}p:` }));
    autoPipelined.roundTrips = undefined; // the same calls as the row above
    rows.push(['  same, enableAutoPipelining: true', autoPipelined]);
    closers.push(async () => {
      for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
        if (keys.length > 0) await redis.unlink(...keys);
      }
      redis.disconnect();
      pipelining.disconnect();
    });
  } catch (error) {
    skipped.push(`Redis row skipped: ${REDIS_URL} unreachable (${error.message})`);
    redis.disconnect();
    pipelining.disconnect();
  }
}

// Per round, each figure is divided by the baseline's figure of the same round (so a load swing
// between rounds cancels out); the table shows the median of those ratios over the rounds.
const client = await clientOnly();
rows.push(['(client only: fixed answer)', client]);
// One untimed pass first: V8 tiers code (and PGlite's WebAssembly) up over the first seconds of
// a process, and a server runs warm in production.
for (const [, server] of rows) {
  await server.exchanges(WARM_MS);
  await server.refreshes(WARM_MS);
}
const rounds = rows.map(() => ({ exchanges: [], refreshes: [] }));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, [, server]] of rows.entries()) {
    rounds[i].exchanges.push(await server.exchanges(MEASURE_MS / ROUNDS));
    rounds[i].refreshes.push(await server.refreshes(MEASURE_MS / ROUNDS));
  }
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const split = memoryRow ? await memoryRow.split() : undefined;
// The HTTP glue: a fixed answer through toNodeHandler beside the client row's plain server, in
// alternating rounds (the CPU per request of the two, and the median of the differences).
let glueMs;
if (split) {
  const glue = await clientOnly(true);
  const differences = [];
  for (let round = 0; round < ROUNDS; round++) {
    const plain = await client.refreshes(MEASURE_MS / ROUNDS / 2);
    const bridgedAnswer = await glue.refreshes(MEASURE_MS / ROUNDS / 2);
    differences.push(bridgedAnswer.cpuMs / bridgedAnswer.count - plain.cpuMs / plain.count);
  }
  await glue.close();
  glueMs = median(differences);
}
// After the glue's rounds: this takes seconds, and idle keep-alive connections would time out.
const pgliteSplit = pgliteRow ? await pgliteRow.split() : undefined;
for (const [, server] of rows) await server.close();
for (const close of closers) await close();

const perSecond = (m) => m.count / m.seconds;
const cpuPerOp = (m) => m.cpuMs / m.count;
const clientRow = rows.length - 1;
const summary = (i, what) => ({
  rate: median(rounds[i][what].map(perSecond)),
  ratio: median(rounds[i][what].map((m, r) => perSecond(m) / perSecond(rounds[0][what][r]))),
  // CPU of this process per operation: robust to other processes' load, but it leaves out what
  // the Postgres or Redis server spends (their rows do part of the work elsewhere).
  cpuMs: median(rounds[i][what].map(cpuPerOp)),
  // The same minus the client's own CPU in the same round: what the server spends.
  serverMs: median(
    rounds[i][what].map((m, r) => cpuPerOp(m) - cpuPerOp(rounds[clientRow][what][r])),
  ),
});

console.log(
  `\nOAuth token endpoint over HTTP on 127.0.0.1, ${CONCURRENCY} concurrent clients, ${MEASURE_MS / 1000} s per figure in ${ROUNDS} interleaved rounds (client: ${CLIENT === 'node-http' ? "node:http's" : 'node:net'}; Node ${process.versions.node}, load average ${loadavg()
    .map((n) => n.toFixed(1))
    .join(' ')})\n`,
);
console.log(
  `${'server'.padEnd(42)} ${'code exch/s'.padStart(11)} ${'ratio'.padStart(6)} ${'cpu ms'.padStart(6)} ${'server'.padStart(6)} ${'refresh/s'.padStart(10)} ${'ratio'.padStart(6)} ${'cpu ms'.padStart(6)} ${'server'.padStart(6)}`,
);
for (const [i, [name]] of rows.entries()) {
  const e = summary(i, 'exchanges');
  const r = summary(i, 'refreshes');
  const server = (x) => (i === clientRow ? '' : x.serverMs.toFixed(2));
  console.log(
    `${name.padEnd(42)} ${fmt(e.rate).padStart(11)} ${e.ratio.toFixed(2).padStart(5)}x ${e.cpuMs.toFixed(2).padStart(6)} ${server(e).padStart(6)} ${fmt(r.rate).padStart(10)} ${r.ratio.toFixed(2).padStart(5)}x ${r.cpuMs.toFixed(2).padStart(6)} ${server(r).padStart(6)}`,
  );
}
const counted = rows.filter(([, server]) => server.roundTrips);
if (counted.length > 0) {
  // Per store: Postgres and Redis serve a client from memory and check it in the grant's own
  // statement or script (clients.lookup), and PGlite's client reads hit its exact cache.
  const list = (calls) => `${calls.length} (${calls.join(', ') || 'none'})`;
  console.log(
    `\nstore backend calls per grant at the token endpoint (approval not included; on Postgres/Redis each is one round trip; on PGlite find(client) is served by its exact cache and a code's rotate runs two statements):\n${counted
      .map(
        ([name, { roundTrips }]) =>
          `  ${name.replace(/^.*\((\w+) store\)$/, '$1').padEnd(9)} code exchange: ${list(roundTrips.exchange).padEnd(34)} refresh: ${list(roundTrips.refresh)}`,
      )
      .join('\n')}`,
  );
}
if (split) {
  const i = rows.findIndex(([, server]) => server === memoryRow);
  const line = (name, what, m) => {
    const server = summary(i, what).serverMs;
    const rest = m.handler - m.store - split.signMs;
    return `  ${name} ${server.toFixed(3)} = HTTP glue ${glueMs.toFixed(3)} + in the server ${(server - m.handler - glueMs).toFixed(3)} + handler ${m.handler.toFixed(3)} (store ${m.store.toFixed(3)}, ES256 signature ${split.signMs.toFixed(3)}, the rest ${rest.toFixed(3)})`;
  };
  console.log(
    `
memory store, server CPU ms per grant split (the handler measured in process, one grant at a time, through the bridge toNodeHandler uses; HTTP glue: node:http and toNodeHandler beyond the client row's server, measured with a fixed answer through toNodeHandler; in the server: the rest of the server column, what the same handler costs more in the server, run between socket and client work, than called one grant after another (caches and GC; it is the same with 1 client as with 8):
${line('code exchange (with approval):', 'exchanges', split.exchange)}
${line('refresh:                      ', 'refreshes', split.refresh)}`,
  );
}
if (pgliteSplit) {
  const line = (name, what, m) => {
    const base = summary(0, what).serverMs;
    return `  ${name} ${m.handler.toFixed(3)} = ${m.engine.statements.toFixed(2)} statements inside PGlite ${m.engine.cpuMs.toFixed(3)} + the rest ${(m.handler - m.engine.cpuMs).toFixed(3)}   (node-oidc-provider's whole server column: ${base.toFixed(3)})`;
  };
  console.log(
    `
PGlite store, handler CPU ms per grant (in process, one grant at a time, as for the memory split; inside PGlite = the CPU from each execProtocolRaw call, one prepared statement, to its answer); the least one statement costs here, a keyed read that finds nothing: ${pgliteSplit.floorMs.toFixed(3)}:
${line('code exchange (with approval):', 'exchanges', pgliteSplit.exchange)}
${line('refresh:                      ', 'refreshes', pgliteSplit.refresh)}`,
  );
}
for (const line of skipped) console.log(line);
console.log(
  `\nratio = median over the rounds of figure / node-oidc-provider's figure in the same round; figures are medians too; cpu ms = this process's CPU time per operation (client and server); server = cpu ms minus the client-only row's in the same round (what the server spends in this process; the Postgres and Redis servers' own CPU is not in it). The client row bounds every ratio: a server costing nothing would reach at most (baseline cpu ms) / (client cpu ms). oidc-provider ships no PGlite, Postgres or Redis adapter: its in-memory adapter is the baseline for every row. Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
);
