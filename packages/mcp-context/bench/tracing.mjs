// The cost of the mcp.bearer_auth span on the guard's hot path: bearerAuth deciding a
// tools/call with a token already in the verifier's cache (synchronous, no promise), called
// directly with a parsed body, no HTTP. Three guards side by side in one run:
//   off      tracer: false (what a server without @opentelemetry/api installed does)
//   no-op    the default with the api installed and no provider registered (the api's no-op)
//   sdk      a BasicTracerProvider recording every span (no processor: the SDK's own cost)
// Each runs 2,000 calls in turn until the time is up, the order flipping every slice; per
// candidate, the median over slices of its time relative to `off` in the same slice, and CPU
// time per call (process.cpuUsage: user + system, this process only).
import { loadavg } from 'node:os';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { cachedVerifier } from '../dist/index.js';
import { bearerAuth } from '../dist/node/index.js';

const MS = Number(process.env.BENCH_TRACING_MS ?? 4000);
const SLICE = 2000;
const RESOURCE = 'http://127.0.0.1:8000/mcp';
const TOKEN = 'a-cached-token';
const body = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: {} },
};

function guard(extra) {
  const verifier = cachedVerifier(async (token) => ({
    token,
    clientId: 'bench',
    scopes: ['read', 'admin'],
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  }));
  const auth = bearerAuth({
    verifier,
    resource: RESOURCE,
    toolScopes: { secure_operation: ['admin'] },
    ...extra,
  });
  const res = { statusCode: 200, setHeader() {}, end() {} };
  let passed = 0;
  const next = () => {
    passed++;
  };
  const call = () => {
    const req = {
      method: 'POST',
      url: '/mcp',
      headers: { host: '127.0.0.1:8000', authorization: `Bearer ${TOKEN}` },
      body,
    };
    auth(req, res, next);
  };
  return { call, passed: () => passed };
}

async function main() {
  const provider = new BasicTracerProvider();
  const candidates = [
    { name: 'off (tracer: false)', ...guard({ tracer: false }) },
    { name: 'no-op (api, no provider)', ...guard({}) },
    { name: 'sdk (recording spans)', ...guard({ tracer: provider.getTracer('bench') }) },
  ];
  // Fill each cache (the first call is awaited) and let the default guard's import resolve.
  for (const c of candidates) c.call();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // For instruction counts (valgrind --tool=callgrind): only CALLS calls of candidate ONLY.
  if (process.env.BENCH_ONLY !== undefined) {
    const c = candidates[Number(process.env.BENCH_ONLY)];
    for (let i = 0; i < Number(process.env.BENCH_CALLS ?? 0); i++) c.call();
    return;
  }
  for (const c of candidates) for (let i = 0; i < 20_000; i++) c.call(); // warm-up
  const before = candidates.map((c) => c.passed());
  if (trace.getTracerProvider() === undefined) throw new Error('no api');

  const time = candidates.map(() => 0);
  const cpu = candidates.map(() => 0);
  const calls = candidates.map(() => 0);
  const relative = candidates.map(() => []);
  const end = performance.now() + MS;
  for (let round = 0; performance.now() < end; round++) {
    const order = [...candidates.entries()];
    if (round % 2) order.reverse();
    const slice = [];
    for (const [i, c] of order) {
      const usage = process.cpuUsage();
      const start = performance.now();
      for (let j = 0; j < SLICE; j++) c.call();
      slice[i] = performance.now() - start;
      const used = process.cpuUsage(usage);
      cpu[i] += used.user + used.system;
      time[i] += slice[i];
      calls[i] += SLICE;
    }
    for (const i of candidates.keys()) relative[i].push(slice[i] / slice[0]);
  }
  candidates.forEach((c, i) => {
    if (c.passed() - before[i] !== calls[i]) throw new Error(`${c.name}: not every call passed`);
  });
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(
    `load average: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  console.log('bearerAuth, cached token, tools/call with tool scopes (synchronous path):');
  candidates.forEach((c, i) => {
    const ns = (time[i] * 1e6) / calls[i];
    const cpuNs = (cpu[i] * 1e3) / calls[i];
    console.log(
      `  ${c.name.padEnd(26)} ${ns.toFixed(0).padStart(6)} ns/call wall, ${cpuNs
        .toFixed(0)
        .padStart(6)} ns/call CPU, median time vs off ${median(relative[i]).toFixed(3)}×`,
    );
  });
}

await main();
