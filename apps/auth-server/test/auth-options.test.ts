import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAuthOptions } from '../src/lib/auth-options';
import { loadConfig } from '../src/lib/config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-auth-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const production = {
  NODE_ENV: 'production',
  ISSUER_URL: 'https://auth.example.com',
  NEXTAUTH_SECRET: 's'.repeat(40),
  KEY_ENCRYPTION_SECRET: 'k'.repeat(40),
  DATA_DIR: dir,
  AUTH0_DOMAIN: 'tenant.eu.auth0.com',
  AUTH0_CLIENT_ID: 'id',
  AUTH0_CLIENT_SECRET: 'secret',
  FIREBASE_PROJECT_ID: 'my-app',
  FIREBASE_API_KEY: 'key',
};

// next-auth merges a provider's `options` (where our ids live) over its defaults at start.
const ids = (options: ReturnType<typeof buildAuthOptions>) =>
  options.providers.map((p) => (p as { options?: { id?: string } }).options?.id ?? p.id);

describe('next-auth options', () => {
  it('production: secure cookies, the session in a __Host- cookie, no dev login', () => {
    const options = buildAuthOptions(loadConfig(production));
    expect(options.useSecureCookies).toBe(true);
    expect(options.cookies?.sessionToken?.name).toBe('__Host-next-auth.session-token');
    expect(options.cookies?.sessionToken?.options).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
    });
    expect(options.cookies?.sessionToken?.options).not.toHaveProperty('domain');
    expect(ids(options)).toEqual(['auth0', 'firebase']);
  });

  it('development on http://localhost: plain cookie names (browsers refuse prefixes without TLS) and dev login', () => {
    const options = buildAuthOptions(loadConfig({ DATA_DIR: dir }));
    expect(options.useSecureCookies).toBe(false);
    expect(options.cookies).toEqual({});
    expect(ids(options)).toEqual(['dev-login']);
  });

  it('the redirect callback never leaves the origin', async () => {
    const { redirect } = buildAuthOptions(loadConfig({ DATA_DIR: dir })).callbacks!;
    const baseUrl = 'http://localhost:3000';
    expect(await redirect!({ url: '/authorize?x=1', baseUrl })).toBe(`${baseUrl}/authorize?x=1`);
    expect(await redirect!({ url: 'https://evil.example/', baseUrl })).toBe(baseUrl);
    expect(await redirect!({ url: '//evil.example/', baseUrl })).toBe(baseUrl);
  });
});
