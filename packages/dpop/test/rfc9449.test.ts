import { beforeAll, describe, expect, it } from 'vitest';
import {
  createNonceIssuer,
  createProof,
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  InvalidDpopProofError,
  jwkThumbprint,
  type ProofCheck,
  UseDpopNonceError,
  verifyProof,
} from '../src/index.js';
import {
  keyPair,
  NOW,
  NOW_MS,
  options,
  parts,
  signManually,
  signRaw,
  URL_,
} from './support/proofs.js';

let key: Awaited<ReturnType<typeof keyPair>>;
let other: Awaited<ReturnType<typeof keyPair>>;
beforeAll(async () => {
  key = await keyPair('ES256');
  other = await keyPair('ES256');
});

async function refusal(proof: unknown, extra = {}): Promise<InvalidDpopProofError> {
  const error = await verifyProof(proof, options(extra)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidDpopProofError);
  return error as InvalidDpopProofError;
}

async function refusedBy(check: ProofCheck, proof: unknown, extra = {}): Promise<void> {
  const error = await refusal(proof, extra);
  expect(error.check, error.message).toBe(check);
  expect(error.error).toBe('invalid_dpop_proof');
  expect(error.code).toBe('ERR_DPOP_INVALID_PROOF');
}

/** A proof signed by `key` with members of its header set (`undefined` removes one). */
function withHeader(members: Record<string, unknown>): Promise<string> {
  return altered((p) => {
    p.header = dropUndefined({ ...p.header, ...members });
  });
}

