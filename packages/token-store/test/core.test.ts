import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createTokenStore,
  generateSecret,
  hashSecret,
  memoryAdapter,
  type StoreAdapter,
  StoreUnavailableError,
  TokenStoreError,
} from '../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('secrets', () => {
  it('RFC 6749 §10.10: generateSecret draws at least 256 bits from getRandomValues', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret(64)).toHaveLength(86);
    expect(new Set(Array.from({ length: 100 }, () => generateSecret())).size).toBe(100);
    expect(() => generateSecret(16)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => generateSecret('32' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('RFC 6749 §10.10: every secret is bytes of getRandomValues never handed out before', async () => {
    // A counter stands in for the random source, so each byte says where it came from.
    let next = 0;
    const drawn: number[] = [];
    vi.spyOn(crypto, 'getRandomValues').mockImplementation((array) => {
      const bytes = array as unknown as Uint8Array;
      drawn.push(bytes.length);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next++ & 0xff;
      return array;
    });
    vi.resetModules();
    const { generateSecret: fresh } = await import('../src/generate-secret.js');
    const { fromBase64url } = await import('../src/lib/base64url.js');
    const seen: number[] = [];
    for (let i = 0; i < 300; i++) seen.push(...fromBase64url(fresh(i % 2 === 0 ? 32 : 48)));
    // 300 secrets (12 000 bytes) took 3 refills of the 4 KiB pool, not 300 calls.
    expect(drawn).toEqual([4096, 4096, 4096]);
    // In order, each byte of the source at most once: a secret that does not fit in what is
    // left of the pool starts a refill (the rest is never used).
    const expected: number[] = [];
    let refilled = 0;
    let offset = 4096;
    for (let n = 0; n < 300; n++) {
      const size = n % 2 === 0 ? 32 : 48;
      if (offset + size > 4096) {
        refilled += 4096;
        offset = 0;
      }
      for (let b = 0; b < size; b++) expected.push((refilled - 4096 + offset + b) & 0xff);
      offset += size;
    }
    expect(seen).toEqual(expected);
    // A large secret draws its own bytes.
    fresh(1024);
    expect(drawn.at(-1)).toBe(1024);
    vi.resetModules();
  });

  it('FIPS 180-4: hashSecret is SHA-256 in base64url ("abc" test vector)', async () => {
    expect(await hashSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    await expect(hashSecret(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('FIPS 180-4: node:crypto and the Web Crypto fallback give the same digests', async () => {
    const { sha256, sha256Now, sha256WebCrypto } = await import('../src/lib/sha256.js');
    for (const text of ['abc', '', 'héllo ✓', generateSecret(), generateSecret(64)]) {
      const web = await sha256WebCrypto(text);
      expect(sha256Now(text)).toBe(web);
      expect(await sha256(text)).toBe(web);
    }
    expect(await sha256WebCrypto('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('FIPS 180-4: the raw digest (the successor pad) is the same on node:crypto and Web Crypto', async () => {
    const { sha256Bytes, sha256BytesNow } = await import('../src/lib/sha256.js');
    const web = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode('héllo ✓')),
    );
    expect([...sha256BytesNow('héllo ✓')!]).toEqual([...web]);
    expect([...(await sha256Bytes('héllo ✓'))]).toEqual([...web]);
  });

  it('RFC 4648 §5: secrets encode the same with node:buffer and with the JS fallback', async () => {
    // The same counter as the random source for both: equal bytes must give equal secrets.
    const secrets = async () => {
      let next = 7;
      vi.spyOn(crypto, 'getRandomValues').mockImplementation((array) => {
        const bytes = array as unknown as Uint8Array;
        for (let i = 0; i < bytes.length; i++) {
          next += 89;
          bytes[i] = next & 0xff;
        }
        return array;
      });
      vi.resetModules();
      const { generateSecret: fresh } = await import('../src/generate-secret.js');
      const out = Array.from({ length: 200 }, (_, i) => fresh(32 + (i % 40)));
      vi.restoreAllMocks();
      return out;
    };
    const native = await secrets();
    const original = process.getBuiltinModule;
    Object.defineProperty(process, 'getBuiltinModule', { value: undefined, configurable: true });
    let fallback: string[];
    try {
      fallback = await secrets();
    } finally {
      Object.defineProperty(process, 'getBuiltinModule', { value: original, configurable: true });
      vi.resetModules();
    }
    expect(fallback).toEqual(native);
    const { fromBase64url } = await import('../src/lib/base64url.js');
    expect(native.map((s) => Buffer.from(fromBase64url(s)).toString('base64url'))).toEqual(native);
  });

  it('hashSecret falls back to Web Crypto where process.getBuiltinModule is absent', async () => {
    const original = process.getBuiltinModule;
    let sealed = { token: '', next: '', sealed: '' };
    vi.resetModules();
    Object.defineProperty(process, 'getBuiltinModule', { value: undefined, configurable: true });
    try {
      const fresh = await import('../src/lib/sha256.js');
      expect(fresh.sha256Now('abc')).toBeUndefined();
      const pending = fresh.sha256('abc');
      expect(pending).toBeInstanceOf(Promise);
      expect(await pending).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
      const { hashSecret: freshHash } = await import('../src/hash-secret.js');
      expect(await freshHash('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
      // The successor seal opens the same on both paths: sealed here, opened with node:crypto.
      const { sealSuccessor } = await import('../src/lib/successor.js');
      const token = generateSecret();
      const next = generateSecret();
      sealed = { token, next, sealed: await sealSuccessor(token, next) };
    } finally {
      Object.defineProperty(process, 'getBuiltinModule', { value: original, configurable: true });
      vi.resetModules();
    }
    const { openSuccessor } = await import('../src/lib/successor.js');
    expect(await openSuccessor(sealed.token, sealed.sealed)).toBe(sealed.next);
    expect(await openSuccessor(generateSecret(), sealed.sealed)).not.toBe(sealed.next);
  });
});

describe('memoryAdapter copies', () => {
  it('returns copies: a caller mutating a found record changes nothing stored', async () => {
    const adapter = memoryAdapter();
    const record = {
      familyId: 'f1',
      userId: 'u1',
      clientId: 'c1',
      scopes: ['read'],
      createdAt: 1,
      expiresAt: null,
      extra: { nested: { list: [1, { deep: true }] }, when: new Date(5) },
    };
    await adapter.set('access_token', 'id1', record as never);
    record.scopes.push('write');
    const found = (await adapter.find('access_token', 'id1')) as typeof record;
    expect(found.scopes).toEqual(['read']);
    expect(found.extra.when).toEqual(new Date(5));
    found.extra.nested.list.push(2);
    (found.extra.nested.list[1] as { deep: boolean }).deep = false;
    const again = (await adapter.find('access_token', 'id1')) as typeof record;
    expect(again.extra.nested.list).toEqual([1, { deep: true }]);
  });

  it('keeps an own __proto__ key as data, never as a prototype', async () => {
    const { copyRecord } = await import('../src/lib/copy-record.js');
    const parsed = JSON.parse('{"a":1,"__proto__":{"polluted":true}}');
    const copy = copyRecord(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['a', '__proto__']);
  });
});

describe('createTokenStore', () => {
  it('refuses a missing adapter and bad options with coded TypeErrors', () => {
    expect(() => createTokenStore({} as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() =>
      createTokenStore({ adapter: memoryAdapter(), ttl: { accessToken: -1 }, production: false }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('NODE_ENV=production without keyEncryptionSecret fails at creation, naming the option', () => {
    vi.stubEnv('NODE_ENV', 'production');
    expect(() => createTokenStore({ adapter: memoryAdapter() })).toThrow(/keyEncryptionSecret/);
    expect(() =>
      createTokenStore({ adapter: memoryAdapter(), keyEncryptionSecret: 'a-long-secret' }),
    ).not.toThrow();
  });

  it('an adapter that throws a driver error surfaces as StoreUnavailableError with the cause', async () => {
    const driverError = new Error('ECONNRESET');
    const broken = new Proxy(memoryAdapter(), {
      get: () => async () => {
        throw driverError;
      },
    }) as StoreAdapter;
    const store = createTokenStore({ adapter: broken, production: false });
    const error = await store.accessTokens.find(generateSecret()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toMatchObject({ code: 'store_unavailable', name: 'StoreUnavailableError' });
    expect((error as Error).cause).toBe(driverError);
    expect(StoreUnavailableError.code).toBe('store_unavailable');
  });
});

describe('memoryAdapter', () => {
  it('warns once per process that it is not durable', async () => {
    vi.resetModules();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const fresh = await import('../src/memory-adapter.js');
    fresh.memoryAdapter();
    fresh.memoryAdapter();
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0]![0])).toMatch(/lost on restart/);
  });
});

describe('runtime-agnostic core', () => {
  it('the core entry point imports no node: module and no driver (only the subpaths do)', async () => {
    const src = fileURLToPath(new URL('../src', import.meta.url));
    const files = (await readdir(src, { recursive: true }))
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => !file.startsWith('postgres') && !file.startsWith('redis'));
    expect(files).toContain('create-token-store.ts');
    for (const file of files) {
      const text = await readFile(path.join(src, file), 'utf8');
      expect(text, file).not.toMatch(/from ['"](node:|pg['"]|ioredis|@electric-sql)/);
      expect(text, file).not.toMatch(/\bBuffer\.|\brequire\(/);
    }
  });
});
