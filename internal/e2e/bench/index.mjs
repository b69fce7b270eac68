// Load, end to end (issues 9 and 15): the built apps on 127.0.0.1, valid tokens from the real flow.
//  1. tools/call on the example MCP server (MCP 2026-07-28, the v2 SDK) with auth on
//     (AUTH_MODE=oauth: JWT verified against the authorization server's JWKS) and with auth off
//     (AUTH_MODE=none), beside the anchor: the MCP SDK 1.32.2 stateless example without auth
//     (./sdk-v1-example.mjs). All three are measured in the same run in short rounds (each
//     server right after each other equally often), so load from elsewhere hits them alike;
//     each round on new server processes (BENCH_FRESH_PROCESSES=0: the same ones throughout),
//     since two processes of one server differ by up to 15% in CPU per request. The ratios are the figures we track
//     (aims: auth on / anchor >= 1.6, auth on / auth off >= 0.97, p99 no worse than the
//     anchor's); non-2xx must be 0. A control row sends auth off the same bytes as auth on (the
//     token in a header it ignores), so the cost of checking a token shows apart from the cost
//     of carrying one. BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each server.
//     Also printed, to read the ratios with: the access token's size per part and per claim,
//     the load generator's own CPU per request of each row (it shares the cores), and each
//     round's on/off and A/A ratio (the spread the medians come from).
//     Then ./mcp-in-process.mjs: the same auth on / off comparison with both apps' request
//     listeners in one process (no sockets, no client), steadier under load (BENCH_IN_PROCESS=0 skips it).
//  2. The token endpoint (./token.mjs): refresh grants and code exchanges per second with p50/p99,
//     on PGlite and on Postgres, beside node-oidc-provider 9.13.3 in the same run (aims: >= 400
//     refresh grants/s and >= 300 code exchanges/s with p99 <= 100 ms). Alone: node bench/token.mjs;
//     BENCH_TOKEN=0 skips it.
// Every server is a child process, so autocannon does not take their CPU.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CookieJar,
  codeFlow,
  devLogin,
  freePort,
  refreshGrant,
  registerClient,
  spawnGroup,
  startAuthServer,
  startMcpServer,
  waitFor,
} from '@portcullis/internal-testing/apps';
import autocannon from 'autocannon';
import {
  cpuMs,
  loadAverage,
  MODERN_TOOLS_CALL,
  median,
  ROUND_ORDER,
  roundOrder,
} from './shared.mjs';
import { tokenBench } from './token.mjs';

const MCP_SECONDS = Number(process.env.BENCH_MCP_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP_REQUESTS ?? 10_000);
const REDIRECT_URI = 'http://127.0.0.1:9/callback'; // read from Location, never followed

const CPU_PROF = process.env.BENCH_CPU_PROF;
const FRESH = process.env.BENCH_FRESH_PROCESSES !== '0';

// A 2025-era tools/call (the anchor speaks at most 2025-11-25; stateless needs no initialize).
const LEGACY = {
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'public_tool', arguments: {} },
  }),
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
};
// The same call as the v2 client sends it at 2026-07-28: the envelope in _meta and in headers.
const MODERN = {
  body: MODERN_TOOLS_CALL,
  headers: {
    ...LEGACY.headers,
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'public_tool',
  },
};

/** Node arguments for a server under test: a CPU profile per process when asked. */
const profiling = (name) =>
  CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];

/** The MCP SDK 1.32.2 stateless example, as a child process like the apps. */
async function startSdkV1Example(name = 'sdk-v1-example') {
  const port = await freePort();
  const spawned = spawnGroup(
    process.execPath,
    [...profiling(name), fileURLToPath(new URL('./sdk-v1-example.mjs', import.meta.url))],
    {
      cwd: path.dirname(fileURLToPath(import.meta.url)),
      env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    },
  );
  await waitFor(
    'SDK 1.32.2 example',
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
    {
      timeoutMs: 30_000,
      spawned,
    },
  );
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pid: spawned.child.pid,
    close: () => spawned.stop(),
  };
}

