// The authorization server's token endpoint under load (issue 16): refresh_token grants and
// authorization_code exchanges, real HTTP requests to `next start`, on PGlite (the embedded
// default) and on Postgres (DATABASE_URL, a schema of this run's own), from TOKEN_CLIENTS
// confidential clients at once, each from its own address behind TRUST_PROXY=1 as in production.
// The anchor, measured in the same run with the same driver: node-oidc-provider 9.13.3 (in-memory
// adapter, its own node:http server in a child process) doing the same grants.
//
// Codes come from the real path without a browser: DCR, next-auth's dev login, /authorize and the
// consent form once per client, then /authorize again (consent remembered) for each further code.
// Every client stays under the server's default limits (60 token requests a minute per client,
// 120 per address, 60 authorizations per client × address): the refresh and code phases use
// clients of their own, so each phase is bounded by TOKEN_OPS per client.
//
// Every server runs at once and is measured in BENCH_TOKEN_ROUNDS (5) rounds in turn.
// Knobs: BENCH_TOKEN_CLIENTS (24), BENCH_TOKEN_OPS (grants per client per phase, 50, at most 55),
// BENCH_TOKEN_STORES (pglite,postgres), BENCH_TOKEN_ANCHOR (1; 0 skips node-oidc-provider),
// DATABASE_URL, BENCH_CPU_PROF=<dir> (a V8 CPU profile of each `next start`, and windows.json beside
// it: each measured round's [start, end] in µs of the monotonic clock the profiles' samples use).
// Run alone: `node bench/token.mjs`; `bench/index.mjs` runs it after the MCP figures.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  CookieJar,
  devLogin,
  freePort,
  pkce,
  spawnGroup,
  startAuthServer,
  tokenRequest,
  waitFor,
} from '@portcullis/internal-testing/apps';
import pg from 'pg';
import { cpuMs } from './shared.mjs';

const CLIENTS = Number(process.env.BENCH_TOKEN_CLIENTS ?? 24);
const OPS = Math.min(55, Number(process.env.BENCH_TOKEN_OPS ?? 50));
const STORES = (process.env.BENCH_TOKEN_STORES ?? 'pglite,postgres').split(',').filter(Boolean);
const ANCHOR = process.env.BENCH_TOKEN_ANCHOR !== '0';
const ROUNDS = Math.max(1, Number(process.env.BENCH_TOKEN_ROUNDS ?? 5));
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CPU_PROF = process.env.BENCH_CPU_PROF;
const REDIRECT_URI = 'http://127.0.0.1:9/callback'; // read from Location, never followed
const RESOURCE = 'http://127.0.0.1:9/mcp'; // only an audience: nothing listens there
const GOAL = { refresh: 400, code: 300, p99: 100 };

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A distinct TEST-NET address (RFC 5737) per bench caller: only a header, no traffic goes there. */
const NETS = ['192.0.2', '198.51.100', '203.0.113'];
const address = (n) => `${NETS[Math.floor(n / 254) % NETS.length]}.${(n % 254) + 1}`;

async function ok(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  }
  return response;
}

/** DCR (RFC 7591) of a confidential client, from `from`. */
async function register(issuer, name, from) {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  return (await ok(response, 201, 'registration')).json();
}

/**
 * One code for `client` through /authorize as the signed-in user (the consent form the first
 * time); resolves the code and its PKCE verifier.
 */
async function authorize(issuer, jar, client, from) {
  const { verifier, challenge } = pkce();
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: 'read',
    state: 'bench',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: RESOURCE,
  }).toString();
  const headers = { cookie: jar.header(), 'x-forwarded-for': from };
  const first = await fetch(url, { headers, redirect: 'manual' });
  let location = new URL(first.headers.get('location') ?? '/', issuer);
  if (location.origin === issuer && location.pathname === '/consent') {
    const html = await (await ok(await fetch(location, { headers }), 200, 'consent')).text();
    const field = (name) =>
      new RegExp(`name="${name}" value="([^"]*)"`)
        .exec(html)?.[1]
        ?.replace(/&quot;/g, '"')
        .replace(/&#x27;|&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    const decision = await fetch(`${issuer}/authorize/decision`, {
      method: 'POST',
      headers: { ...headers, origin: issuer, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        request: field('request') ?? '',
        csrf: field('csrf') ?? '',
        decision: 'approve',
      }),
      redirect: 'manual',
    });
    location = new URL(decision.headers.get('location') ?? '/', issuer);
  }
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`/authorize gave no code: ${first.status} ${location}`);
  return { code, verifier };
}

