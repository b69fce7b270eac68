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
    const spy = vi.spyOn(crypto, 'getRandomValues');
    const secret = generateSecret();
    expect(spy).toHaveBeenCalledOnce();
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

  it('FIPS 180-4: hashSecret is SHA-256 in base64url ("abc" test vector)', async () => {
    expect(await hashSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    await expect(hashSecret(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
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