/**
 * One autocannon run of `call`, for `length` (`{ duration }` in seconds or `{ amount }` of
 * requests); `tokens` (rotated per request) when auth is on. Each token is
 * a request of its own that autocannon serialises once and each connection cycles through, so
 * the load generator does the same work per request in every mode (a `setupRequest` would
 * rebuild the request every time, on the cores the servers share, for the auth-on mode only).
 */
function cannon(url, length, call, tokens, header = 'authorization') {
  const request = (headers) => ({ method: 'POST', headers, body: call.body });
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...length,
    skipAggregateResult: true,
    requests: tokens
      ? tokens.map((token) => request({ ...call.headers, [header]: `Bearer ${token}` }))
      : [request(call.headers)],
  });
}

/** Merges the rounds of one mode: requests/s over all its seconds, one latency histogram. */
function summary(url, runs, seconds) {
  const merged = autocannon.aggregateResult(runs, { url, connections: CONNECTIONS });
  const completed = runs.reduce((n, r) => n + r.totalCompletedRequests, 0);
  return {
    rps: completed / seconds,
    p50: merged.latency.p50,
    p99: merged.latency.p99,
    requests: completed,
    non2xx: merged.non2xx,
    errors: merged.errors + merged.timeouts,
  };
}

async function expectStatus(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  }
  return response;
}

