// One run, two figures, each beside its baseline measured in the same run:
//  1. requests per second for an authenticated tools/call (bearerAuth + jwtVerifier with its
//     cache + per-tool scopes) against the same server with auth switched off;
//  2. JWT verifications per second with the verified-token cache, and without it, beside
//     jose's jwtVerify alone;
//  3. the authenticated hot path (bearerAuth on a token verified before, in process) with a
//     revocation feed's denylist of 1,000 entries, against the same without revocations;
//  4. the DPoP path (a cached DPoP-bound token and a fresh ES256 proof per request) against
//     the Bearer path, as CPU per request in alternating rounds of one process.
// The servers run in a child process so autocannon does not take their CPU in the middle of
// a measurement; both are stateless Streamable HTTP on 127.0.0.1, so every request stands alone.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createProof, generateProofKey, jwkThumbprint } from '@portcullis/dpop';
import autocannon from 'autocannon';
import express from 'express';
import { importJWK, jwtVerify } from 'jose';
import { jwtVerifier, revocationFeed } from '../dist/index.js';
import { bearerAuth } from '../dist/node/index.js';
import { protectTools } from '../dist/sdk-v1/index.js';
import { createTestIssuer } from '../dist/testing/index.js';

const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const VERIFY_MS = Number(process.env.BENCH_VERIFY_MS ?? 3000);
const TOOL_SCOPES = { secure_operation: ['admin'] };

