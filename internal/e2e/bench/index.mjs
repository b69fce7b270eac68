// Load, end to end (issue 9): the built apps on 127.0.0.1, valid tokens from the real flow.
//  1. tools/call on the example MCP server with auth on (AUTH_MODE=oauth: JWT verified against
//     the authorization server's JWKS) beside the same server with auth off (AUTH_MODE=none),
//     measured in the same run in alternating rounds, so load from elsewhere on a shared
//     machine hits both alike. The ratio is the figure we track; non-2xx must be 0.
//  2. Token endpoint throughput: refresh_token grants against the running authorization server,
//     from many clients at once (each stays under the per-client limit of 60 a minute).
// Every server is a child process, so autocannon does not take their CPU.
import { performance } from 'node:perf_hooks';
import {
  CookieJar,
  codeFlow,
  devLogin,
  freePort,
  refreshGrant,
  registerClient,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import autocannon from 'autocannon';

const MCP_SECONDS = Number(process.env.BENCH_MCP_SECONDS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const TOKEN_CLIENTS = Number(process.env.BENCH_TOKEN_CLIENTS ?? 24);
const TOKEN_REFRESHES = Number(process.env.BENCH_TOKEN_REFRESHES ?? 50);
const TOKEN_SECONDS = Number(process.env.BENCH_TOKEN_SECONDS ?? 10);
const REDIRECT_URI = 'http://127.0.0.1:9/callback'; // read from Location, never followed

const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'public_tool', arguments: {} },
});
const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/** One autocannon run; `tokens` (rotated per request) when auth is on. */
function cannon(url, seconds, tokens) {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    skipAggregateResult: true,
    requests: [
      {
        method: 'POST',
        headers: HEADERS,
        body: BODY,
        setupRequest: (request) =>
          tokens
            ? {
                ...request,
                headers: {
                  ...request.headers,
                  authorization: `Bearer ${tokens[next++ % tokens.length]}`,
                },
              }
            : request,
      },
    ],
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

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
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
  const [withAuth, withoutAuth] = await Promise.all([
    startMcpServer({ issuer: as.url, port: mcpPort, env: { LOG_LEVEL: 'error' } }),
    startMcpServer({ authMode: 'none', env: { LOG_LEVEL: 'error' } }),
  ]);
  servers.push(withAuth, withoutAuth);

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

  // The servers are what they claim: auth on refuses no token, auth off takes any request.
  const call = (url, token) =>
    fetch(url, {
      method: 'POST',
      headers: { ...HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: BODY,
    });
  await expectStatus(await call(withAuth.url), 401, 'auth on without a token');
  const ok = await (
    await expectStatus(await call(withAuth.url, accessTokens[0]), 200, 'auth on')
  ).text();
  if (!ok.includes('This is accessible to everyone')) throw new Error(`unexpected: ${ok}`);
  await expectStatus(await call(withoutAuth.url), 200, 'auth off');

  console.log(
    `tools/call (public_tool) on the MCP server: ${ROUNDS} alternating rounds, ${MCP_SECONDS} s per mode, ${CONNECTIONS} connections, ${accessTokens.length} tokens`,
  );
  await cannon(withAuth.url, 2, accessTokens);
  await cannon(withoutAuth.url, 2);
  const runs = { on: [], off: [] };
  const slice = MCP_SECONDS / ROUNDS;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const mode of order) {
      runs[mode].push(
        mode === 'on'
          ? await cannon(withAuth.url, slice, accessTokens)
          : await cannon(withoutAuth.url, slice),
      );
    }
  }
  const on = summary(withAuth.url, runs.on, MCP_SECONDS);
  const off = summary(withoutAuth.url, runs.off, MCP_SECONDS);
  const row = (name, s) =>
    `  ${name.padEnd(34)} ${s.rps.toFixed(0).padStart(7)} req/s   p50 ${String(s.p50).padStart(3)} ms   p99 ${String(s.p99).padStart(3)} ms   non-2xx ${s.non2xx}   errors ${s.errors}   (${s.requests} requests)`;
  console.log(row('auth on  (AUTH_MODE=oauth, JWT)', on));
  console.log(row('auth off (AUTH_MODE=none) baseline', off));
  console.log(
    `  ratio auth on / auth off: ${(on.rps / off.rps).toFixed(3)} of the throughput (${((1 - on.rps / off.rps) * 100).toFixed(1)}% cost)`,
  );
  const failed = on.non2xx + off.non2xx + on.errors + off.errors;

  // Token endpoint: each client runs its own chain of refresh grants (a refresh token is
  // single use), all clients at once, for a bounded number of grants and seconds.
  const chains = [];
  for (let i = 0; i < TOKEN_CLIENTS; i++) {
    const c = await registerClient(as.url, {
      redirectUri: REDIRECT_URI,
      name: `Token bench client ${i}`,
      confidential: true,
    });
    const t = await codeFlow({ ...flow, client: c, scope: 'read' });
    chains.push({ client: c, refreshToken: t.refresh_token });
  }
  const latencies = [];
  let refused = 0;
  const deadline = performance.now() + TOKEN_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    chains.map(async (chain) => {
      for (let i = 0; i < TOKEN_REFRESHES && performance.now() < deadline; i++) {
        const t0 = performance.now();
        const response = await refreshGrant({ ...flow, client: chain.client, ...chain });
        const body = await response.json();
        latencies.push(performance.now() - t0);
        if (response.status !== 200) {
          refused++;
          return;
        }
        chain.refreshToken = body.refresh_token;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `\ntoken endpoint (refresh_token grant, client_secret_basic, ES256 JWT, rotation in PGlite): ${TOKEN_CLIENTS} clients in parallel, up to ${TOKEN_REFRESHES} grants each`,
  );
  console.log(
    `  ${(latencies.length / elapsed).toFixed(0)} grants/s   p50 ${percentile(latencies, 50).toFixed(1)} ms   p99 ${percentile(latencies, 99).toFixed(1)} ms   non-200 ${refused}   (${latencies.length} grants in ${elapsed.toFixed(1)} s)`,
  );

  if (failed + refused > 0) {
    console.error(`\n${failed + refused} requests failed: the figures above are not valid.`);
    process.exitCode = 1;
  }
} finally {
  for (const server of servers.reverse()) await server.close();
}
