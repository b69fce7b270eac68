import { describe, expect, it } from 'vitest';
import {
  CodedTypeError,
  createCodeChallenge,
  createCodeVerifier,
  createPkcePair,
  isCodeVerifier,
  UnsupportedChallengeMethodError,
  verifyCodeChallenge,
} from '../src/index.js';

const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function expectTypeError(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(CodedTypeError);
    expect((error as CodedTypeError).code).toBe(code);
    return;
  }
  throw new Error('expected a TypeError');
}

async function expectAsyncTypeError(promise: Promise<unknown>, code: string) {
  await expect(promise).rejects.toBeInstanceOf(TypeError);
  await expect(promise).rejects.toMatchObject({ code });
}

describe('RFC 7636 Appendix B', () => {
  it('RFC 7636 Appendix B: the example verifier gives the example S256 challenge', async () => {
    expect(await createCodeChallenge(RFC_VERIFIER)).toBe(RFC_CHALLENGE);
  });

  it('RFC 7636 Appendix B: the example pair verifies', async () => {
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE)).toBe(true);
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 'S256')).toBe(true);
  });
});

describe('RFC 7636 §4.1: code verifier syntax', () => {
  const of = (n: number, ch = 'a') => ch.repeat(n);

  it('RFC 7636 §4.1: rejects a verifier shorter than 43 characters', async () => {
    expect(isCodeVerifier(of(42))).toBe(false);
    await expectAsyncTypeError(createCodeChallenge(of(42)), 'ERR_INVALID_ARG_VALUE');
    expect(await verifyCodeChallenge(of(42), RFC_CHALLENGE)).toBe(false);
  });

  it('RFC 7636 §4.1: rejects a verifier longer than 128 characters', async () => {
    expect(isCodeVerifier(of(129))).toBe(false);
    await expectAsyncTypeError(createCodeChallenge(of(129)), 'ERR_INVALID_ARG_VALUE');
    expect(await verifyCodeChallenge(of(129), RFC_CHALLENGE)).toBe(false);
  });

  it('RFC 7636 §4.1: accepts verifiers of exactly 43 and 128 characters', async () => {
    for (const verifier of [of(43), of(128), `${of(40)}-._~`]) {
      expect(isCodeVerifier(verifier)).toBe(true);
      const challenge = await createCodeChallenge(verifier);
      expect(await verifyCodeChallenge(verifier, challenge)).toBe(true);
    }
  });

  it('RFC 7636 §4.1: rejects characters outside the unreserved set', () => {
    for (const bad of ['+', '/', '=', ' ', '%', 'é', '\n', '*']) {
      expect(isCodeVerifier(`${of(42)}${bad}`)).toBe(false);
    }
    expect(isCodeVerifier(42)).toBe(false);
    expect(isCodeVerifier(undefined)).toBe(false);
  });

  it('RFC 7636 §4.1: createCodeVerifier draws 43–128 unreserved characters', () => {
    expect(createCodeVerifier()).toHaveLength(64);
    for (const length of [43, 64, 100, 128]) {
      const verifier = createCodeVerifier(length);
      expect(verifier).toHaveLength(length);
      expect(isCodeVerifier(verifier)).toBe(true);
    }
    expect(createCodeVerifier()).not.toBe(createCodeVerifier());
  });

  it('RFC 7636 §7.1: every unreserved character appears, none is favoured grossly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      for (const ch of createCodeVerifier(128)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(66);
    const expected = (200 * 128) / 66;
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(expected * 0.6);
      expect(n).toBeLessThan(expected * 1.4);
    }
  });
});

describe('RFC 7636 §4.2 and §4.6: S256 only', () => {
  it('RFC 7636 §4.2: the challenge is base64url without padding, 43 characters', async () => {
    const { codeVerifier, codeChallenge, codeChallengeMethod } = await createPkcePair();
    expect(codeChallengeMethod).toBe('S256');
    expect(codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyCodeChallenge(codeVerifier, codeChallenge)).toBe(true);
  });

  it('OAuth 2.1 §4.1.1: refuses the plain method with a clear error', async () => {
    const attempt = verifyCodeChallenge(RFC_VERIFIER, RFC_VERIFIER, 'plain');
    await expect(attempt).rejects.toBeInstanceOf(UnsupportedChallengeMethodError);
    await expect(attempt).rejects.toMatchObject({
      code: 'ERR_PKCE_METHOD_UNSUPPORTED',
      method: 'plain',
      message: expect.stringContaining('S256'),
    });
  });

  it('RFC 7636 §4.6: refuses an unknown method', async () => {
    await expect(verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 'S512')).rejects.toBeInstanceOf(
      UnsupportedChallengeMethodError,
    );
  });

  it('RFC 7636 §4.6: a mismatching verifier does not verify', async () => {
    const other = createCodeVerifier(43);
    expect(await verifyCodeChallenge(other, RFC_CHALLENGE)).toBe(false);
  });

  it('RFC 7636 §4.6: a malformed challenge does not verify', async () => {
    for (const challenge of [
      '',
      `${RFC_CHALLENGE}=`,
      RFC_CHALLENGE.slice(1),
      `${RFC_CHALLENGE}A`,
      RFC_CHALLENGE.replace('-', '+'),
    ]) {
      expect(await verifyCodeChallenge(RFC_VERIFIER, challenge)).toBe(false);
    }
  });
});

describe("caller's mistakes", () => {
  it('a number where a string belongs throws ERR_INVALID_ARG_TYPE', async () => {
    await expectAsyncTypeError(createCodeChallenge(42 as never), 'ERR_INVALID_ARG_TYPE');
    await expectAsyncTypeError(
      verifyCodeChallenge(42 as never, RFC_CHALLENGE),
      'ERR_INVALID_ARG_TYPE',
    );
    await expectAsyncTypeError(
      verifyCodeChallenge(RFC_VERIFIER, null as never),
      'ERR_INVALID_ARG_TYPE',
    );
    await expectAsyncTypeError(
      verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 1 as never),
      'ERR_INVALID_ARG_TYPE',
    );
    expectTypeError(() => createCodeVerifier('64' as never), 'ERR_INVALID_ARG_TYPE');
  });

  it('a length outside 43–128 throws ERR_INVALID_ARG_VALUE', () => {
    for (const length of [20, 42, 129, 64.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectTypeError(() => createCodeVerifier(length), 'ERR_INVALID_ARG_VALUE');
    }
  });
});