function mcpApp(auth) {
  const app = express();
  const handlers = [express.json()];
  if (auth) handlers.push(auth);
  app.post('/mcp', ...handlers, async (req, res) => {
    const server = new McpServer({ name: 'bench', version: '1.0.0' });
    protectTools(server, { toolScopes: TOOL_SCOPES });
    server.registerTool('echo', { description: 'echo' }, async () => ({
      content: [{ type: 'text', text: 'ok' }],
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}

function listen(app) {
  return new Promise((resolve) => {
    const server = createServer(app);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function run(url, headers, seconds) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: 10,
    duration: seconds,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: {} },
    }),
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${url}: ${bad} failed requests`);
  return result.requests.average;
}

// Interleaved slices: each function runs 50 operations in turn until the time is up, so
// load from elsewhere on the machine hits every candidate alike; the order flips every slice,
// so neither side always runs right after the other (and meets its garbage). Besides the
// overall rate, each candidate gets the median, over slices, of its speed relative to the last
// candidate in the same slice: a burst of load elsewhere then moves one slice, not the figure.
async function compare(candidates, ms) {
  for (const { fn } of candidates) for (let i = 0; i < 300; i++) await fn(); // warm-up
  const time = candidates.map(() => 0);
  const ops = candidates.map(() => 0);
  const relative = candidates.map(() => []);
  const end = performance.now() + ms;
  for (let round = 0; performance.now() < end; round++) {
    const slice = [];
    const order = [...candidates.entries()];
    if (round % 2) order.reverse();
    for (const [i, { fn }] of order) {
      const start = performance.now();
      for (let j = 0; j < 50; j++) await fn();
      slice[i] = performance.now() - start;
      time[i] += slice[i];
      ops[i] += 50;
    }
    for (const i of candidates.keys()) relative[i].push(slice.at(-1) / slice[i]);
  }
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return candidates.map(({ name }, i) => ({
    name,
    perSecond: ops[i] / (time[i] / 1000),
    relative: median(relative[i]),
  }));
}

const fmt = (n) => Math.round(n).toLocaleString('en');

async function main() {
  const issuer = await createTestIssuer();
  const child = fork(fileURLToPath(import.meta.url), [
    '--servers',
    JSON.stringify({ issuer: issuer.issuer, jwksUri: issuer.jwksUri }),
  ]);
  try {
    const { plainPort, resource } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('error', reject);
    });
    const token = await issuer.mintToken({
      sub: 'bench-user',
      client_id: 'bench',
      aud: resource,
      scope: 'read',
    });
    const plainUrl = `http://127.0.0.1:${plainPort}/mcp`;
    const authUrl = resource;
    const authHeaders = { authorization: `Bearer ${token}` };

    // Warm-up: JIT, sockets, the JWKS fetch and the first verification.
    await run(plainUrl, {}, 1);
    await run(authUrl, authHeaders, 1);

    // Short alternating rounds (order flipped each time) and the median ratio: on a shared
    // machine, load from elsewhere then hits both sides alike.
    const ratios = [];
    for (let round = 1; round <= ROUNDS; round++) {
      let on;
      let off;
      if (round % 2) {
        off = await run(plainUrl, {}, HTTP_SECONDS);
        on = await run(authUrl, authHeaders, HTTP_SECONDS);
      } else {
        on = await run(authUrl, authHeaders, HTTP_SECONDS);
        off = await run(plainUrl, {}, HTTP_SECONDS);
      }
      ratios.push(on / off);
      console.log(
        `round ${round}: tools/call with auth ${fmt(on)} req/s | without auth ${fmt(off)} req/s | ratio ${(on / off).toFixed(3)}`,
      );
    }
    ratios.sort((a, b) => a - b);
    const ratio = ratios[Math.floor(ratios.length / 2)];
    console.log(`median ratio (authenticated / no auth): ${ratio.toFixed(3)} (aim: >= 0.95)`);

    // Verification in-process: same token, same key.
    const audience = 'http://127.0.0.1:1/mcp';
    const vToken = await issuer.mintToken({
      sub: 'u',
      client_id: 'c',
      aud: audience,
      scope: 'read',
    });
    const key = await importJWK(issuer.publicJwk, 'ES256');
    const cached = jwtVerifier({ issuer: issuer.issuer, audience, key: issuer.publicJwk });
    const uncached = jwtVerifier({
      issuer: issuer.issuer,
      audience,
      key: issuer.publicJwk,
      cache: false,
    });
    const options = {
      issuer: issuer.issuer,
      audience,
      algorithms: ['ES256'],
      requiredClaims: ['exp'],
    };
    // Two interleaved pairs: the cached verifier allocates far more per second than the
    // others, so it gets its own pairing and its GC pauses are not billed to jose.
    const jose = { name: "jose's jwtVerify alone", fn: () => jwtVerify(vToken, key, options) };
    const [b, c] = await compare(
      [{ name: 'jwtVerifier (cache: false)', fn: () => uncached(vToken) }, jose],
      VERIFY_MS,
    );
    const [a, c2] = await compare(
      [{ name: 'jwtVerifier (cached)', fn: () => cached(vToken) }, jose],
      VERIFY_MS,
    );
    c.perSecond = (c.perSecond + c2.perSecond) / 2;
    console.log(
      `load average ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}`,
    );
    console.log(
      `verifications: ${a.name} ${fmt(a.perSecond)}/s | ${b.name} ${fmt(b.perSecond)}/s | ${c.name} ${fmt(c.perSecond)}/s`,
    );
    console.log(
      `ratio cached / jose ${(a.perSecond / c.perSecond).toFixed(2)} | uncached / jose ${(b.perSecond / c.perSecond).toFixed(2)}` +
        ` (median per slice: cached ${a.relative.toFixed(2)}, uncached ${b.relative.toFixed(2)}; aims: >= 25, >= 0.95)`,
    );
    await revocationRow(issuer);
    await dpopRow(issuer);
  } finally {
    child.kill();
    await issuer.close();
  }
}

/**
 * bearerAuth called in process, as the HTTP server would: a tools/call request with the given
 * headers on 127.0.0.1:8000, a response that discards, and a next() that counts.
 */
function inProcessCalls() {
  const body = {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: {} },
  };
  let passed = 0;
  return {
    request: (headers) => ({
      method: 'POST',
      url: '/mcp',
      headers: { host: '127.0.0.1:8000', ...headers },
      body,
    }),
    response: { statusCode: 200, setHeader() {}, end() {} },
    next: () => {
      passed++;
    },
    passed: () => passed,
  };
}

/**
 * 3. bearerAuth's answer for a cached token (what every authenticated request of a busy server
 * costs) with the denylist of a revocation feed holding 1,000 entries, and without one: one
 * process, interleaved slices. The feed is a local server answering one page of 1,000
 * entries; the list polls it every 2 s during the run, as it would in production.
 */
async function revocationRow(issuer) {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const page = JSON.stringify({
    revoked: Array.from({ length: 1000 }, (_, i) => ({
      jti_sha256: createHash('sha256').update(`revoked-${i}`).digest('base64url'),
      exp,
    })),
    cursor: 'end',
    more: false,
  });
  const feedServer = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(page);
  });
  await new Promise((resolve) => feedServer.listen(0, '127.0.0.1', resolve));
  const revocations = revocationFeed({
    endpoint: `http://127.0.0.1:${feedServer.address().port}/revocations`,
    clientId: 'bench',
    clientSecret: 'bench',
  });
  try {
    await revocations.ready;
    if (revocations.size !== 1000) throw new Error(`the denylist holds ${revocations.size}`);
    const resource = 'http://127.0.0.1:8000/mcp';
    const token = await issuer.mintToken({
      sub: 'u',
      client_id: 'c',
      aud: resource,
      scope: 'read',
    });
    const middleware = (options) =>
      bearerAuth({
        verifier: jwtVerifier({
          issuer: issuer.issuer,
          audience: resource,
          key: issuer.publicJwk,
          ...options,
        }),
        resource,
        toolScopes: TOOL_SCOPES,
        cors: false,
      });
    const calls = inProcessCalls();
    const call = (auth) => () =>
      auth(calls.request({ authorization: `Bearer ${token}` }), calls.response, calls.next);
    const [withList, without] = await compare(
      [
        { name: 'bearerAuth, 1,000 revocations', fn: call(middleware({ revocations })) },
        { name: 'bearerAuth, no revocation feed', fn: call(middleware({})) },
      ],
      VERIFY_MS,
    );
    if (calls.passed() === 0) throw new Error('no request passed');
    console.log(
      `authenticated hot path (cached token): ${withList.name} ${fmt(withList.perSecond)}/s | ${without.name} ${fmt(without.perSecond)}/s | ratio ${(withList.perSecond / without.perSecond).toFixed(3)} (median per slice ${withList.relative.toFixed(3)}; aim >= 0.97)`,
    );
  } finally {
    revocations.close();
    feedServer.close();
  }
}