function codeExchange(issuer, client, { code, verifier }, from) {
  const request = tokenRequest(client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
    resource: RESOURCE,
  });
  return fetch(`${issuer}/token`, {
    method: 'POST',
    body: request.body,
    headers: { ...request.headers, 'x-forwarded-for': from },
  });
}

function refresh(issuer, client, refreshToken, from) {
  const request = tokenRequest(client, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    resource: RESOURCE,
  });
  return fetch(`${issuer}/token`, {
    method: 'POST',
    body: request.body,
    headers: { ...request.headers, 'x-forwarded-for': from },
  });
}

/**
 * Runs every worker's `ops` steps at once; resolves the latencies, the seconds, the server's CPU
 * ms and the refusals. `step(worker, i)` resolves the response of one measured request.
 */
async function measure(pid, workers, ops, step) {
  const cpuBefore = cpuMs(pid);
  const from = process.hrtime.bigint();
  const latencies = [];
  let refused = 0;
  let firstRefusal;
  const started = performance.now();
  await Promise.all(
    workers.map(async (worker) => {
      for (let i = 0; i < ops; i++) {
        const t0 = performance.now();
        const response = await step(worker, i);
        const body = await response.json();
        latencies.push(performance.now() - t0);
        if (response.status !== 200) {
          refused++;
          firstRefusal ??= `${response.status} ${JSON.stringify(body)}`;
          return;
        }
        worker.tokens = body;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuMs(pid);
  const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  // The measured window on the monotonic clock in µs, as V8 stamps its CPU profiles' samples.
  const window = [Number(from / 1000n), Number(process.hrtime.bigint() / 1000n)];
  return { latencies, seconds, cpu, refused, firstRefusal, window };
}

/** One figure from a server's rounds: grants/s over their seconds, p50/p99 over all grants. */
function summary(parts) {
  const latencies = parts.flatMap((p) => p.latencies).sort((a, b) => a - b);
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  const cpu = parts.every((p) => p.cpu !== undefined)
    ? parts.reduce((n, p) => n + p.cpu, 0) / latencies.length
    : undefined;
  return {
    cpu,
    rate: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    count: latencies.length,
    seconds,
    refused: parts.reduce((n, p) => n + p.refused, 0),
    firstRefusal: parts.find((p) => p.firstRefusal)?.firstRefusal,
  };
}

/** The median over rounds of (this server's grants/s ÷ the anchor's) in the same round. */
function medianRatio(parts, base) {
  const rate = (p) => p.latencies.length / p.seconds;
  const ratios = parts.map((p, i) => rate(p) / rate(base[i])).sort((a, b) => a - b);
  const middle = Math.floor(ratios.length / 2);
  return ratios.length % 2 ? ratios[middle] : (ratios[middle - 1] + ratios[middle]) / 2;
}

/**
 * A server under test: `prepare()` resolves the refresh workers (a refresh token each) and the
 * code workers (consent given); `addCodes(worker, n)` makes a worker's next codes (codes live 60
 * s, so each round makes its own), all outside the measurement.
 */
async function appTarget(store) {
  let schema;
  const env = { TRUST_PROXY: '1' };
  if (store === 'postgres') {
    schema = `bench_${process.pid}_${Date.now().toString(36)}`;
    Object.assign(env, { DATABASE_URL, DATABASE_SCHEMA: schema });
  }
  const nodeArgs = CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(CPU_PROF, `auth-server-${store}`)}`]
    : [];
  const as = await startAuthServer({ resources: [RESOURCE], env, nodeArgs });
  const issuer = as.url;
  return {
    name: `auth-server (next start, ${store === 'postgres' ? 'Postgres' : 'PGlite'})`,
    pid: as.pid,
    async prepare() {
      const jar = await devLogin(issuer, 'bench@example.com', new CookieJar());
      const make = async (n, codes) => {
        const from = address(n);
        const client = await register(issuer, `Token bench client ${n}`, from);
        const grants = [];
        for (let i = 0; i < codes; i++) grants.push(await authorize(issuer, jar, client, from));
        return { client, from, grants };
      };
      const refreshers = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, n) => {
          const worker = await make(n, 1);
          const response = await codeExchange(issuer, worker.client, worker.grants[0], worker.from);
          worker.tokens = await (await ok(response, 200, 'code exchange')).json();
          return worker;
        }),
      );
      // The first code of each shows the consent form; later ones redirect straight back.
      const exchangers = await Promise.all(
        Array.from({ length: CLIENTS }, (_, n) => make(CLIENTS + n, 1)),
      );
      this.jar = jar;
      return { refreshers, exchangers };
    },
    async addCodes(w, count) {
      w.grants = [];
      for (let i = 0; i < count; i++)
        w.grants.push(await authorize(issuer, this.jar, w.client, w.from));
    },
    refresh: (w) => refresh(issuer, w.client, w.tokens.refresh_token, w.from),
    exchange: (w, i) => codeExchange(issuer, w.client, w.grants[i], w.from),
    async close() {
      await as.close();
      if (schema) {
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
        await pool.end();
      }
    },
  };
}

/** node-oidc-provider 9.13.3 in its own process (./oidc-provider-server.mjs). */
async function anchorTarget() {
  const port = await freePort();
  const spawned = spawnGroup(
    process.execPath,
    [fileURLToPath(new URL('./oidc-provider-server.mjs', import.meta.url))],
    {
      cwd: path.dirname(fileURLToPath(import.meta.url)),
      env: { PATH: process.env.PATH ?? '', PORT: String(port), RESOURCE, REDIRECT_URI },
    },
  );
  const issuer = `http://127.0.0.1:${port}`;
  await waitFor('node-oidc-provider', async () => (await fetch(`${issuer}/jwks`)).ok, {
    timeoutMs: 30_000,
    spawned,
  });
  // Its clients: confidential, client_secret_basic, like the app's.
  const client = (n) => ({ client_id: `bench-${n}`, client_secret: `bench-secret-${n}` });
  const codes = async (n, count) => {
    const made = [];
    for (let i = 0; i < count; i++) {
      const { verifier, challenge } = pkce();
      const response = await fetch(`${issuer}/bench/code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: client(n).client_id, code_challenge: challenge }),
      });
      made.push({ code: (await (await ok(response, 200, 'anchor code')).json()).code, verifier });
    }
    return made;
  };
  return {
    name: 'anchor: node-oidc-provider 9.13.3 (in memory, a Map adapter)',
    pid: spawned.child.pid,
    async prepare() {
      const refreshers = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, n) => {
          const worker = { client: client(n), from: address(n), grants: await codes(n, 1) };
          const response = await codeExchange(issuer, worker.client, worker.grants[0], worker.from);
          worker.tokens = await (await ok(response, 200, 'anchor code exchange')).json();
          return worker;
        }),
      );
      const exchangers = Array.from({ length: CLIENTS }, (_, n) => ({
        n: CLIENTS + n,
        client: client(CLIENTS + n),
        from: address(CLIENTS + n),
      }));
      return { refreshers, exchangers };
    },
    async addCodes(w, count) {
      w.grants = await codes(w.n, count);
    },
    refresh: (w) => refresh(issuer, w.client, w.tokens.refresh_token, w.from),
    exchange: (w, i) => codeExchange(issuer, w.client, w.grants[i], w.from),
    close: () => spawned.stop(),
  };
}

/** Refresh grants of the first workers before the figures: JIT, pools and caches warm. */
const WARM = Math.min(3, OPS - 1);

/** `total` split into `rounds` near-equal parts. */
const split = (total, rounds) =>
  Array.from(
    { length: rounds },
    (_, r) => Math.floor(((r + 1) * total) / rounds) - Math.floor((r * total) / rounds),
  );

/**
 * Prints, per server, refresh grants/s and code exchanges/s with p50/p99 and its CPU per grant,
 * the goal beside the app's rows and each app figure ÷ the anchor's. Every server runs at once
 * and is measured in each of ROUNDS rounds in turn (the order rotating), so load from elsewhere
 * hits them alike; the ratio is the median of the per-round ratios. Resolves the number of
 * refused requests (non-200): nonzero makes the figures invalid.
 */
export async function tokenBench() {
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `\ntoken endpoint (client_secret_basic, ES256 JWT access tokens, rotating refresh tokens): ${CLIENTS} clients per phase in parallel, each from its own address behind TRUST_PROXY=1, ${OPS} grants each over ${ROUNDS} rotating rounds; load average before: ${load()}`,
  );
  const targets = [];
  try {
    for (const kind of [...(ANCHOR ? ['anchor'] : []), ...STORES]) {
      try {
        const target = kind === 'anchor' ? await anchorTarget() : await appTarget(kind);
        targets.push({ kind, target, refreshes: [], exchanges: [] });
      } catch (error) {
        if (kind !== 'postgres') throw error;
        console.log(`  Postgres skipped: ${DATABASE_URL} unreachable (${error.message})`);
      }
    }
    for (const t of targets) {
      t.workers = await t.target.prepare();
      // Warm-up (JIT, pools, caches): WARM grants of the first workers, under their limit.
      await measure(t.target.pid, t.workers.refreshers.slice(0, 4), WARM, (w) =>
        t.target.refresh(w),
      );
    }
    const refreshOps = split(OPS - WARM, ROUNDS);
    const exchangeOps = split(OPS, ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const t of order) {
        t.refreshes.push(
          await measure(t.target.pid, t.workers.refreshers, refreshOps[round], (w) =>
            t.target.refresh(w),
          ),
        );
      }
      for (const t of order) {
        await Promise.all(
          t.workers.exchangers.map((w) => t.target.addCodes(w, exchangeOps[round])),
        );
      }
      for (const t of order) {
        t.exchanges.push(
          await measure(t.target.pid, t.workers.exchangers, exchangeOps[round], (w, i) =>
            t.target.exchange(w, i),
          ),
        );
      }
    }
  } finally {
    for (const t of targets) await t.target.close();
  }
  if (CPU_PROF) {
    // Each app's measured windows beside its profiles: the profile's samples inside them are
    // the grants' own cost (without start-up, registration, consent and the codes' /authorize).
    for (const t of targets.filter((t) => t.kind !== 'anchor')) {
      const windows = {
        refresh: t.refreshes.map((p) => p.window),
        code: t.exchanges.map((p) => p.window),
      };
      writeFileSync(
        path.resolve(CPU_PROF, `auth-server-${t.kind}`, 'windows.json'),
        JSON.stringify(windows),
      );
    }
  }
  const anchor = targets.find((t) => t.kind === 'anchor');
  const line = (what, parts, goal, base) => {
    const r = summary(parts);
    return `    ${what.padEnd(16)} ${r.rate.toFixed(0).padStart(5)}/s   p50 ${r.p50.toFixed(1).padStart(5)} ms   p99 ${r.p99.toFixed(1).padStart(5)} ms${r.cpu === undefined ? '' : `   server CPU ${r.cpu.toFixed(2)} ms each`}${goal ? `   goal >= ${goal}/s, p99 <= ${GOAL.p99} ms: ${r.rate >= goal && r.p99 <= GOAL.p99 ? 'met' : 'not met'}` : ''}${base ? `   ${medianRatio(parts, base).toFixed(2)}x the anchor` : ''}${r.refused ? `   non-200 ${r.refused} (first: ${r.firstRefusal})` : ''}   (${r.count} in ${r.seconds.toFixed(1)} s)`;
  };
  let refused = 0;
  for (const t of targets) {
    const app = t.kind !== 'anchor';
    console.log(`  ${t.target.name}`);
    console.log(line('refresh grants', t.refreshes, app && GOAL.refresh, app && anchor?.refreshes));
    console.log(line('code exchanges', t.exchanges, app && GOAL.code, app && anchor?.exchanges));
    refused += summary(t.refreshes).refused + summary(t.exchanges).refused;
  }
  console.log(
    `  ratios: median over rounds of the grants/s of a round ÷ the anchor's in the same round; load average after: ${load()} (${os.cpus().length} cores)`,
  );
  return refused;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const refused = await tokenBench();
  if (refused > 0) {
    console.error(`\n${refused} requests refused: the figures above are not valid.`);
    process.exitCode = 1;
  }
}
