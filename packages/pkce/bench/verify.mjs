// Verifications per second beside oauth4webapi's challenge computation, in one run.
// Both do one SHA-256: ours through node:crypto's one-shot hash where the runtime has it (Web Crypto
// elsewhere), oauth4webapi's through Web Crypto, whose asynchronous digest is most of its cost here.
import { calculatePKCECodeChallenge } from 'oauth4webapi';
import { createPkcePair, verifyCodeChallenge } from '../dist/index.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);

async function measure(name, fn) {
  for (let i = 0; i < 2000; i++) await fn(); // warm-up
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 500; i++) await fn();
    ops += 500;
  }
  const perSecond = ops / ((performance.now() - start) / 1000);
  return { name, perSecond };
}

const { codeVerifier, codeChallenge } = await createPkcePair();
const rounds = [];
for (let round = 0; round < 3; round++) {
  const ours = await measure('@portcullis/pkce verifyCodeChallenge', () =>
    verifyCodeChallenge(codeVerifier, codeChallenge),
  );
  const base = await measure('oauth4webapi calculatePKCECodeChallenge', () =>
    calculatePKCECodeChallenge(codeVerifier),
  );
  rounds.push(ours.perSecond / base.perSecond);
  console.log(
    `round ${round + 1}: ${ours.name} ${Math.round(ours.perSecond).toLocaleString('en')}/s | ${base.name} ${Math.round(base.perSecond).toLocaleString('en')}/s | ratio ${(ours.perSecond / base.perSecond).toFixed(2)}`,
  );
}
rounds.sort((a, b) => a - b);
console.log(`median ratio (verify / oauth4webapi challenge): ${rounds[1].toFixed(2)}`);
