import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  authenticate,
  type BearerAuthOptions,
  cachedVerifier,
  jwtVerifier,
  staticTokenVerifier,
  VerifierUnavailableError,
} from '../src/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import { createFetchServer } from './support/fetch-server.js';
import { callTool, parseChallenge, TOOL_SCOPES, text } from './support/server.js';

const RESOURCE = 'https://mcp.example.test/mcp';
let issuer: TestIssuer;
let handler: (request: Request) => Promise<Response>;

/** The SDK client, its fetch routed into the handler: the whole fetch-style path, no sockets. */
async function connect(token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(RESOURCE), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
    fetch: (url, init) => handler(new Request(url, init)),
  });
  const client = new Client({ name: 'fetch-client', version: '1' });
  await client.connect(transport);
  return client;
}

const post = (body: unknown, headers: Record<string, string> = {}) =>
  handler(
    new Request(RESOURCE, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    }),
  );

beforeAll(async () => {
  issuer = await createTestIssuer();
  const auth: BearerAuthOptions = {
    verifier: jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, jwksUri: issuer.jwksUri }),
    resource: RESOURCE,
    toolScopes: TOOL_SCOPES,
    originCheck: { allowedOrigins: ['https://app.example'] },
  };
  handler = createFetchServer(auth, [issuer.issuer]);
});
afterAll(async () => {
  await issuer?.close();
});

