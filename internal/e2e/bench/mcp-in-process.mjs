// In-process A/B (issue 15 item 5): the built app's request listener with auth on (an ES256
// RFC 9068 JWT checked by jwtVerifier with its default cache, as AUTH_MODE=oauth does) and with
// auth off, driven alternately in one process through in-memory requests and responses: no
// socket, HTTP parser, client or other process takes CPU, and load from elsewhere hits every row
// alike. Rows: auth off sent the same bytes (the token in a header it ignores), and auth on with
// a stubbed verifier (the guard without the token's hash and cache), so the cost of each part
// shows apart. Figures are process CPU per request (median over rounds) and the median of the
// per-round ratios. Run after `pnpm build`: node internal/e2e/bench/mcp-in-process.mjs
// (bench/index.mjs runs it after its HTTP rows, unless BENCH_IN_PROCESS=0).
// Env: BENCH_ROUNDS (default 20), BENCH_OPS (requests per slice, 2000), BENCH_CONCURRENCY (10),
// BENCH_ONLY=<row>[,<row>] to run some rows (one alone for node --cpu-prof).
// Measured on the 2-core shared machine: at load average above ~4 a row's median still swings by
// ±10% between runs (the four rows compete for cache and the GC's threads); two rows alone
// (BENCH_ONLY=on,onStub) hold better. Read a ratio with its load average, as the HTTP ones.
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { loadAverage, MODERN_TOOLS_CALL, median, ROUND_ORDER, roundOrder } from './shared.mjs';
import { accessToken, templateApp as app, verifier } from './template-apps.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const OPS = Number(process.env.BENCH_OPS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const token = accessToken();

const body = Buffer.from(MODERN_TOOLS_CALL);
const baseHeaders = {
  host: '127.0.0.1:8000',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'content-length': String(body.length),
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'public_tool',
};

/** One request through a listener, with in-memory stand-ins for IncomingMessage/ServerResponse. */
function call(listener, headers) {
  return new Promise((resolve, reject) => {
    const req = Readable.from([body], { objectMode: false });
    req.method = 'POST';
    req.url = '/mcp';
    req.headers = { ...headers };
    const res = new EventEmitter();
    const out = {};
    res.headersSent = false;
    res.statusCode = 200;
    res.setHeader = (name, value) => {
      out[name.toLowerCase()] = value;
    };
    res.writeHead = (status, head) => {
      res.statusCode = status;
      if (head) Object.assign(out, head);
      res.headersSent = true;
      return res;
    };
    res.write = () => true;
    res.end = (chunk) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}: ${chunk}`));
      else resolve(chunk);
      res.emit('close');
      return res;
    };
    listener(req, res);
  });
}

async function slice(listener, headers) {
  let next = 0;
  const worker = async () => {
    while (next++ < OPS) await call(listener, headers);
  };
  const start = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(start);
  return { wall, cpu: cpu.user + cpu.system };
}

// Flat, as node:http hands header values over (a template literal is a rope until first read).
const authorized = {
  ...baseHeaders,
  authorization: Buffer.from(`Bearer ${token}`).toString('latin1'),
};
const offListener = await app('none');
// What the real verifier answers for this token, handed back without hashing or caching.
const checked = await verifier({ cache: false })(token);
const rows = {
  on: { listener: await app('oauth'), headers: authorized },
  off: { listener: offListener, headers: baseHeaders },
  offBytes: {
    listener: offListener,
    headers: { ...baseHeaders, 'x-bench-token': authorized.authorization },
  },
  onStub: {
    listener: await app('oauth', async (presented) => ({ ...checked, token: presented })),
    headers: authorized,
  },
};
const order = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : Object.keys(rows);
for (const name of order) await slice(rows[name].listener, rows[name].headers); // warm up
const cpu = Object.fromEntries(order.map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Each row runs right after each other one equally often (and meets its garbage as often).
  for (const name of roundOrder(order, round)) {
    cpu[name].push((await slice(rows[name].listener, rows[name].headers)).cpu / OPS);
  }
}
// Throughput ratio a ÷ b = CPU b ÷ CPU a, taken within each round, then the median.
const ratio = (a, b) => median(cpu[a].map((value, i) => cpu[b][i] / value));
console.log(
  `in-process tools/call (internal/e2e/bench/mcp-in-process.mjs), ${ROUNDS} rounds (${ROUND_ORDER}) × ${OPS} requests, concurrency ${CONCURRENCY}; load average ${loadAverage()}`,
);
const labels = {
  on: 'auth on (JWT, cached verifier)',
  off: 'auth off',
  offBytes: 'auth off, same bytes (token in x-header)',
  onStub: 'auth on, verifier stubbed (guard only)',
};
for (const name of order)
  console.log(
    `  ${labels[name].padEnd(42)} ${median(cpu[name]).toFixed(1).padStart(6)} µs CPU/request`,
  );
if (order.length === 2) {
  console.log(`  ratio ${order[0]} / ${order[1]}: ${ratio(order[0], order[1]).toFixed(3)}`);
} else if (order.length === 4) {
  console.log(
    `  ratio auth on / auth off: ${ratio('on', 'off').toFixed(3)} (aim >= 0.97); on / same bytes: ${ratio('on', 'offBytes').toFixed(3)}; on / verifier stubbed: ${ratio('on', 'onStub').toFixed(3)}; stubbed / off: ${ratio('onStub', 'off').toFixed(3)}`,
  );
}