const servers = [];
try {
  const mcpPort = await freePort();
  const as = await startAuthServer({ resources: [`http://127.0.0.1:${mcpPort}/mcp`] });
  servers.push(as);
  // The five servers of one round. Each row's figure carries its process's own JIT and heap
  // (two identical processes differ by up to 15% in CPU per request), so by default every
  // round starts new ones, warmed up alike: the median over rounds is then over independent
  // processes of each row, not over one draw per row (BENCH_FRESH_PROCESSES=0: one set for all).
  const startRow = async (round) => {
    const name = (row) => (FRESH ? `${row}-round-${round}` : row);
    const [withAuth, withoutAuth, withoutAuthBytes, withoutAuthTwin, anchor] = await Promise.all([
      startMcpServer({
        issuer: as.url,
        port: mcpPort,
        env: { LOG_LEVEL: 'error' },
        nodeArgs: profiling(name('mcp-server-auth-on')),
      }),
      startMcpServer({
        authMode: 'none',
        env: { LOG_LEVEL: 'error' },
        nodeArgs: profiling(name('mcp-server-auth-off')),
      }),
      // The same-bytes control in a process of its own: each server process serves one row, so
      // each gets the same share of the requests (the JIT's warm-up goes by requests served: a
      // process that served two rows measured 8-11% less CPU per request than its A/A twin).
      startMcpServer({ authMode: 'none', env: { LOG_LEVEL: 'error' } }),
      // An A/A control: a second process of the same auth-off server. Their ratio is the noise
      // floor of one run — how far two identical servers differ (JIT, heap layout, scheduling).
      startMcpServer({ authMode: 'none', env: { LOG_LEVEL: 'error' } }),
      startSdkV1Example(name('sdk-v1-example')),
    ]);
    return { withAuth, withoutAuth, withoutAuthBytes, withoutAuthTwin, anchor };
  };
  const closeAll = (set) => Promise.all(Object.values(set).map((server) => server.close()));
  let set = await startRow(0);
  servers.push({ close: () => closeAll(set) });
  const { withAuth } = set;

  // Valid tokens through the real flow: DCR (a confidential client), dev login, consent,
  // code exchange; then refresh grants for more access tokens (all valid for an hour).
  const jar = await devLogin(as.url, 'bench@example.com', new CookieJar());
  const client = await registerClient(as.url, {
    redirectUri: REDIRECT_URI,
    name: 'Bench client',
    confidential: true,
  });
  const flow = { issuer: as.url, resource: withAuth.url, client, redirectUri: REDIRECT_URI, jar };
  let tokens = await codeFlow({ ...flow, scope: 'read' });
  const accessTokens = [tokens.access_token];
  while (accessTokens.length < 8) {
    const response = await refreshGrant({ ...flow, refreshToken: tokens.refresh_token });
    tokens = await (await expectStatus(response, 200, 'refresh')).json();
    accessTokens.push(tokens.access_token);
  }

  // What each request carries: the access token's parts and, per claim, its share of the
  // payload (JSON bytes; base64url adds a third), to read the cost of carrying it against.
  const [jwsHeader, payload, signature] = accessTokens[0].split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  console.log(
    `access token: ${accessTokens[0].length} characters (header ${jwsHeader.length}, payload ${payload.length}, signature ${signature.length}); payload JSON bytes per claim: ${Object.entries(
      claims,
    )
      .map(([name, value]) => `${name} ${JSON.stringify({ [name]: value }).length - 1}`)
      .join(', ')}`,
  );

  // The servers are what they claim: auth on refuses no token, auth off takes any request,
  // and each answers the call the bench sends it.
  const call = (url, request, token) =>
    fetch(url, {
      method: 'POST',
      headers: { ...request.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: request.body,
    });
  const answers = async (response, what) => {
    const text = await (await expectStatus(response, 200, what)).text();
    if (!text.includes('This is accessible to everyone')) throw new Error(`${what}: ${text}`);
  };
  const check = async (set) => {
    await expectStatus(await call(set.withAuth.url, MODERN), 401, 'auth on without a token');
    await answers(await call(set.withAuth.url, MODERN, accessTokens[0]), 'auth on');
    await answers(await call(set.withoutAuth.url, MODERN), 'auth off');
    await answers(await call(set.withoutAuthBytes.url, MODERN), 'auth off, same-bytes process');
    await answers(await call(set.withoutAuthTwin.url, MODERN), 'auth off, second process');
    await answers(await call(set.anchor.url, LEGACY), 'SDK 1.32.2 example');
  };

  const slice = MCP_SECONDS / ROUNDS;
  // Each row: its server in a set, the call it is sent, and the tokens it carries (in which header).
  const rows = {
    on: { server: (set) => set.withAuth, call: MODERN, tokens: accessTokens },
    off: { server: (set) => set.withoutAuth, call: MODERN },
    // A control: auth off sent the same bytes as auth on (each token in a header it ignores),
    // to tell the cost of checking a token from the cost of carrying one.
    offBytes: {
      server: (set) => set.withoutAuthBytes,
      call: MODERN,
      tokens: accessTokens,
      header: 'x-bench-token',
    },
    offTwin: { server: (set) => set.withoutAuthTwin, call: MODERN },
    anchor: { server: (set) => set.anchor, call: LEGACY },
  };
  const names = Object.keys(rows);
  const perRow = (initial) => Object.fromEntries(names.map((mode) => [mode, initial()]));
  // Throughput, and the server's own CPU time per request: on a shared machine the second
  // does not move with load from elsewhere.
  const cpu = perRow(() => 0);
  // The load generator's own CPU per row (autocannon runs in this process, on the same cores).
  const clientCpu = perRow(() => 0);
  // CPU per request of each row in each round, for the per-round CPU ratios.
  const cpuRounds = perRow(() => []);
  /** One row's load on the current set: a measured slice, or the warm-up before it. */
  const load = (mode, length) => {
    const { server, call, tokens, header } = rows[mode];
    return cannon(server(set).url, length, call, tokens, header);
  };
  const measured = async (mode) => {
    const server = rows[mode].server(set);
    const before = cpuMs(server.pid);
    const client = process.cpuUsage();
    const result = await load(mode, { duration: slice });
    const after = cpuMs(server.pid);
    const used = process.cpuUsage(client);
    clientCpu[mode] += (used.user + used.system) / 1000;
    if (before !== undefined && after !== undefined) {
      cpu[mode] += after - before;
      cpuRounds[mode].push((after - before) / result.totalCompletedRequests);
    }
    return result;
  };
  console.log(
    `tools/call (public_tool): ${ROUNDS} rounds (${ROUND_ORDER}; ${FRESH ? 'new server processes each round' : 'one process per server for all rounds'}; ${process.env.BENCH_WARM === 'ahead' ? 'all servers warmed first (BENCH_WARM=ahead)' : 'each server warmed right before its first slice'}), ${MCP_SECONDS} s per server, ${CONNECTIONS} connections, ${accessTokens.length} tokens; load average ${loadAverage()}`,
  );
  const runs = perRow(() => []);
  // Each server is warmed right before its first measured slice, so none waits between its
  // warm-up and its measurement longer than another. Warming all five first (BENCH_WARM=ahead,
  // the former way) left the first-warmed waiting ~14 s longer than the fourth, in the same
  // order every round (auth on first, auth off second, its A/A twin fourth), which the balanced
  // order of slices does not cancel: back to back (12 rounds of 3 s, fresh processes), CPU per
  // request came out in warm-up order, auth on 476 us, off 409, same bytes 372, twin 353
  // (A/A 0.876); warmed right before, 364, 338, 342, 348 (A/A 1.038).
  const AHEAD = process.env.BENCH_WARM === 'ahead';
  // Warm-up: JIT, pools and caches of every server, by the same number of requests each (not
  // the same seconds: the faster server would get more). A server's CPU per request still fell
  // by a quarter between its 5,000th and 10,000th request here, so a 2-second warm-up
  // (~1,500 requests) left its first rounds measuring the JIT, not the server.
  let warmed = new Set();
  const warm = async (mode) => {
    if (warmed.has(mode)) return;
    warmed.add(mode);
    await load(mode, { amount: WARMUP_REQUESTS });
  };
  for (let round = 0; round < ROUNDS; round++) {
    if (round === 0 || FRESH) {
      if (round > 0) {
        await closeAll(set);
        set = await startRow(round);
      }
      warmed = new Set();
      await check(set);
      if (AHEAD) for (const mode of names) await warm(mode);
    }
    // Each mode follows each other one equally often over the rounds (see roundOrder).
    for (const mode of roundOrder(names, round)) {
      await warm(mode);
      runs[mode].push(await measured(mode));
    }
  }
  const on = summary(withAuth.url, runs.on, MCP_SECONDS);
  const off = summary(set.withoutAuth.url, runs.off, MCP_SECONDS);
  const offBytes = summary(set.withoutAuthBytes.url, runs.offBytes, MCP_SECONDS);
  const offTwin = summary(set.withoutAuthTwin.url, runs.offTwin, MCP_SECONDS);
  const base = summary(set.anchor.url, runs.anchor, MCP_SECONDS);
  const row = (name, s) =>
    `  ${name.padEnd(44)} ${s.rps.toFixed(0).padStart(7)} req/s   p50 ${String(s.p50).padStart(3)} ms   p99 ${String(s.p99).padStart(3)} ms   non-2xx ${s.non2xx}   errors ${s.errors}   (${s.requests} requests)`;
  console.log(row('auth on  (2026-07-28, AUTH_MODE=oauth, JWT)', on));
  console.log(row('auth off (2026-07-28, AUTH_MODE=none)', off));
  console.log(row('auth off, same bytes (token in x-header)', offBytes));
  console.log(row('auth off, a second process (A/A control)', offTwin));
  console.log(row('anchor: SDK 1.32.2 stateless example, no auth', base));
  // Each ratio is the median over rounds of the ratio within a round: servers measured side by
  // side, so a burst of load from elsewhere moves both sides of one ratio alike.
  const ratio = (a, b) =>
    median(runs[a].map((run, i) => run.totalCompletedRequests / runs[b][i].totalCompletedRequests));
  console.log(
    `  ratio auth on / SDK 1.32.2 example: ${ratio('on', 'anchor').toFixed(2)}x (aim >= 1.6; median of ${ROUNDS} rounds); p99 ${on.p99} ms vs ${base.p99} ms (aim: no worse)`,
  );
  const onOff = ratio('on', 'off');
  console.log(
    `  ratio auth on / auth off: ${onOff.toFixed(3)} (aim >= 0.97; median of ${ROUNDS} rounds; ${((1 - onOff) * 100).toFixed(1)}% cost); p99 ${on.p99} ms vs ${off.p99} ms`,
  );
  console.log(
    `  ratio auth on / auth off sent the same bytes: ${ratio('on', 'offBytes').toFixed(3)} (the cost of checking a token, without that of carrying one); p99 ${on.p99} ms vs ${offBytes.p99} ms`,
  );
  console.log(
    `  ratio auth off / its second process (A/A: the noise floor of this run): ${ratio('off', 'offTwin').toFixed(3)}; p99 ${off.p99} ms vs ${offTwin.p99} ms`,
  );
  const perRequest = (mode, s) => (cpu[mode] * 1000) / s.requests;
  if (cpu.on > 0 && cpu.off > 0 && cpu.anchor > 0) {
    const [cOn, cOff, cAnchor] = [
      perRequest('on', on),
      perRequest('off', off),
      perRequest('anchor', base),
    ];
    console.log(
      `  server CPU per request: auth on ${cOn.toFixed(0)} us, auth off ${cOff.toFixed(0)} us (same bytes ${perRequest('offBytes', offBytes).toFixed(0)} us, second process ${perRequest('offTwin', offTwin).toFixed(0)} us), SDK 1.32.2 example ${cAnchor.toFixed(0)} us: the example needs ${(cAnchor / cOn).toFixed(2)}x the CPU of auth on; auth off / auth on ${(cOff / cOn).toFixed(3)}`,
    );
  }
  // The same within each round, in CPU per request (b's over a's, so above 1 favours a): each
  // round's pair of processes measured side by side.
  const cpuRatio = (a, b) =>
    median(cpuRounds[a].map((used, i) => (cpuRounds[b][i] ?? Number.NaN) / used));
  if (cpuRounds.on.length === ROUNDS) {
    console.log(
      `  per-round server CPU per request, medians: auth off / auth on ${cpuRatio('on', 'off').toFixed(3)}, same bytes / auth on ${cpuRatio('on', 'offBytes').toFixed(3)}, A/A (second process / auth off) ${cpuRatio('off', 'offTwin').toFixed(3)}, SDK 1.32.2 example / auth on ${cpuRatio('on', 'anchor').toFixed(2)}`,
    );
  }
  console.log(
    `  load generator CPU per request: auth on ${((clientCpu.on * 1000) / on.requests).toFixed(0)} us, auth off ${((clientCpu.off * 1000) / off.requests).toFixed(0)} us, same bytes ${((clientCpu.offBytes * 1000) / offBytes.requests).toFixed(0)} us, second process ${((clientCpu.offTwin * 1000) / offTwin.requests).toFixed(0)} us, SDK 1.32.2 example ${((clientCpu.anchor * 1000) / base.requests).toFixed(0)} us`,
  );
  const perRound = (a, b) =>
    runs[a]
      .map((run, i) => (run.totalCompletedRequests / runs[b][i].totalCompletedRequests).toFixed(3))
      .join(' ');
  console.log(`  per round, auth on / auth off: ${perRound('on', 'off')}`);
  console.log(`  per round, A/A: ${perRound('off', 'offTwin')}`);
  const failed = [on, off, offBytes, offTwin, base].reduce((n, r) => n + r.non2xx + r.errors, 0);

  if (failed > 0) {
    console.error(`\n${failed} requests failed: the figures above are not valid.`);
    process.exitCode = 1;
  }
} finally {
  for (const server of servers.reverse()) await server.close();
}

// 1b. The same comparison in one process, beside the HTTP rows (./mcp-in-process.mjs): the
// apps' request listeners driven alternately with in-memory requests, steadier under load.
if (process.env.BENCH_IN_PROCESS !== '0') {
  const inProcess = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./mcp-in-process.mjs', import.meta.url))],
    {
      stdio: 'inherit',
    },
  );
  if (inProcess.status !== 0) process.exitCode = 1;
}

// 2. The token endpoint on PGlite and Postgres beside node-oidc-provider (./token.mjs);
// BENCH_TOKEN=0 skips it (the MCP rows alone).
if (process.env.BENCH_TOKEN !== '0') {
  const refused = await tokenBench();
  if (refused > 0) {
    console.error(`\n${refused} token requests refused: the token figures are not valid.`);
    process.exitCode = 1;
  }
}
