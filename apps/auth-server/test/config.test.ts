import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/lib/config';
import { guideNotices } from '../src/lib/startup';

const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'x'.repeat(40);
const prod = {
  NODE_ENV: 'production',
  ISSUER_URL: 'https://auth.example.com',
  NEXTAUTH_SECRET: SECRET,
  KEY_ENCRYPTION_SECRET: SECRET,
  DATA_DIR: dir,
  AUTH0_DOMAIN: 'tenant.eu.auth0.com',
  AUTH0_CLIENT_ID: 'abc',
  AUTH0_CLIENT_SECRET: 'def',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to a local development server with dev login, PGlite in DATA_DIR and a kept secret', () => {
    const config = loadConfig({ DATA_DIR: dir });
    expect(config).toMatchObject({
      production: false,
      issuer: 'http://localhost:3000',
      resources: ['http://localhost:8000/mcp'],
      devLogin: true,
      storage: { kind: 'pglite', dir: path.join(dir, 'pglite') },
    });
    expect(config.nextauthSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = path.join(dir, 'nextauth-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(config.nextauthSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Generated once: a restart signs sessions with the same secret.
    expect(loadConfig({ DATA_DIR: dir }).nextauthSecret).toBe(config.nextauthSecret);
  });

  it('`next start` on a loopback issuer is still development; a public issuer is production', () => {
    expect(loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }).production).toBe(false);
    const config = loadConfig(prod);
    expect(config.production).toBe(true);
    expect(config.devLogin).toBe(false);
    expect(config.auth0?.issuer).toBe('https://tenant.eu.auth0.com');
    expect(loadConfig({ ...prod, DEV_LOGIN: 'true' }).devLogin).toBe(true);
  });

  it('names the variable in one line when a value is bad or missing', () => {
    const bad = errorOf({ ISSUER_URL: 'not a url', DATA_DIR: dir });
    expect(bad.variable).toBe('ISSUER_URL');
    expect(bad.message).toMatch(/^Invalid configuration: ISSUER_URL .+/);
    expect(bad.message).not.toContain('\n');
    expect(errorOf({ ...prod, NEXTAUTH_SECRET: '' }).variable).toBe('NEXTAUTH_SECRET');
    expect(errorOf({ ...prod, NEXTAUTH_SECRET: 'short' }).variable).toBe('NEXTAUTH_SECRET');
    expect(errorOf({ ...prod, KEY_ENCRYPTION_SECRET: '' }).variable).toBe('KEY_ENCRYPTION_SECRET');
    expect(errorOf({ ...prod, ISSUER_URL: 'http://auth.example.com' }).variable).toBe('ISSUER_URL');
    expect(errorOf({ ...prod, AUTH0_CLIENT_SECRET: '' }).variable).toBe('AUTH0_CLIENT_SECRET');
    expect(errorOf({ DATA_DIR: dir, TOKEN_EXPIRY_HOURS: 'soon' }).variable).toBe(
      'TOKEN_EXPIRY_HOURS',
    );
    expect(errorOf({ DATA_DIR: dir, DEV_LOGIN: 'maybe' }).variable).toBe('DEV_LOGIN');
    expect(errorOf({ DATA_DIR: dir, DATABASE_URL: 'mysql://x' }).variable).toBe('DATABASE_URL');
    expect(errorOf({ DATA_DIR: dir, SIGNING_KEY: 'secret' }).variable).toBe('SIGNING_KEY');
    expect(errorOf({ DATA_DIR: dir, DEV_LOGIN: 'false' }).variable).toBe('DEV_LOGIN');
  });

  it('Vercel refuses the embedded and memory stores and requires SIGNING_KEY', () => {
    const vercel = { ...prod, VERCEL: '1' };
    const store = errorOf(vercel);
    expect(store.variable).toBe('DATABASE_URL');
    expect(store.message).toContain('REDIS_URL');
    expect(errorOf({ ...vercel, DATABASE_URL: 'postgres://db/x' }).variable).toBe('SIGNING_KEY');
    const config = loadConfig({
      ...vercel,
      REDIS_URL: 'rediss://default:pw@redis.example:6379',
      SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\\nMIG...\\n-----END PRIVATE KEY-----',
    });
    expect(config.storage.kind).toBe('redis');
    expect(config.signingKey).toContain('\n');
    expect(config.trustProxy).toEqual({ kind: 'vercel' });
  });

  it('RFC 7591 §2 / OAuth 2.1 §2.3.1: OAUTH_REDIRECT_URI follows the rule /register applies, kept byte for byte', () => {
    const client = { DATA_DIR: dir, OAUTH_CLIENT_ID: 'guide-client' };
    for (const uri of [
      'http://app.example.test/cb',
      'https://app.example.test/cb#frag',
      'https://user:pw@app.example.test/cb',
      'app.example.test/cb',
      'javascript:alert(1)',
    ]) {
      const error = errorOf({ ...client, OAUTH_REDIRECT_URI: uri });
      expect(error.variable, uri).toBe('OAUTH_REDIRECT_URI');
      expect(error.message).not.toContain('\n');
    }
    expect(
      errorOf({ ...prod, ...client, OAUTH_REDIRECT_URI: 'http://app.example.test/cb' }).message,
    ).toMatch(/^Invalid configuration: OAUTH_REDIRECT_URI must use https/);
    for (const uri of ['https://app.example.test/cb/', 'http://127.0.0.1:8765/callback?x=1']) {
      expect(loadConfig({ ...client, OAUTH_REDIRECT_URI: uri }).staticClient?.redirectUri).toBe(
        uri,
      );
    }
    const id = (value: string) =>
      errorOf({ ...client, OAUTH_CLIENT_ID: value, OAUTH_REDIRECT_URI: 'https://a.example/cb' })
        .variable;
    expect(id('https://app.example/client.json')).toBe('OAUTH_CLIENT_ID');
    expect(id('has space')).toBe('OAUTH_CLIENT_ID');
  });

  it("the guide's Firebase block without FIREBASE_API_KEY stops with one line saying why", () => {
    const error = errorOf({
      DATA_DIR: dir,
      FIREBASE_PROJECT_ID: 'my-project',
      FIREBASE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\n…',
      FIREBASE_CLIENT_EMAIL: 'svc@my-project.iam.gserviceaccount.com',
    });
    expect(error.variable).toBe('FIREBASE_API_KEY');
    expect(error.message).toContain('Firebase web SDK');
    expect(error.message).toContain(
      'FIREBASE_PRIVATE_KEY and FIREBASE_CLIENT_EMAIL are not needed',
    );
    expect(error.message).not.toContain('\n');
  });

  it('JWT_SECRET_KEY and the service-account variables: one start-up line each saying why they are not used', () => {
    expect(guideNotices({})).toEqual([]);
    const [jwt, firebase, ...rest] = guideNotices({
      JWT_SECRET_KEY: 'secret',
      FIREBASE_PRIVATE_KEY: 'k',
      FIREBASE_CLIENT_EMAIL: 'e',
    });
    expect(rest).toEqual([]);
    expect(jwt).toMatch(/^\[auth-server\] JWT_SECRET_KEY is set but not used: .*ES256/);
    expect(firebase).toMatch(
      /^\[auth-server\] FIREBASE_PRIVATE_KEY and FIREBASE_CLIENT_EMAIL are set but not needed: /,
    );
    expect(guideNotices({ FIREBASE_CLIENT_EMAIL: 'e' })[0]).toContain(
      'FIREBASE_CLIENT_EMAIL is set',
    );
  });

  it('TRUST_PROXY: the socket by default, a count of proxies, or their addresses', () => {
    const trust = (value?: string) =>
      loadConfig({ DATA_DIR: dir, ...(value === undefined ? {} : { TRUST_PROXY: value }) })
        .trustProxy;
    expect(trust()).toEqual({ kind: 'socket' });
    expect(trust('false')).toEqual({ kind: 'socket' });
    expect(trust('0')).toEqual({ kind: 'socket' });
    expect(trust('true')).toEqual({ kind: 'hops', hops: 1 });
    expect(trust('1')).toEqual({ kind: 'hops', hops: 1 });
    expect(trust('2')).toEqual({ kind: 'hops', hops: 2 });
    expect(trust('10.0.0.1, fd00::1')).toEqual({
      kind: 'addresses',
      addresses: ['10.0.0.1', 'fd00::1'],
    });
    const bad = errorOf({ DATA_DIR: dir, TRUST_PROXY: '10.0.0.0/8' });
    expect(bad.variable).toBe('TRUST_PROXY');
    expect(bad.message).toContain('"10.0.0.0/8"');
  });

  it('DATABASE_URL wins for tokens; REDIS_URL still carries rate limits', () => {
    const config = loadConfig({
      DATA_DIR: dir,
      DATABASE_URL: 'postgres://u@db/x',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(config.storage).toEqual({
      kind: 'postgres',
      url: 'postgres://u@db/x',
      schema: 'public',
    });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('REDIS_CLUSTER: REDIS_URL lists the seed nodes; off by default; without REDIS_URL, or with a seed that is not redis://, one line names REDIS_URL', () => {
    expect(loadConfig({ DATA_DIR: dir, REDIS_URL: 'redis://127.0.0.1:6379' }).redisCluster).toBe(
      false,
    );
    const cluster = loadConfig({
      DATA_DIR: dir,
      REDIS_CLUSTER: 'true',
      REDIS_URL: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000',
    });
    expect(cluster.redisCluster).toBe(true);
    expect(cluster.storage).toMatchObject({ kind: 'redis' });
    const none = errorOf({ DATA_DIR: dir, REDIS_CLUSTER: 'true' });
    expect(none.variable).toBe('REDIS_URL');
    const bad = errorOf({
      DATA_DIR: dir,
      REDIS_CLUSTER: 'true',
      REDIS_URL: 'redis://10.0.0.1:7000,10.0.0.2:7000',
    });
    expect(bad.variable).toBe('REDIS_URL');
    expect(bad.message).toContain('separated by commas');
  });

  it('reads the guide names: TOKEN_EXPIRY_HOURS, overridden by ACCESS_TOKEN_TTL_SECONDS', () => {
    expect(loadConfig({ DATA_DIR: dir, TOKEN_EXPIRY_HOURS: '24' }).accessTokenTtlSeconds).toBe(
      86_400,
    );
    expect(
      loadConfig({ DATA_DIR: dir, TOKEN_EXPIRY_HOURS: '24', ACCESS_TOKEN_TTL_SECONDS: '600' })
        .accessTokenTtlSeconds,
    ).toBe(600);
  });

  it('token lifecycle: REFRESH_TOKEN_GRACE_SECONDS (0 turns it off) and GRANT_MAX_LIFETIME_SECONDS', () => {
    expect(loadConfig({ DATA_DIR: dir })).toMatchObject({
      refreshTokenGraceSeconds: undefined,
      grantMaxLifetimeSeconds: undefined,
    });
    expect(
      loadConfig({
        DATA_DIR: dir,
        REFRESH_TOKEN_GRACE_SECONDS: '0',
        GRANT_MAX_LIFETIME_SECONDS: '86400',
        DCR_CLIENT_TTL_SECONDS: '0',
        INTROSPECTION_CLIENT_IDS: 'rs-a, rs-b',
      }),
    ).toMatchObject({
      introspectionClientIds: ['rs-a', 'rs-b'],
      refreshTokenGraceSeconds: 0,
      grantMaxLifetimeSeconds: 86_400,
      dcrClientTtlSeconds: 0,
    });
    expect(errorOf({ DATA_DIR: dir, REFRESH_TOKEN_GRACE_SECONDS: '-1' }).message).toBe(
      'Invalid configuration: REFRESH_TOKEN_GRACE_SECONDS must be a whole number of seconds, 0 or more (got "-1")',
    );
    expect(errorOf({ DATA_DIR: dir, GRANT_MAX_LIFETIME_SECONDS: '0' }).variable).toBe(
      'GRANT_MAX_LIFETIME_SECONDS',
    );
  });

  it('ACCESS_TOKEN_CLAIMS: none by default; a comma-separated list of user claims; anything else is one line naming it', () => {
    expect(loadConfig({ DATA_DIR: dir }).accessTokenClaims).toEqual([]);
    expect(
      loadConfig({ DATA_DIR: dir, ACCESS_TOKEN_CLAIMS: ' email, name ,' }).accessTokenClaims,
    ).toEqual(['email', 'name']);
    for (const bad of ['sub', 'email,phone_number', 'iss']) {
      const error = errorOf({ DATA_DIR: dir, ACCESS_TOKEN_CLAIMS: bad });
      expect(error.variable).toBe('ACCESS_TOKEN_CLAIMS');
      expect(error.message).toMatch(
        /not a user claim \(known: name, given_name, .*email_verified\)$/,
      );
    }
  });

  it('MCP_RESOURCE_URL takes a comma-separated list', () => {
    expect(
      loadConfig({
        DATA_DIR: dir,
        MCP_RESOURCE_URL: 'https://a.example/mcp, https://b.example/mcp',
      }).resources,
    ).toEqual(['https://a.example/mcp', 'https://b.example/mcp']);
  });

  it('the Firebase emulator and insecure CIMD fetching are refused in production', () => {
    const firebase = { FIREBASE_PROJECT_ID: 'my-app', FIREBASE_API_KEY: 'k' };
    expect(loadConfig({ DATA_DIR: dir, ...firebase }).firebase?.authDomain).toBe(
      'my-app.firebaseapp.com',
    );
    expect(
      errorOf({ ...prod, ...firebase, FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' }).variable,
    ).toBe('FIREBASE_AUTH_EMULATOR_HOST');
    expect(errorOf({ ...prod, CIMD_ALLOW_INSECURE: 'true' }).variable).toBe('CIMD_ALLOW_INSECURE');
  });

  it('FIREBASE_JWKS_URL replaces Google key URL: https, or http on loopback outside production', () => {
    const firebase = { FIREBASE_PROJECT_ID: 'my-app', FIREBASE_API_KEY: 'k' };
    expect(loadConfig({ DATA_DIR: dir, ...firebase }).firebase?.jwksUrl).toBeUndefined();
    expect(
      loadConfig({ DATA_DIR: dir, ...firebase, FIREBASE_JWKS_URL: 'http://127.0.0.1:9/keys' })
        .firebase?.jwksUrl,
    ).toBe('http://127.0.0.1:9/keys');
    expect(
      loadConfig({ ...prod, ...firebase, FIREBASE_JWKS_URL: 'https://keys.example/jwks' }).firebase
        ?.jwksUrl,
    ).toBe('https://keys.example/jwks');
    for (const url of ['http://127.0.0.1:9/keys', 'http://keys.example/jwks', 'not a url']) {
      expect(errorOf({ ...prod, ...firebase, FIREBASE_JWKS_URL: url }).variable).toBe(
        'FIREBASE_JWKS_URL',
      );
    }
    expect(
      errorOf({ DATA_DIR: dir, ...firebase, FIREBASE_JWKS_URL: 'http://keys.example/jwks' })
        .variable,
    ).toBe('FIREBASE_JWKS_URL');
  });
});

describe('configuration: DPoP nonces', () => {
  it('DPOP_NONCE_SECRET turns nonces on; shorter than 32 characters is refused naming it', () => {
    expect(loadConfig({ DATA_DIR: dir }).dpopNonceSecret).toBeUndefined();
    expect(loadConfig({ DATA_DIR: dir, DPOP_NONCE_SECRET: SECRET }).dpopNonceSecret).toBe(SECRET);
    expect(errorOf({ DATA_DIR: dir, DPOP_NONCE_SECRET: 'short' }).variable).toBe(
      'DPOP_NONCE_SECRET',
    );
  });
});
