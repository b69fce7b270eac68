import fc from 'fast-check';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkBinding, generateProofKey, jwkThumbprint } from '../src/index.js';
import { keyPair } from './support/proofs.js';

// RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
const RFC7638_KEY = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};

describe('RFC 7638 JWK thumbprint', () => {
  it('§3.1: the example key hashes to NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', async () => {
    expect(await jwkThumbprint(RFC7638_KEY)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('§3.2: members other than the required ones do not change it', async () => {
    const { alg: _alg, kid: _kid, ...bare } = RFC7638_KEY;
    expect(await jwkThumbprint({ ...bare, use: 'sig', key_ops: ['verify'] })).toBe(
      await jwkThumbprint(RFC7638_KEY),
    );
  });

  it.each(['ES256', 'ES384', 'ES512', 'PS256', 'Ed25519'] as const)(
    '%s keys: equal to jose calculateJwkThumbprint',
    async (alg) => {
      const { publicJwk } = await keyPair(alg);
      expect(await jwkThumbprint(publicJwk)).toBe(await calculateJwkThumbprint(publicJwk));
    },
  );

  it('refuses a private key and a symmetric one with a TypeError', async () => {
    const { privateKey } = await keyPair('ES256');
    const jwk = await crypto.subtle.exportKey('jwk', privateKey);
    await expect(jwkThumbprint(jwk)).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(jwkThumbprint({ kty: 'oct', k: 'AAAA' })).rejects.toBeInstanceOf(TypeError);
    await expect(jwkThumbprint('nope')).rejects.toBeInstanceOf(TypeError);
  });
});

describe('RFC 9449 §6.1: checkBinding (cnf.jkt against the proof key)', () => {
  it('true for the same thumbprint, false for another', async () => {
    const a = await jwkThumbprint((await generateProofKey()).publicJwk);
    const b = await jwkThumbprint((await generateProofKey()).publicJwk);
    expect(checkBinding(a, a)).toBe(true);
    expect(checkBinding(a, b)).toBe(false);
    expect(checkBinding(a, `${a.slice(0, 42)}${a[42] === 'A' ? 'B' : 'A'}`)).toBe(false);
  });

  it('false for a missing or malformed cnf.jkt, never a throw', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (x, y) => {
        expect(checkBinding(x, y)).toBe(
          typeof x === 'string' && x === y && /^[A-Za-z0-9_-]{43}$/.test(x),
        );
      }),
    );
    expect(checkBinding(undefined, 'A'.repeat(43))).toBe(false);
    expect(checkBinding('A'.repeat(44), 'A'.repeat(44))).toBe(false);
  });
});
