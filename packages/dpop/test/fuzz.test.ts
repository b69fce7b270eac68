import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNonceIssuer,
  createProof,
  InvalidDpopProofError,
  UseDpopNonceError,
  verifyProof,
} from '../src/index.js';
import { keyPair, NOW, options, parts, signRaw, URL_ } from './support/proofs.js';

let key: Awaited<ReturnType<typeof keyPair>>;
let valid: string;
beforeAll(async () => {
  key = await keyPair('ES256');
  valid = await createProof({ ...key, method: 'POST', url: URL_, iat: NOW, accessToken: 'at' });
});

const nonces = createNonceIssuer({ secret: 'fuzzing secret of thirty-two bytes..' });

/** Verifies, and says how it ended: only the package's typed errors may end it badly. */
async function outcome(proof: unknown, nonce = false): Promise<string> {
  try {
    await verifyProof(proof, options({ accessToken: 'at', ...(nonce ? { nonce: nonces } : {}) }));
    return 'accepted';
  } catch (error) {
    if (error instanceof InvalidDpopProofError) return error.check;
    if (error instanceof UseDpopNonceError) return 'nonce';
    throw error;
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');

describe('hostile proofs: only typed errors, whatever the input', () => {
  it('any value or string', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.string({ maxLength: 300 })), async (proof) => {
        expect(await outcome(proof)).not.toBe('accepted');
      }),
      { numRuns: 500 },
    );
  });

  it('a valid proof with characters changed, inserted, or cut', async () => {
    const alphabet = 'ABCxyz019-_.=+/ ,\u00e9\u0000';
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'insert', 'cut'),
        async (at, end, char, how) => {
          const i = at % valid.length;
          const mutated =
            how === 'replace'
              ? valid.slice(0, i) + char + valid.slice(i + 1)
              : how === 'insert'
                ? valid.slice(0, i) + char + valid.slice(i)
                : valid.slice(0, i) + valid.slice(i + (end % 20) + 1);
          await outcome(mutated, true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('well-signed proofs whose header and claims are arbitrary JSON', async () => {
    const member = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          typ: member,
          jwk: fc.oneof(member, fc.constant(key.publicJwk)),
          extra: member,
        }),
        fc.record({
          jti: member,
          htm: member,
          htu: member,
          iat: member,
          ath: member,
          nonce: member,
        }),
        async (headerMembers, payload) => {
          const header = { ...parts(key).header, ...headerMembers };
          const proof = await signRaw(key, header, payload);
          await outcome(proof, true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('unsigned proofs with arbitrary JSON (or not JSON) in each part', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map(b64),
          fc.base64String().map((s) => s.replace(/=/g, '')),
        ),
        fc.oneof(
          fc.jsonValue().map(b64),
          fc.base64String().map((s) => s.replace(/=/g, '')),
        ),
        fc.base64String({ maxLength: 120 }).map((s) => s.replace(/[=+/]/g, '')),
        async (h, p, s) => {
          expect(await outcome(`${h}.${p}.${s}`)).not.toBe('accepted');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('deeply nested JSON and huge numbers cost no more than a refusal', async () => {
    const deep = '['.repeat(3000) + ']'.repeat(3000);
    const header = Buffer.from(deep).toString('base64url');
    expect(await outcome(`${header}.${b64({})}.AAAA`)).toBe('syntax');
    const big = await signRaw(key, parts(key).header, { ...parts(key).payload, iat: 1e308 });
    expect(await outcome(big)).toBe('iat');
  });
});
