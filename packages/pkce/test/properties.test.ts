import fc from 'fast-check';
import { calculatePKCECodeChallenge } from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import {
  createCodeChallenge,
  createPkcePair,
  isCodeVerifier,
  verifyCodeChallenge,
} from '../src/index.js';

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'.split('');
const verifierArb = fc
  .array(fc.constantFrom(...UNRESERVED), { minLength: 43, maxLength: 128 })
  .map((chars) => chars.join(''));

describe('properties', () => {
  it('RFC 7636 §4.6: every created pair verifies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 43, max: 128 }), async (length) => {
        const { codeVerifier, codeChallenge } = await createPkcePair(length);
        expect(isCodeVerifier(codeVerifier)).toBe(true);
        expect(await verifyCodeChallenge(codeVerifier, codeChallenge)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('RFC 7636 §4.6: altering any one character of the verifier fails verification', async () => {
    await fc.assert(
      fc.asyncProperty(
        verifierArb,
        fc.nat(),
        fc.constantFrom(...UNRESERVED),
        async (verifier, at, ch) => {
          const i = at % verifier.length;
          fc.pre(verifier[i] !== ch);
          const altered = verifier.slice(0, i) + ch + verifier.slice(i + 1);
          const challenge = await createCodeChallenge(verifier);
          expect(await verifyCodeChallenge(altered, challenge)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('RFC 7636 §4.6: altering any one character of the challenge fails verification', async () => {
    const B64URL = UNRESERVED.filter((c) => c !== '.' && c !== '~');
    await fc.assert(
      fc.asyncProperty(
        verifierArb,
        fc.nat(),
        fc.constantFrom(...B64URL),
        async (verifier, at, ch) => {
          const challenge = await createCodeChallenge(verifier);
          const i = at % challenge.length;
          fc.pre(challenge[i] !== ch);
          const altered = challenge.slice(0, i) + ch + challenge.slice(i + 1);
          expect(await verifyCodeChallenge(verifier, altered)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("RFC 7636 §4.2: our challenge equals oauth4webapi's calculatePKCECodeChallenge", async () => {
    await fc.assert(
      fc.asyncProperty(verifierArb, async (verifier) => {
        expect(await createCodeChallenge(verifier)).toBe(
          await calculatePKCECodeChallenge(verifier),
        );
      }),
      { numRuns: 300 },
    );
  });
});
