import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtVerifier } from '../src/index.js';
import { connectTestClientV2, createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import { callTool, parseChallenge, post, TOOL_SCOPES, text } from './support/server.js';
import { createV2Server, startV2Server, type V2TestServer } from './support/v2-server.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(async () => {
  await issuer?.close();
});

/** The SDK 2.x client (`@modelcontextprotocol/client`) over real HTTP, its token from an AuthProvider. */
async function connectV2(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(
    new URL(url),
    token ? { authProvider: { token: async () => token } } : {},
  );
  const client = new Client({ name: 'v2-test-client', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

for (const style of ['fetch', 'node'] as const) {
  describe(`SDK 2.x: createMcpHandler behind ${style === 'fetch' ? 'authenticate()' : 'bearerAuth (./node)'}, the v2 client over HTTP`, () => {
    let server: V2TestServer;
    const mint = (scope: string) =>
      issuer.mintToken({ sub: 'erin', client_id: 'v2-app', aud: server.url, scope });

    beforeAll(async () => {
      server = await startV2Server({
        style,
        verifier: (resource) =>
          jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
        authorizationServers: [issuer.issuer],
        toolScopes: TOOL_SCOPES,
        challengeScopes: ['read'],
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('RFC 9728 §3.1 and RFC 6750 §3.1: metadata served, 401 without a token names it', async () => {
      const metadata = await fetch(`${server.origin}/.well-known/oauth-protected-resource/mcp`);
      expect(await metadata.json()).toMatchObject({
        resource: server.url,
        authorization_servers: [issuer.issuer],
      });
      const denied = await post(server.url, callTool('whoami'));
      expect(denied.status).toBe(401);
      expect(parseChallenge(denied.headers.get('www-authenticate')).params).toEqual({
        scope: 'read',
        resource_metadata: `${server.origin}/.well-known/oauth-protected-resource/mcp`,
      });
      await expect(connectV2(server.url)).rejects.toThrow(/401|Unauthorized/i);
    });

    it('the tool auth context comes from ctx.http.authInfo', async () => {
      const client = await connectV2(server.url, await mint('read read_data'));
      try {
        const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
        expect(who).toMatchObject({
          clientId: 'v2-app',
          userId: 'erin',
          scopes: ['read', 'read_data'],
          resource: server.url,
          sub: 'erin',
        });
        expect(text(await client.callTool({ name: 'read_data', arguments: {} }))).toBe(
          'data for erin',
        );
      } finally {
        await client.close();
      }
    });

    it('per-tool scopes: hidden from tools/list, 403 step-up with every scope, then success', async () => {
      const narrow = await mint('read');
      const client = await connectV2(server.url, narrow);
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        expect(names).not.toContain('secure_operation');
        expect(names).toContain('whoami');
        await expect(client.callTool({ name: 'secure_operation', arguments: {} })).rejects.toThrow(
          'Insufficient scope: required "read admin"',
        );
        // requireScopes inside the tool, through ctx: an isError result.
        const refused = await client.callTool({ name: 'read_data', arguments: {} });
        expect(refused.isError).toBe(true);
        expect(text(refused)).toBe('Insufficient permissions: read_data scope required');
      } finally {
        await client.close();
      }
      const denied = await post(server.url, callTool('secure_operation'), {
        Authorization: `Bearer ${narrow}`,
      });
      expect(denied.status).toBe(403);
      expect(parseChallenge(denied.headers.get('www-authenticate')).params).toMatchObject({
        error: 'insufficient_scope',
        scope: 'read admin',
      });

      const broad = await connectV2(server.url, await mint('read admin'));
      try {
        expect(text(await broad.callTool({ name: 'secure_operation', arguments: {} }))).toBe(
          'Secure operation completed for user erin',
        );
      } finally {
        await broad.close();
      }
    });
  });
}

describe('SDK 2.x: the checks inside the server, without the HTTP toolScopes', () => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server({
      style: 'fetch',
      verifier: (resource) =>
        jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
      authorizationServers: [issuer.issuer],
      serverToolScopes: TOOL_SCOPES,
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  const mint = (scope: string) =>
    issuer.mintToken({ sub: 'erin', client_id: 'v2-app', aud: server.url, scope });

  it('protectTools (./sdk-v2) answers an uncovered tools/call with an isError result', async () => {
    const client = await connectV2(server.url, await mint('read'));
    try {
      const result = await client.callTool({ name: 'secure_operation', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe('Insufficient permissions: admin scope required');
    } finally {
      await client.close();
    }
  });

  it("scopeChallenge (./sdk-v2): SDK 2.x's own 403 lists the token's scopes and the tool's", async () => {
    const token = await mint('read');
    const client = await connectV2(server.url, token);
    try {
      // The v2 client reads the 403 challenge's scope: what the token had, plus admin.
      await expect(
        client.callTool({ name: 'challenged_operation', arguments: {} }),
      ).rejects.toThrow('Insufficient scope: required "read admin"');
    } finally {
      await client.close();
    }
    const admin = await connectV2(server.url, await mint('read admin'));
    try {
      expect(text(await admin.callTool({ name: 'challenged_operation', arguments: {} }))).toBe(
        'challenged operation completed',
      );
    } finally {
      await admin.close();
    }
  });
});

describe('SDK 2.x in memory: connectTestClientV2 carries auth through the SDK transport', () => {
  it('tools see the test caller as ctx.http.authInfo; protectTools hides and refuses', async () => {
    const client = await connectTestClientV2(createV2Server(TOOL_SCOPES), {
      clientId: 'test_client',
      userId: 'test_user',
      scopes: ['read_data'],
      claims: { sub: 'test_user' },
    });
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who).toMatchObject({ clientId: 'test_client', userId: 'test_user', sub: 'test_user' });
      expect(text(await client.callTool({ name: 'read_data', arguments: {} }))).toBe(
        'data for test_user',
      );
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).not.toContain('secure_operation');
      const refused = await client.callTool({ name: 'secure_operation', arguments: {} });
      expect(refused.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('without auth, authContext(ctx) answers "Authentication required"', async () => {
    const client = await connectTestClientV2(createV2Server(undefined));
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe('Authentication required');
    } finally {
      await client.close();
    }
  });
});
