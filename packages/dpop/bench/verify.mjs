// verifyProof per second beside jose's jwtVerify of the same proof with its EmbeddedJWK
// resolver (signature, typ and alg only), in one run, and the ratio. Both verify one ES256
// signature; the ratio shows what the rest of RFC 9449 §4.3 costs (claims, htu normalisation,
// ath and thumbprint hashes, the replay store). CPU time per operation is printed too: on a
// shared machine it moves less than throughput does.
import { EmbeddedJWK, jwtVerify } from 'jose';
import {
  createMemoryReplayStore,
  createProof,
  generateProofKey,
  verifyProof,
} from '../dist/index.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);
const url = 'https://mcp.example.com/mcp';
const accessToken = 'x'.repeat(800); // about the size of an RFC 9068 access token

async function measure(name, fn) {
  for (let i = 0; i < 1000; i++) await fn(i); // warm-up
  let ops = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 200; i++) await fn(ops + i);
    ops += 200;
  }
  const seconds = (performance.now() - start) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  return { name, perSecond: ops / seconds, cpuUs: (user + system) / ops };
}

const key = await generateProofKey('ES256');
const proof = await createProof({ ...key, method: 'POST', url, accessToken });
// The same proof again and again: a store that never refuses, so the figure is verification.
const always = { remember: async () => true };
const memory = createMemoryReplayStore({ maxEntries: 10_000_000 });
let n = 0;

const rounds = [];
const cpuRounds = [];
for (let round = 0; round < 3; round++) {
  const ours = await measure('verifyProof', () =>
    verifyProof(proof, { method: 'POST', url, accessToken, replay: always }),
  );
  // The memory store with a new key each time: what a real server pays for remembering.
  const stored = await measure('verifyProof + memory store', () =>
    verifyProof(proof, {
      method: 'POST',
      url,
      accessToken,
      replay: { remember: (k, at) => memory.remember(`${k}${n++}`, at) },
    }),
  );
  const base = await measure('jose jwtVerify(EmbeddedJWK)', () =>
    jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] }),
  );
  rounds.push(ours.perSecond / base.perSecond);
  cpuRounds.push(ours.cpuUs / base.cpuUs);
  const show = (r) =>
    `${r.name} ${Math.round(r.perSecond).toLocaleString('en')}/s (${r.cpuUs.toFixed(1)} µs CPU/op)`;
  console.log(
    `round ${round + 1}: ${show(ours)} | ${show(stored)} | ${show(base)} | ratio ${(ours.perSecond / base.perSecond).toFixed(2)}`,
  );
}
rounds.sort((a, b) => a - b);
cpuRounds.sort((a, b) => a - b);
console.log(
  `median ratio (verifyProof / jose jwtVerify): ${rounds[1].toFixed(2)} in ops/s, ${cpuRounds[1].toFixed(2)} in CPU per op (steadier under load)`,
);