/**
 * 4. What DPoP costs the resource server per request: bearerAuth with `dpop: true` on a cached
 * DPoP-bound token with a fresh proof (parse, ES256 verify, `ath`, replay store, binding)
 * against the same guard and the guard without `dpop` on a cached Bearer token. Proofs are
 * made between the timed sections (the client's cost, not the server's). Alternating rounds,
 * the order rotating, CPU time of this process per request (process.cpuUsage), median ratio.
 */
async function dpopRow(issuer) {
  const resource = 'http://127.0.0.1:8000/mcp';
  const key = await generateProofKey();
  const jkt = await jwkThumbprint(key.publicJwk);
  const claims = { sub: 'u', client_id: 'c', aud: resource, scope: 'read' };
  const bearerToken = await issuer.mintToken(claims);
  const boundToken = await issuer.mintToken({ ...claims, cnf: { jkt } });
  const guard = (dpop) =>
    bearerAuth({
      verifier: jwtVerifier({ issuer: issuer.issuer, audience: resource, key: issuer.publicJwk }),
      resource,
      toolScopes: TOOL_SCOPES,
      cors: false,
      ...(dpop ? { dpop: true } : {}),
    });
  const plain = guard(false);
  const withDpop = guard(true);
  const { request, response, next, passed } = inProcessCalls();
  const proofs = (n) =>
    Promise.all(
      Array.from({ length: n }, () =>
        createProof({ ...key, method: 'POST', url: resource, accessToken: boundToken }),
      ),
    );
  // Enough requests per round for ~10 ms of CPU or more: cpuUsage ticks are coarse.
  const PER_ROUND = 400;
  const BEARER_PER_ROUND = 5000;
  const candidates = [
    {
      name: 'Bearer, guard without dpop',
      count: BEARER_PER_ROUND,
      prepare: async () => {},
      run: () => plain(request({ authorization: `Bearer ${bearerToken}` }), response, next),
    },
    {
      name: 'Bearer, guard with dpop: true',
      count: BEARER_PER_ROUND,
      prepare: async () => {},
      run: () => withDpop(request({ authorization: `Bearer ${bearerToken}` }), response, next),
    },
    {
      name: 'DPoP (cached token, fresh proof)',
      count: PER_ROUND,
      pool: [],
      async prepare() {
        this.pool = await proofs(PER_ROUND);
      },
      run() {
        return withDpop(
          request({ authorization: `DPoP ${boundToken}`, dpop: this.pool.pop() }),
          response,
          next,
        );
      },
    },
  ];
  const cpu = candidates.map(() => []);
  const rounds = Math.max(6, ROUNDS * 2);
  for (let round = -1; round < rounds; round++) {
    const order = [...candidates.keys()];
    for (let r = 0; r < ((round % 3) + 3) % 3; r++) order.push(order.shift());
    for (const i of order) {
      const candidate = candidates[i];
      await candidate.prepare();
      const before = passed();
      const start = process.cpuUsage();
      for (let j = 0; j < candidate.count; j++) await candidate.run();
      const used = process.cpuUsage(start);
      if (passed() - before !== candidate.count) throw new Error(`${candidate.name}: refused`);
      if (round >= 0) cpu[i].push((used.user + used.system) / candidate.count); // -1: warm-up
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const [plainUs, bearerUs, dpopUs] = cpu.map(median);
  const ratios = cpu[2].map((value, i) => value / cpu[1][i]);
  console.log(
    `DPoP path, CPU per request (median of ${rounds} alternating rounds): ${candidates[2].name} ${dpopUs.toFixed(1)} us | ${candidates[1].name} ${bearerUs.toFixed(1)} us | ${candidates[0].name} ${plainUs.toFixed(1)} us`,
  );
  console.log(
    `ratio DPoP / Bearer ${median(ratios).toFixed(2)} (median per round) | Bearer with dpop on / off ${(bearerUs / plainUs).toFixed(3)}`,
  );
}

// ---- child: the two servers -------------------------------------------------------------
if (process.argv[2] === '--servers') {
  await servers();
} else {
  await main();
}

async function servers() {
  const { issuer, jwksUri } = JSON.parse(process.argv[3]);
  const plainPort = await listen(mcpApp(undefined));
  // The resource URL names the port, so the middleware is made once the server listens.
  let auth;
  const authPort = await listen(mcpApp((req, res, next) => auth(req, res, next)));
  const resource = `http://127.0.0.1:${authPort}/mcp`;
  auth = bearerAuth({
    verifier: jwtVerifier({ issuer, audience: resource, jwksUri }),
    resource,
    toolScopes: TOOL_SCOPES,
  });
  process.send({ plainPort, authPort, resource });
}