describe('authenticate(): the fetch-style path', () => {
  it('RFC 9728 §3.1: metadata at the path-inserted URL of an https resource', async () => {
    const response = await handler(
      new Request('https://mcp.example.test/.well-known/oauth-protected-resource/mcp'),
    );
    expect(await response.json()).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
    });
  });

  it('RFC 6750 §3.1: 401 without error for no token, with resource_metadata', async () => {
    const response = await post(callTool('whoami'));
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers.get('www-authenticate')).params).toEqual({
      resource_metadata: 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp',
    });
  });

  it('the SDK client with a valid token; step-up 403 then success with a broader token', async () => {
    const token = await issuer.mintToken({
      sub: 'dana',
      aud: RESOURCE,
      client_id: 'web',
      scope: 'read',
    });
    const client = await connect(token);
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who).toMatchObject({ userId: 'dana', clientId: 'web', scopes: ['read'] });
      await expect(
        client.callTool({ name: 'secure_operation', arguments: {} }),
      ).rejects.toMatchObject({ code: 403 });
    } finally {
      await client.close();
    }
    const denied = await post(callTool('secure_operation'), { Authorization: `Bearer ${token}` });
    expect(parseChallenge(denied.headers.get('www-authenticate')).params).toMatchObject({
      error: 'insufficient_scope',
      scope: 'read admin',
    });
    const broad = await issuer.mintToken({
      sub: 'dana',
      aud: RESOURCE,
      client_id: 'web',
      scope: 'read admin',
    });
    const admin = await connect(broad);
    try {
      expect(text(await admin.callTool({ name: 'secure_operation', arguments: {} }))).toContain(
        'completed',
      );
    } finally {
      await admin.close();
    }
  });

  it('Fetch §3.2: a preflight is answered, challenges expose WWW-Authenticate', async () => {
    const preflight = await handler(
      new Request(RESOURCE, { method: 'OPTIONS', headers: { Origin: 'https://app.example' } }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const denied = await post(callTool('whoami'), { Origin: 'https://app.example' });
    expect(denied.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
  });

  it('RFC 6750 §2.3 is off (MCP): a token in the URI query is refused with 400 invalid_request', async () => {
    const token = await issuer.mintToken({
      sub: 'dana',
      aud: RESOURCE,
      client_id: 'web',
      scope: 'read',
    });
    for (const query of [`?access_token=${token}`, `?x=1&access_token=${token}`]) {
      const response = await handler(
        new Request(`${RESOURCE}${query}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(callTool('whoami')),
        }),
      );
      expect(response.status).toBe(400);
      expect(parseChallenge(response.headers.get('www-authenticate')).params.error).toBe(
        'invalid_request',
      );
    }
  });

  it('an allowlist of origins: only those get Access-Control-Allow-Origin', async () => {
    const local = createFetchServer(
      {
        verifier: staticTokenVerifier({ tok: { userId: 'u', scopes: [] } }),
        resource: RESOURCE,
        cors: { allowedOrigins: ['https://good.example'] },
      },
      [issuer.issuer],
    );
    const ask = (origin: string) =>
      local(new Request(RESOURCE, { method: 'OPTIONS', headers: { Origin: origin } }));
    expect((await ask('https://good.example')).headers.get('access-control-allow-origin')).toBe(
      'https://good.example',
    );
    // An origin outside the list is refused outright by the DNS-rebinding check.
    const evil = await ask('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const open = createFetchServer(
      {
        verifier: staticTokenVerifier({ tok: { userId: 'u', scopes: [] } }),
        resource: RESOURCE,
        cors: { allowedOrigins: ['https://good.example'] },
        originCheck: false,
      },
      [issuer.issuer],
    );
    const unchecked = await open(
      new Request(RESOURCE, { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } }),
    );
    expect(unchecked.headers.get('access-control-allow-origin')).toBeNull();
    expect(unchecked.headers.get('vary')).toBe('Origin');
  });

  it('an unavailable verifier is 503 with Retry-After, a verifier bug 500 without internals', async () => {
    const unavailable = createFetchServer(
      {
        verifier: async () => {
          throw new VerifierUnavailableError('jwks down');
        },
        resource: RESOURCE,
      },
      [issuer.issuer],
    );
    const down = await unavailable(
      new Request(RESOURCE, {
        method: 'POST',
        headers: { Authorization: 'Bearer abc' },
        body: '{}',
      }),
    );
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    const buggy = createFetchServer(
      {
        verifier: async () => {
          throw new Error('secret internals');
        },
        resource: RESOURCE,
      },
      [issuer.issuer],
    );
    const crashed = await buggy(
      new Request(RESOURCE, {
        method: 'POST',
        headers: { Authorization: 'Bearer abc' },
        body: '{}',
      }),
    );
    expect(crashed.status).toBe(500);
    expect(await crashed.text()).not.toContain('secret internals');
  });

  it('a verifier reporting another resource is refused (RFC 8707)', async () => {
    const local = createFetchServer(
      {
        verifier: async (token) => ({
          token,
          clientId: 'c',
          scopes: [],
          resource: new URL('https://other.test/mcp'),
        }),
        resource: RESOURCE,
      },
      [issuer.issuer],
    );
    const response = await local(
      new Request(RESOURCE, {
        method: 'POST',
        headers: { Authorization: 'Bearer abc' },
        body: '{}',
      }),
    );
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers.get('www-authenticate')).params.error).toBe(
      'invalid_token',
    );
  });

  it('tokens for this and for another resource, alternating from the cache: each answered for its own', async () => {
    // Each verification has its own URL object; the guard remembers its comparison per object.
    const verify = vi.fn(async (token: string) => ({
      token,
      clientId: 'c',
      scopes: [],
      resource: new URL(token.startsWith('here') ? RESOURCE : 'https://other.test/mcp'),
    }));
    const options = { verifier: cachedVerifier(verify), resource: RESOURCE };
    const outcome = async (token: string) => {
      const result = await authenticate(
        new Request(RESOURCE, { method: 'POST', headers: { Authorization: `Bearer ${token}` } }),
        options,
      );
      return 'authInfo' in result ? result.authInfo.token : result.response.status;
    };
    for (let round = 0; round < 3; round++) {
      expect(await outcome('here-1')).toBe('here-1');
      expect(await outcome('elsewhere-1')).toBe(401);
      expect(await outcome('here-2')).toBe('here-2');
      expect(await outcome('elsewhere-2')).toBe(401);
    }
    // From the second round on, from the cache: the comparison, not the verifier, refused.
    expect(verify).toHaveBeenCalledTimes(4);
  });
});

describe('authenticate(): challengeScopes', () => {
  const options = (extra: Partial<BearerAuthOptions> = {}): BearerAuthOptions => ({
    verifier: staticTokenVerifier({
      'a-static-token-of-some-length': { userId: 'u', scopes: ['read'] },
    }),
    resource: RESOURCE,
    toolScopes: TOOL_SCOPES,
    ...extra,
  });
  const request = (body: unknown, token?: string) =>
    new Request(RESOURCE, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });

  it('MCP scope selection: a 401 for a request needing no scope suggests the configured scopes', async () => {
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const result = await authenticate(request(list), options({ challengeScopes: ['read'] }));
    if (!('response' in result)) throw new Error('expected a challenge');
    expect(result.response.status).toBe(401);
    const challenge = result.response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('scope="read"');
    expect(challenge).not.toContain('error=');

    const bad = await authenticate(
      request(list, 'not-a-known-token-at-all'),
      options({ challengeScopes: ['read'] }),
    );
    if (!('response' in bad)) throw new Error('expected a challenge');
    expect(bad.response.headers.get('www-authenticate')).toContain('scope="read"');
  });

  it('RFC 6750 §3: without challengeScopes a 401 for such a request carries no scope', async () => {
    const result = await authenticate(
      request({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      options(),
    );
    if (!('response' in result)) throw new Error('expected a challenge');
    expect(result.response.headers.get('www-authenticate')).not.toContain('scope=');
  });

  it('a request naming a tool suggests that tool scopes, not challengeScopes', async () => {
    const result = await authenticate(
      request(callTool('secure_operation')),
      options({ challengeScopes: ['read'] }),
    );
    if (!('response' in result)) throw new Error('expected a challenge');
    expect(result.response.headers.get('www-authenticate')).toContain('scope="admin"');
  });
});