/** A proof signed by `key` with claims set (`undefined` removes one). */
function withClaims(claims: Record<string, unknown>): Promise<string> {
  return altered((p) => {
    p.payload = dropUndefined({ ...p.payload, ...claims });
  });
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** A proof signed by `key` with one change to its header or payload. */
async function altered(
  change: (p: ReturnType<typeof parts>) => void,
  signer: { privateKey: CryptoKey; alg: string } = key,
): Promise<string> {
  const p = parts(key);
  change(p);
  return signRaw(signer, p.header, p.payload);
}

describe('RFC 9449 §4.3: a valid proof', () => {
  it('is accepted, and says which key made it (jkt = RFC 7638 thumbprint)', async () => {
    const proof = await createProof({ ...key, method: 'POST', url: URL_, iat: NOW, jti: 'a-jti' });
    const result = await verifyProof(proof, options());
    const ec = key.publicJwk as { x: string; y: string };
    expect(result).toEqual({
      jkt: await jwkThumbprint(key.publicJwk),
      jwk: { crv: 'P-256', kty: 'EC', x: ec.x, y: ec.y },
      jti: 'a-jti',
      iat: NOW,
    });
  });

  it.each(DPOP_ALGORITHMS.filter((alg) => alg !== 'EdDSA'))(
    '%s: a proof signed with it verifies when allowed',
    async (alg) => {
      const k = await keyPair(alg as DpopAlgorithm);
      const proof = await createProof({ ...k, alg, method: 'POST', url: URL_, iat: NOW });
      const result = await verifyProof(proof, options({ algorithms: [alg] }));
      expect(result.jkt).toBe(await jwkThumbprint(k.publicJwk));
    },
  );

  it('EdDSA (the polymorphic name) with an Ed25519 key verifies', async () => {
    const k = await keyPair('Ed25519');
    const proof = await signRaw(
      { ...k, alg: 'EdDSA' },
      parts({ ...k, alg: 'EdDSA' }).header,
      parts(k).payload,
    );
    await expect(verifyProof(proof, options({ algorithms: ['EdDSA'] }))).resolves.toMatchObject({
      jwk: { kty: 'OKP', crv: 'Ed25519' },
    });
  });

  it('§4.2: typ may be written application/dpop+jwt, in any case (RFC 7515 §4.1.9)', async () => {
    for (const typ of ['application/dpop+jwt', 'DPoP+JWT']) {
      const proof = await altered((p) => {
        p.header.typ = typ;
      });
      await expect(verifyProof(proof, options())).resolves.toBeDefined();
    }
  });
});

describe('RFC 9449 §4.3: each check refuses on its own', () => {
  it('check 1: no DPoP header at all', async () => {
    await refusedBy('header', undefined);
    await refusedBy('header', null);
    await refusedBy('header', '');
  });

  it('check 1: more than one DPoP header (Headers.get joins them with ", ")', async () => {
    const a = await altered(() => {});
    const b = await altered(() => {});
    const headers = new Headers();
    headers.append('DPoP', a);
    headers.append('DPoP', b);
    await refusedBy('header', headers.get('dpop'));
  });

  it('check 2: not a single well-formed JWT', async () => {
    const proof = await altered(() => {});
    const [h, p, s] = proof.split('.');
    await refusedBy('syntax', `${h}.${p}`);
    await refusedBy('syntax', `${proof}.${s}`);
    await refusedBy('syntax', `${h}.${p}.`);
    await refusedBy('syntax', `${h}!.${p}.${s}`);
    await refusedBy('syntax', `${btoa('not json')}.${p}.${s}`);
    await refusedBy('syntax', `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`);
    await refusedBy('syntax', `${h}.${Buffer.from('"str"').toString('base64url')}.${s}`);
    // JWE compact serialisation has five parts.
    await refusedBy('syntax', `${h}.${p}.${s}.${s}.${s}`);
  });

  it('check 2: a proof longer than MAX_PROOF_LENGTH is not decoded', async () => {
    const proof = await altered((p) => {
      p.payload.padding = 'x'.repeat(9000);
    });
    await refusedBy('syntax', proof);
  });

  it('check 2: an unknown "crit" extension', async () => {
    const p = parts(key);
    const proof = await signManually(
      key.privateKey,
      { ...p.header, crit: ['exp'], exp: 1 },
      p.payload,
    );
    await refusedBy('syntax', proof);
  });

  it('check 3: each required claim missing', async () => {
    await refusedBy('jti', await withClaims({ jti: undefined }));
    await refusedBy('htm', await withClaims({ htm: undefined }));
    await refusedBy('htu', await withClaims({ htu: undefined }));
    await refusedBy('iat', await withClaims({ iat: undefined }));
    await refusedBy('typ', await withHeader({ typ: undefined }));
    await refusedBy('jwk', await withHeader({ jwk: undefined }));
  });

  it('check 4: typ is not dpop+jwt', async () => {
    await refusedBy('typ', await withHeader({ typ: 'JWT' }));
    await refusedBy('typ', await withHeader({ typ: 'at+jwt' }));
  });

  it('check 5: alg none, a MAC, or an asymmetric alg not allowed', async () => {
    const p = parts(key);
    const unsigned = `${Buffer.from(JSON.stringify({ ...p.header, alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(p.payload)).toString('base64url')}.`;
    await refusedBy('syntax', unsigned); // no signature part at all
    await refusedBy('alg', `${unsigned}AAAA`);
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const hs = await signRaw(
      { privateKey: secret as unknown as CryptoKey, alg: 'HS256' },
      { ...p.header, alg: 'HS256' },
      p.payload,
    );
    await refusedBy('alg', hs);
    const es256 = await altered(() => {});
    await refusedBy('alg', es256, { algorithms: ['PS256'] });
  });

  it('check 5: alg and key must fit (ES384 named over a P-256 key)', async () => {
    const p = parts(key);
    await refusedBy(
      'jwk',
      await signManually(key.privateKey, { ...p.header, alg: 'ES384' }, p.payload),
      {
        algorithms: ['ES256', 'ES384'],
      },
    );
  });

  it('check 6: a signature by another key than the one in jwk', async () => {
    await refusedBy('signature', await altered(() => {}, other));
  });

  it('check 6: a signature that is bit-flipped', async () => {
    const proof = await altered(() => {});
    const [h, p, s] = proof.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10]! ^= 1;
    await refusedBy('signature', `${h}.${p}.${sig.toString('base64url')}`);
  });

  it('check 6: a payload changed after signing', async () => {
    const proof = await altered(() => {});
    const [h, , s] = proof.split('.');
    const payload = { ...parts(key).payload, htm: 'POST', jti: 'forged' };
    await refusedBy(
      'signature',
      `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`,
    );
  });

  it('check 7: the jwk header carries a private key', async () => {
    const priv = (await import('jose')).exportJWK(key.privateKey);
    const jwk = await priv;
    expect(jwk.d).toBeDefined();
    await refusedBy('jwk', await withHeader({ jwk: jwk }));
    await refusedBy('jwk', await withHeader({ jwk: { ...key.publicJwk, d: 'x' } }));
    await refusedBy('jwk', await withHeader({ jwk: { kty: 'oct', k: 'c2VjcmV0' } }));
  });

  it('check 7: a jwk that is not a supported public key', async () => {
    const bad = [
      'a string',
      [key.publicJwk],
      { ...key.publicJwk, crv: 'secp256k1' },
      { ...key.publicJwk, x: `${key.publicJwk.kty === 'EC' ? key.publicJwk.x : ''}A` },
      { ...key.publicJwk, kty: 'RSA' },
    ];
    for (const jwk of bad) await refusedBy('jwk', await withHeader({ jwk: jwk }));
  });

  it('check 7: an EC point that is not on the curve', async () => {
    const offCurve = { ...key.publicJwk, y: Buffer.alloc(32, 7).toString('base64url') };
    await refusedBy('jwk', await withHeader({ jwk: offCurve }));
    // Imported keys are cached; a key that failed to import is not, and fails again.
    await refusedBy('jwk', await withHeader({ jwk: offCurve }));
  });

  it('check 7: RSA keys under 2048 bits are refused', async () => {
    const small = (await crypto.subtle.generateKey(
      {
        name: 'RSA-PSS',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const { kty, n, e } = await crypto.subtle.exportKey('jwk', small.publicKey);
    const p = parts(key);
    const proof = await signManually(
      small.privateKey,
      { ...p.header, alg: 'PS256', jwk: { kty, n, e } },
      p.payload,
    );
    await refusedBy('jwk', proof, { algorithms: ['PS256'] });
  });

  it('check 8: htm is not the method of the request (exact, case-sensitive)', async () => {
    await refusedBy('htm', await withClaims({ htm: 'GET' }));
    await refusedBy('htm', await withClaims({ htm: 'post' }));
  });

  it('check 9: htu is another URL', async () => {
    await refusedBy('htu', await withClaims({ htu: 'https://mcp.example.com/other' }));
    await refusedBy('htu', await withClaims({ htu: 'https://evil.example/mcp' }));
    await refusedBy('htu', await withClaims({ htu: 'http://mcp.example.com/mcp' }));
    await refusedBy('htu', await withClaims({ htu: 'https://mcp.example.com:8443/mcp' }));
  });

  it('check 9: htu with a query or a fragment is refused (§4.2: without them)', async () => {
    await refusedBy('htu', await withClaims({ htu: `${URL_}?a=1` }));
    await refusedBy('htu', await withClaims({ htu: `${URL_}#f` }));
  });

  it('check 10: a required nonce that is missing, then one that is stale: use_dpop_nonce', async () => {
    const issuer = createNonceIssuer({ secret: 'x'.repeat(32), now: () => NOW_MS });
    const missing = await altered(() => {});
    const e1 = await verifyProof(missing, options({ nonce: issuer })).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(UseDpopNonceError);
    expect((e1 as UseDpopNonceError).toResponseObject().error).toBe('use_dpop_nonce');
    const stale = await withClaims({ nonce: 'A'.repeat(43) });
    const e2 = await verifyProof(stale, options({ nonce: issuer })).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(UseDpopNonceError);
    const nonce = await issuer.issue();
    const ok = await withClaims({ nonce: nonce });
    await expect(verifyProof(ok, options({ nonce: issuer }))).resolves.toMatchObject({ nonce });
  });

  it('check 10: an exact expected nonce string is compared', async () => {
    const ok = await withClaims({ nonce: 'n-1' });
    await expect(verifyProof(ok, options({ nonce: 'n-1' }))).resolves.toBeDefined();
    const wrong = await withClaims({ nonce: 'n-2' });
    await expect(verifyProof(wrong, options({ nonce: 'n-1' }))).rejects.toBeInstanceOf(
      UseDpopNonceError,
    );
  });

  it('check 10: a nonce that is not a string is a malformed proof', async () => {
    await refusedBy('nonce', await withClaims({ nonce: 42 }));
  });

  it('a nonce is not required unless asked for', async () => {
    const proof = await withClaims({ nonce: 'anything' });
    await expect(verifyProof(proof, options())).resolves.toMatchObject({ nonce: 'anything' });
  });

  it('check 11: iat too old, too far in the future, or not a number', async () => {
    const at = (iat: unknown) => withClaims({ iat: iat });
    // Defaults: 60 s old at most, 15 s of skew either way.
    await refusedBy('iat', await at(NOW - 76));
    await expect(verifyProof(await at(NOW - 75), options())).resolves.toBeDefined();
    await refusedBy('iat', await at(NOW + 16));
    await expect(verifyProof(await at(NOW + 15), options())).resolves.toBeDefined();
    await refusedBy('iat', await at(String(NOW)));
    await refusedBy('iat', await at(null));
    await refusedBy('iat', await at(NOW - 11), { maxAgeSeconds: 5, clockSkewSeconds: 5 });
  });

  it('check 12 (§7.1): ath missing or for another access token', async () => {
    const proof = await createProof({
      ...key,
      method: 'POST',
      url: URL_,
      iat: NOW,
      accessToken: 'token-a',
    });
    await expect(verifyProof(proof, options({ accessToken: 'token-a' }))).resolves.toBeDefined();
    const again = await createProof({
      ...key,
      method: 'POST',
      url: URL_,
      iat: NOW,
      accessToken: 'token-a',
    });
    await refusedBy('ath', again, { accessToken: 'token-b' });
    await refusedBy('ath', await altered(() => {}), { accessToken: 'token-a' });
    await refusedBy('ath', await withClaims({ ath: 7 }), {
      accessToken: 'token-a',
    });
  });

  it('§7.1: ath is the base64url SHA-256 of the token (RFC 9449 §7.1 example)', async () => {
    const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
    const proof = await createProof({
      ...key,
      method: 'GET',
      url: URL_,
      iat: NOW,
      accessToken: token,
    });
    const payload = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString());
    expect(payload.ath).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  });

  it('jti missing, empty, not a string or longer than 256 characters', async () => {
    for (const jti of ['', 42, 'j'.repeat(257)]) {
      await refusedBy('jti', await withClaims({ jti: jti }));
    }
    await expect(
      verifyProof(await withClaims({ jti: 'j'.repeat(256) }), options()),
    ).resolves.toBeDefined();
  });

  it('§11.1: the same proof twice is refused the second time', async () => {
    const proof = await altered(() => {});
    const opts = options();
    await expect(verifyProof(proof, opts)).resolves.toBeDefined();
    await refusedBy('replay', proof, { replay: opts.replay });
  });

  it('§11.1: one jti under two keys is two proofs; a refused proof takes no room', async () => {
    const opts = options();
    const a = await withClaims({ jti: 'same' });
    const b = await signRaw(
      other,
      { ...parts(other).header },
      { ...parts(other).payload, jti: 'same' },
    );
    await expect(verifyProof(b, { ...opts, method: 'GET' })).rejects.toBeInstanceOf(
      InvalidDpopProofError,
    );
    await expect(verifyProof(a, opts)).resolves.toBeDefined();
    await expect(verifyProof(b, opts)).resolves.toBeDefined();
  });

  it('the replay entry lasts exactly as long as the proof would be accepted', async () => {
    const seen: number[] = [];
    const replay = {
      remember: async (_key: string, at: number) => {
        seen.push(at);
        return true;
      },
    };
    await verifyProof(await altered(() => {}), options({ replay }));
    expect(seen).toEqual([(NOW + 60 + 15) * 1000]);
  });

  it('the replay expiry is whole milliseconds (Redis PXAT wants an integer) for a fractional iat', async () => {
    const seen: number[] = [];
    const replay = {
      remember: async (_key: string, at: number) => {
        seen.push(at);
        return true;
      },
    };
    await verifyProof(await withClaims({ iat: NOW - 0.0004 }), options({ replay }));
    expect(seen).toEqual([(NOW + 60 + 15) * 1000]);
  });

  it('url may be a URL object', async () => {
    const proof = await altered(() => {});
    await expect(verifyProof(proof, options({ url: new URL(URL_) }))).resolves.toBeDefined();
  });

  it('the error message never quotes the proof', async () => {
    const proof = await withClaims({ htu: 'https://evil.example/<script>' });
    const error = await refusal(proof);
    expect(error.message).not.toContain('evil');
    expect(error.toResponseObject()).toEqual({
      error: 'invalid_dpop_proof',
      error_description: error.message,
    });
  });
});

describe('RFC 9449 §4.3: htu normalisation (RFC 3986 §6.2.2, §6.2.3)', () => {
  const cases: [string, string][] = [
    ['https://MCP.Example.COM/mcp', 'https://mcp.example.com/mcp'],
    ['HTTPS://mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
    ['http://localhost:80/x', 'http://localhost/x'],
    ['https://mcp.example.com', 'https://mcp.example.com/'],
    ['https://mcp.example.com/a/./b/../mcp', 'https://mcp.example.com/a/mcp'],
    ['https://mcp.example.com/%7Euser/a%2fb', 'https://mcp.example.com/~user/a%2Fb'],
    ['https://mcp.example.com/caf%c3%a9', 'https://mcp.example.com/café'],
    ['https://[::1]:8443/mcp', 'https://[0:0:0:0:0:0:0:1]:8443/mcp'],
  ];

  it.each(cases)('htu %s matches a request to %s', async (htu, url) => {
    const proof = await signRaw(key, parts(key).header, { ...parts(key).payload, htu });
    await expect(verifyProof(proof, options({ url }))).resolves.toBeDefined();
  });

  it('the request URL’s query and fragment are ignored', async () => {
    const proof = await altered(() => {});
    await expect(
      verifyProof(proof, options({ url: `${URL_}?session=1#x` })),
    ).resolves.toBeDefined();
  });

  it('a different path case, a trailing slash, or a decoded reserved character is another URL', async () => {
    for (const htu of [
      'https://mcp.example.com/MCP',
      'https://mcp.example.com/mcp/',
      'https://mcp.example.com/a/b',
    ]) {
      const proof = await withClaims({ htu: htu });
      await refusedBy('htu', proof, {
        url: htu === 'https://mcp.example.com/a/b' ? 'https://mcp.example.com/a%2Fb' : URL_,
      });
    }
  });

  it('htu with userinfo, another scheme, or not a URL', async () => {
    for (const htu of [
      'https://user@mcp.example.com/mcp',
      'ftp://mcp.example.com/mcp',
      'mcp',
      42,
    ]) {
      await refusedBy('htu', await withClaims({ htu: htu }));
    }
  });
});

describe('options: a caller’s mistake is a TypeError, not a refused proof', () => {
  it.each([
    ['method', { method: 'GET POST' }],
    ['url', { url: '/relative' }],
    ['url', { url: 'ftp://x/' }],
    ['replay', { replay: undefined }],
    ['algorithms', { algorithms: ['none'] }],
    ['algorithms', { algorithms: ['HS256'] }],
    ['algorithms', { algorithms: [] }],
    ['maxAgeSeconds', { maxAgeSeconds: 0 }],
    ['clockSkewSeconds', { clockSkewSeconds: -1 }],
    ['nonce', { nonce: 5 }],
  ])('%s: %j', async (name, extra) => {
    const proof = await altered(() => {});
    const error = await verifyProof(proof, { ...options(), ...(extra as object) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain(`"${name}"`);
    expect((error as { code: string }).code).toMatch(/^ERR_INVALID_ARG_(TYPE|VALUE)$/);
  });

  it('a replay store that fails is passed on, not turned into a refusal', async () => {
    const outage = new Error('redis down');
    const replay = { remember: async () => Promise.reject(outage) };
    await expect(verifyProof(await altered(() => {}), options({ replay }))).rejects.toBe(outage);
  });
});

describe('error classes', () => {
  it('a refused proof is a DpopProofError that answers the client; a full store is not', async () => {
    const { DpopError, DpopProofError, ReplayStoreFullError } = await import('../src/index.js');
    const invalid = new InvalidDpopProofError('htm', 'x');
    const nonce = new UseDpopNonceError('y');
    const full = new ReplayStoreFullError(3);
    for (const e of [invalid, nonce, full]) expect(e).toBeInstanceOf(DpopError);
    expect(invalid).toBeInstanceOf(DpopProofError);
    expect(nonce).toBeInstanceOf(DpopProofError);
    expect(full).not.toBeInstanceOf(DpopProofError);
    expect(nonce.toResponseObject()).toEqual({ error: 'use_dpop_nonce', error_description: 'y' });
    expect([invalid.name, nonce.name, full.name]).toEqual([
      'InvalidDpopProofError',
      'UseDpopNonceError',
      'ReplayStoreFullError',
    ]);
    expect([InvalidDpopProofError.code, UseDpopNonceError.code, ReplayStoreFullError.code]).toEqual(
      ['ERR_DPOP_INVALID_PROOF', 'ERR_DPOP_USE_NONCE', 'ERR_DPOP_REPLAY_STORE_FULL'],
    );
  });
});
