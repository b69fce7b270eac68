import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';

// RFC 7636 Appendix B.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/**
 * The package picks its SHA-256 when it loads, from what `process.getBuiltinModule('node:crypto')`
 * offers: loaded again here under each runtime's offer, with a counter on the path it should take.
 */
async function loadWith(offer: 'one-shot' | 'createHash' | 'none') {
  const calls = { hash: 0, createHash: 0 };
  const nodeCrypto =
    offer === 'none'
      ? undefined
      : {
          createHash: (algorithm: string) => {
            calls.createHash++;
            return createHash(algorithm);
          },
          ...(offer === 'one-shot'
            ? {
                hash: (algorithm: string, data: string, encoding: 'base64url') => {
                  calls.hash++;
                  return createHash(algorithm).update(data, 'utf8').digest(encoding);
                },
              }
            : {}),
        };
  vi.resetModules();
  vi.spyOn(process, 'getBuiltinModule').mockImplementation(((id: string) =>
    id === 'node:crypto' ? nodeCrypto : undefined) as typeof process.getBuiltinModule);
  const pkce = await import('../src/index.js');
  vi.restoreAllMocks();
  return { pkce, calls };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.resetModules();
});

describe.each([
  ['one-shot', { hash: 3, createHash: 0, webCrypto: 0 }],
  ['createHash', { hash: 0, createHash: 3, webCrypto: 0 }],
  ['none', { hash: 0, createHash: 0, webCrypto: 3 }],
] as const)('SHA-256 where node:crypto offers %s', (offer, expected) => {
  it('computes and verifies the RFC 7636 Appendix B challenge on that path alone', async () => {
    const { pkce, calls } = await loadWith(offer);
    const digest = vi.spyOn(crypto.subtle, 'digest');
    expect(await pkce.createCodeChallenge(RFC_VERIFIER)).toBe(RFC_CHALLENGE);
    expect(await pkce.verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE)).toBe(true);
    const other = `${RFC_VERIFIER.slice(0, -1)}A`;
    expect(await pkce.verifyCodeChallenge(other, RFC_CHALLENGE)).toBe(false);
    expect({ ...calls, webCrypto: digest.mock.calls.length }).toEqual(expected);
  });
});
