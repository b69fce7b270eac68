import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

/** The one-line problems loadConfig raises for this environment. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const TOKENS = JSON.stringify({ 'a-long-random-token-0123': { userId: '1', scopes: ['read'] } });

describe('configuration: the resource URL follows the port', () => {
  it('PORT alone moves the default resource URL with it', () => {
    expect(loadConfig({ PORT: '9100' }).resource.href).toBe('http://localhost:9100/mcp');
    expect(loadConfig({}).resource.href).toBe('http://localhost:8000/mcp');
  });

  it('a loopback MCP_RESOURCE_URL on another port than PORT is refused with one line naming the fix', () => {
    const lines = problems({ PORT: '9100', MCP_RESOURCE_URL: 'http://localhost:8000/mcp' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^MCP_RESOURCE_URL: http:\/\/localhost:8000\/mcp is not where this server listens \(PORT=9100\)/,
    );
    expect(lines[0]).toContain('MCP_RESOURCE_URL=http://localhost:9100/mcp');
  });

  it('a public MCP_RESOURCE_URL may name another port (a proxy in front)', () => {
    const config = loadConfig({
      PORT: '9100',
      HOST: '0.0.0.0',
      MCP_RESOURCE_URL: 'https://mcp.example.com/mcp',
      ISSUER_URL: 'https://auth.example.com',
    });
    expect(config.resource.href).toBe('https://mcp.example.com/mcp');
  });
});

describe('configuration: HTTPS required in production', () => {
  it('a non-loopback HOST refuses http:// resource and issuer URLs with one line', () => {
    const lines = problems({
      HOST: '0.0.0.0',
      MCP_RESOURCE_URL: 'http://mcp.example.com/mcp',
      ISSUER_URL: 'http://auth.example.com',
    });
    expect(lines).toEqual([
      'MCP_RESOURCE_URL and ISSUER_URL: HTTPS is required in production (HOST=0.0.0.0): use https:// URLs, or set TLS_TERMINATED_AT_PROXY=1 if a proxy in front of this server ends TLS',
    ]);
  });

  it('NODE_ENV=production does too, on loopback', () => {
    const lines = problems({ NODE_ENV: 'production', AUTH_MODE: 'static', STATIC_TOKENS: TOKENS });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^MCP_RESOURCE_URL: HTTPS is required in production \(NODE_ENV=production\)/,
    );
  });

  it('TLS_TERMINATED_AT_PROXY=1 says TLS ends in front, and https:// URLs need nothing', () => {
    expect(
      problems({
        HOST: '0.0.0.0',
        MCP_RESOURCE_URL: 'http://mcp.internal/mcp',
        ISSUER_URL: 'http://auth.internal',
        TLS_TERMINATED_AT_PROXY: '1',
      }),
    ).toEqual([]);
    expect(
      problems({
        HOST: '0.0.0.0',
        MCP_RESOURCE_URL: 'https://mcp.example.com/mcp',
        ISSUER_URL: 'https://auth.example.com',
      }),
    ).toEqual([]);
  });

  it('development on loopback keeps http://', () => {
    expect(problems({})).toEqual([]);
  });
});

describe("configuration: the guide's static token table", () => {
  it('accepts the guide\'s "user_id" as "userId"', () => {
    const table = {
      'guide-shaped-token-0123456789': { user_id: '123', scopes: ['read', 'write'] },
    };
    const config = loadConfig({ AUTH_MODE: 'static', STATIC_TOKENS: JSON.stringify(table) });
    expect(config.staticTokens['guide-shaped-token-0123456789']).toEqual({
      userId: '123',
      scopes: ['read', 'write'],
    });
  });

  it('the guide\'s own "user123" is refused naming the 16-character rule, never the token', () => {
    const lines = problems({
      AUTH_MODE: 'static',
      STATIC_TOKENS: JSON.stringify({ user123: { user_id: '123', scopes: ['read', 'write'] } }),
    });
    expect(lines).toEqual([
      'STATIC_TOKENS: the token of entry 1 is 7 characters; every token must be at least 16 characters (a random string, e.g. `openssl rand -hex 24`)',
    ]);
    expect(lines.join('\n')).not.toContain('user123');
  });

  it('an entry without a user names the entry, not the token', () => {
    const lines = problems({
      AUTH_MODE: 'static',
      STATIC_TOKENS: JSON.stringify({ 'secret-token-0123456789': { scopes: [] } }),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^STATIC_TOKENS: entry 1: needs "userId"/);
    expect(lines[0]).not.toContain('secret-token');
  });
});

describe('configuration: the revocation feed', () => {
  const feed = {
    REVOCATION_FEED_URL: 'http://localhost:3000/revocations',
    INTROSPECTION_CLIENT_ID: 'mcp-server',
    INTROSPECTION_CLIENT_SECRET: 'a-secret-of-this-resource-server',
  };

  it('is on with the feed URL and this server’s client credentials, polled every 2 s by default', () => {
    expect(loadConfig(feed).revocationFeed).toEqual({
      endpoint: 'http://localhost:3000/revocations',
      clientId: 'mcp-server',
      clientSecret: 'a-secret-of-this-resource-server',
      intervalSeconds: 2,
    });
    expect(
      loadConfig({
        ...feed,
        REVOCATION_FEED_INTERVAL_SECONDS: '5',
        REVOCATION_FEED_MAX_STALENESS_SECONDS: '60',
      }).revocationFeed,
    ).toMatchObject({ intervalSeconds: 5, maxStalenessSeconds: 60 });
    expect(loadConfig({}).revocationFeed).toBeUndefined();
    // Only JWTs from an authorization server are checked against it.
    expect(loadConfig({ ...feed, AUTH_MODE: 'static', STATIC_TOKENS: TOKENS }).revocationFeed).toBe(
      undefined,
    );
  });

  it('without the client credentials it is refused with one line, never the secret', () => {
    const lines = problems({ REVOCATION_FEED_URL: feed.REVOCATION_FEED_URL });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET: required/);
  });

  it('in production its URL must be https (the client secret goes there)', () => {
    const lines = problems({
      ...feed,
      HOST: '0.0.0.0',
      MCP_RESOURCE_URL: 'https://mcp.example.com/mcp',
      ISSUER_URL: 'https://auth.example.com',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^REVOCATION_FEED_URL: HTTPS is required in production/);
    expect(lines[0]).not.toContain(feed.INTROSPECTION_CLIENT_SECRET);
  });
});

describe('configuration: DPoP (MCP_DPOP)', () => {
  it('off by default; optional or required in oauth mode only; anything else names the variable', () => {
    expect(loadConfig({}).dpop).toBe('off');
    expect(loadConfig({ MCP_DPOP: 'optional' }).dpop).toBe('optional');
    expect(loadConfig({ MCP_DPOP: 'required' }).dpop).toBe('required');
    expect(
      loadConfig({ AUTH_MODE: 'static', STATIC_TOKENS: TOKENS, MCP_DPOP: 'required' }).dpop,
    ).toBe('off');
    const lines = problems({ MCP_DPOP: 'yes' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^MCP_DPOP/);
  });
});
