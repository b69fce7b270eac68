// Same process, real HTTP (issue 15 item 5): the built template with auth on and with auth off,
// each on its own node:http server but both in ONE child process, driven alternately by
// autocannon from this one. Between ./index.mjs (a process per row: each row's figure carries
// that process's own JIT and heap, ±10% between two identical processes on the shared machine,
// see its A/A row) and ./mcp-in-process.mjs (no sockets or parser, everything hot in cache,
// which hides what the guard costs when a request runs among the kernel's and the SDK's work):
// here the rows share one JIT and one heap, and every request crosses a socket and node:http.
// Rows: auth on with the bench's 8 tokens (~516 characters, as the authorization server's) and
// with 8 short ones (1-character jti, to read what the token's length costs), auth off, and
// auth off sent the same bytes (the token in a header it ignores). Figures: the server
// process's CPU per request (median over rounds), the load generator's, and the median of the
// per-round ratios (throughput, and CPU per request). Run after `pnpm build`:
//   node internal/e2e/bench/mcp-same-process.mjs
// Env: BENCH_ROUNDS (12), BENCH_SLICE_SECONDS (3), BENCH_WARMUP_REQUESTS (10000 per row),
// BENCH_CONNECTIONS (10), BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import * as bench from './shared.mjs';

const { BENCH_ROUNDS, BENCH_SLICE_SECONDS, BENCH_WARMUP_REQUESTS, BENCH_CONNECTIONS } = process.env;
const [ROUNDS, SLICE, WARMUP_REQUESTS, CONNECTIONS] = [
  Number(BENCH_ROUNDS ?? 12),
  Number(BENCH_SLICE_SECONDS ?? 3),
  Number(BENCH_WARMUP_REQUESTS ?? 10_000),
  Number(BENCH_CONNECTIONS ?? 10),
];
const { cpuMs, loadAverage, MODERN_TOOLS_CALL, median, ROUND_ORDER, roundOrder } = bench;

if (process.argv[2] === '--serve') {
  // The child: both apps, their ports and the tokens on one line of stdout.
  const { accessToken, templateApp } = await import('./template-apps.mjs');
  const ports = {};
  for (const mode of /** @type {const} */ (['oauth', 'none'])) {
    const server = createServer(await templateApp(mode));
    await new Promise((listening) => server.listen(0, '127.0.0.1', () => listening(undefined)));
    ports[mode] = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  }
  const tokens = (jti) => Array.from({ length: 8 }, (_, i) => accessToken(jti(String(i))));
  const line = { ports, long: tokens((i) => i.repeat(112)), short: tokens((i) => i) };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  process.on('SIGTERM', () => process.exit(0));
} else {
  const serverArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [...serverArgs, fileURLToPath(import.meta.url), '--serve'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const { ports, long, short } = JSON.parse(
      await new Promise((read) => createInterface({ input: child.stdout }).once('line', read)),
    );
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'public_tool',
    };
    // Each request serialised once by autocannon (as in ./index.mjs): the same client work per row.
    const requests = (tokens, header = 'authorization') =>
      tokens.map((token) => ({
        method: 'POST',
        headers: { ...headers, [header]: `Bearer ${token}` },
        body: MODERN_TOOLS_CALL,
      }));
    const rows = {
      on: { port: ports.oauth, requests: requests(long) },
      onShort: { port: ports.oauth, requests: requests(short) },
      off: { port: ports.none, requests: [{ method: 'POST', headers, body: MODERN_TOOLS_CALL }] },
      offBytes: { port: ports.none, requests: requests(long, 'x-bench-token') },
    };
    const names = Object.keys(rows);
    const run = async (name, limit) => {
      const before = cpuMs(child.pid);
      const client = process.cpuUsage();
      const result = await autocannon({
        url: `http://127.0.0.1:${rows[name].port}/mcp`,
        connections: CONNECTIONS,
        skipAggregateResult: true,
        requests: rows[name].requests,
        ...limit,
      });
      const used = process.cpuUsage(client);
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: requests failed`);
      const n = result.totalCompletedRequests;
      return {
        n,
        server: ((cpuMs(child.pid) ?? 0) - (before ?? 0)) / n,
        client: (used.user + used.system) / 1000 / n,
      };
    };
    for (const name of names) await run(name, { amount: WARMUP_REQUESTS });
    const results = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of roundOrder(names, round))
        results[name].push(await run(name, { duration: SLICE }));
    }
    console.log(
      `same-process tools/call (internal/e2e/bench/mcp-same-process.mjs): ${ROUNDS} rounds of ${SLICE} s (${ROUND_ORDER}), ${CONNECTIONS} connections; load average ${loadAverage()}`,
    );
    const labels = {
      on: 'auth on (8 tokens, ~516 characters)',
      onShort: 'auth on, 8 short tokens (1-character jti)',
      off: 'auth off',
      offBytes: 'auth off, same bytes (token in x-header)',
    };
    for (const name of names) {
      const rs = results[name];
      const rps = rs.reduce((sum, r) => sum + r.n, 0) / (ROUNDS * SLICE);
      console.log(
        `  ${labels[name].padEnd(44)} ${rps.toFixed(0).padStart(6)} req/s   server CPU ${(1000 * median(rs.map((r) => r.server))).toFixed(0)} µs/request   load generator ${(1000 * median(rs.map((r) => r.client))).toFixed(0)} µs/request`,
      );
    }
    // Within each round, then the median: throughput a ÷ b, and CPU per request b ÷ a.
    const ratio = (a, b, of) => median(results[a].map((r, i) => of(r, results[b][i])));
    for (const [a, b] of [
      ['on', 'off'],
      ['on', 'offBytes'],
      ['offBytes', 'off'],
      ['on', 'onShort'],
    ]) {
      console.log(
        `  ratio ${a} / ${b}: throughput ${ratio(a, b, (x, y) => x.n / y.n).toFixed(3)}, CPU per request ${ratio(a, b, (x, y) => y.server / x.server).toFixed(3)}`,
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
}
