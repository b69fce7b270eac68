import { createTestIssuer, type TestIssuer } from '@portcullis/mcp-context/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connect, type RunningApp, rpc, startApp, textOf } from './support.js';

let issuer: TestIssuer;
let app: RunningApp;

const mint = (scope: string, claims: Record<string, unknown> = {}, expiresIn = 600) =>
  issuer.mintToken(
    {
      sub: 'user-123',
      client_id: 'client-abc',
      aud: app.url,
      scope,
      email: 'ada@example.com',
      ...claims,
    },
    { expiresIn },
  );

beforeAll(async () => {
  issuer = await createTestIssuer();
  app = await startApp({
    AUTH_MODE: 'oauth',
    // No JWKS_URI: it is discovered from the issuer's RFC 8414 metadata.
    ISSUER_URL: issuer.issuer,
    RATE_LIMIT_PER_MINUTE: '3',
  });
});

afterAll(async () => {
  await app?.close();
  await issuer?.close();
});

describe('AUTH_MODE=oauth: discovery', () => {
  it('RFC 9728 §3: protected resource metadata at the path-inserted and root well-known URLs', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(`${app.origin}${path}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.resource).toBe(app.url);
      expect(body.authorization_servers).toEqual([issuer.issuer]);
      // The OpenID Connect scopes user_profile reads email and name with, beside the tools' own.
      expect(body.scopes_supported).toEqual([
        'read',
        'write',
        'admin',
        'openid',
        'profile',
        'email',
      ]);
      expect(body.bearer_methods_supported).toEqual(['header']);
    }
  });

  it('RFC 6750 §3.1: no token → 401 with resource_metadata and scope, without an error attribute', async () => {
    const res = await rpc(app.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(
      `resource_metadata="${app.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    // What a client asks for first (the MCP SDK takes the challenge's scope over
    // scopes_supported): read, and the identity scopes user_profile needs for email and name.
    expect(challenge).toContain('scope="read openid profile email"');
    expect(challenge).not.toContain('error=');
  });

  it('RFC 6750 §3.1 step-up: a 403 names the token scopes plus the tool ones; the identity scopes only if the token has them', async () => {
    const body = JSON.stringify(callTool('secure_operation'));
    const signedIn = await rpc(app.url, body, await mint('read openid profile email'));
    expect(signedIn.status).toBe(403);
    const challenge = signedIn.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    // Re-authorizing with exactly this keeps the email and name user_profile shows.
    expect(challenge).toContain('scope="read openid profile email admin"');
    // A token without them is not told to ask for them: no tool requires them.
    const readOnly = await rpc(app.url, body, await mint('read'));
    expect(readOnly.headers.get('www-authenticate')).toContain('scope="read admin"');
    // And a tool that needs only read lets the identity-scoped token through.
    const profile = await rpc(
      app.url,
      JSON.stringify(callTool('user_profile')),
      await mint('read openid profile email'),
    );
    expect(profile.status).toBe(200);
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${app.origin}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok', authMode: 'oauth' });
  });

  it('answers a CORS preflight for browser clients', async () => {
    const res = await fetch(app.url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:6274',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers':
          'authorization, mcp-protocol-version, mcp-method, mcp-name',
      },
    });
    expect(res.status).toBe(204);
    // Mcp-Method and Mcp-Name: what a browser client sends with every 2026-07-28 request.
    for (const header of ['Authorization', 'Mcp-Protocol-Version', 'Mcp-Method', 'Mcp-Name'])
      expect(res.headers.get('access-control-allow-headers')).toContain(header);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
  });
});

describe('AUTH_MODE=oauth: the body is read once, for the scopes and the SDK alike', () => {
  it('JSON-RPC §5.1: a body that is not JSON is a parse error (400), with or without a token, never a 5xx', async () => {
    const token = await mint('read');
    for (const body of ['{not json', '', '{"jsonrpc":"2.0","id":1,"method":"tools/call"']) {
      for (const bearer of [token, undefined]) {
        const res = await rpc(app.url, body, bearer);
        expect(res.status, body).toBe(400);
        expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
      }
    }
  });

  it('JSON that is not a tools/call (a number, null, a malformed message) gets a 4xx, never a 5xx', async () => {
    const token = await mint('read');
    for (const body of [
      '42',
      'null',
      '[]',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}',
    ]) {
      const res = await rpc(app.url, body, token, {
        'Mcp-Protocol-Version': '2026-07-28',
      });
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
    }
  });

  it('the scopes of one parsed body: secure_operation needs admin, the same body with admin passes', async () => {
    const body = JSON.stringify(callTool('secure_operation'));
    const refused = await rpc(app.url, body, await mint('read'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="read admin"');
    const allowed = await rpc(app.url, body, await mint('read admin'));
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('completed');
  });
});

describe('AUTH_MODE=oauth: the guide tools with the MCP SDK client', () => {
  it('lists every tool and runs each one a read+write token may use', async () => {
    const token = await mint('read write');
    const client = await connect(app.url, token);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'authenticated_tool',
        'protected_tool',
        'public_tool',
        'rate_limited_tool',
        'secure_operation',
        'user_profile',
      ]);
      expect(textOf(await client.callTool({ name: 'public_tool', arguments: {} }))).toBe(
        'This is accessible to everyone',
      );
      const authed = JSON.parse(
        textOf(await client.callTool({ name: 'authenticated_tool', arguments: { param: 'x' } })),
      );
      expect(authed).toEqual({
        result: 'Data for user user-123: x',
        user_id: 'user-123',
        client_id: 'client-abc',
        scopes: ['read', 'write'],
      });
      expect(
        JSON.parse(textOf(await client.callTool({ name: 'protected_tool', arguments: {} }))),
      ).toEqual({
        message: 'Hello user user-123',
      });
      const profile = JSON.parse(
        textOf(await client.callTool({ name: 'user_profile', arguments: {} })),
      );
      expect(profile.user).toEqual({ id: 'user-123', email: 'ada@example.com', name: null });
      expect(profile.permissions).toEqual(['read', 'write']);
    } finally {
      await client.close();
    }
  });

  it('RFC 6750 §3.1: a tool needing a scope the token lacks gets 403 insufficient_scope before it runs', async () => {
    const token = await mint('write');
    for (const [tool, scope] of [
      ['authenticated_tool', 'read'],
      ['user_profile', 'read'],
      ['secure_operation', 'admin'],
    ] as const) {
      const res = await rpc(
        app.url,
        callTool(tool, tool === 'authenticated_tool' ? { param: 'x' } : {}),
        token,
      );
      expect(res.status).toBe(403);
      const challenge = res.headers.get('www-authenticate') ?? '';
      expect(challenge).toContain('error="insufficient_scope"');
      // The token's own scope and the tool's, so the stepped-up token keeps what it had.
      expect(challenge).toContain(`scope="write ${scope}"`);
      expect(challenge).toContain('resource_metadata=');
    }
  });

  it('MCP step-up: read-only gets 403 on secure_operation, a token with admin succeeds', async () => {
    const readOnly = await mint('read');
    const client = await connect(app.url, readOnly);
    await expect(
      client.callTool({ name: 'secure_operation', arguments: {} }),
    ).rejects.toMatchObject({
      code: 403,
      message: expect.stringContaining('insufficient_scope'),
    });
    await client.close();

    const admin = await connect(app.url, await mint('read admin'));
    const result = await admin.callTool({ name: 'secure_operation', arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(textOf(result))).toEqual({
      message: 'Secure operation completed for user user-123',
    });
    await admin.close();
  });

  it('RFC 6750 §3.1: an expired token gets 401 invalid_token', async () => {
    const res = await rpc(app.url, callTool('protected_tool'), await mint('read', {}, -120));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('RFC 8707: a token issued for another resource gets 401 invalid_token', async () => {
    const other = await mint('read', { aud: 'http://127.0.0.1:1/other-mcp' });
    const res = await rpc(app.url, callTool('protected_tool'), other);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('RFC 9068 §4: a token from another issuer or unsigned is refused', async () => {
    const foreign = await issuer.mintToken(
      { sub: 'u', client_id: 'c', aud: app.url, scope: 'read', iss: 'http://127.0.0.1:1' },
      { expiresIn: 600 },
    );
    const unsigned = await issuer.mintToken(
      { sub: 'u', client_id: 'c', aud: app.url, scope: 'read' },
      { alg: 'none' },
    );
    for (const token of [foreign, unsigned, 'not-a-jwt']) {
      const res = await rpc(app.url, callTool('protected_tool'), token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('RFC 9068 §4 (the strict profile): typ other than at+jwt, no sub, no client_id or a future iat is refused', async () => {
    const base = { aud: app.url, scope: 'read', sub: 'u', client_id: 'c' };
    const { sub: _sub, ...noSub } = base;
    const { client_id: _client, ...noClient } = base;
    const now = Math.floor(Date.now() / 1000);
    const refused = [
      await issuer.mintToken(base, { expiresIn: 600, header: { typ: 'JWT' } }),
      await issuer.mintToken(noSub, { expiresIn: 600 }),
      await issuer.mintToken(noClient, { expiresIn: 600 }),
      await issuer.mintToken({ ...base, iat: now + 3600 }, { expiresIn: 7200 }),
    ];
    for (const token of refused) {
      const res = await rpc(app.url, callTool('protected_tool'), token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
    const accepted = await rpc(
      app.url,
      callTool('protected_tool'),
      await issuer.mintToken(base, { expiresIn: 600 }),
    );
    expect(accepted.status).toBe(200);
  });

  it('rate_limited_tool: the per-user limit answers with the guide message and a retry time', async () => {
    const client = await connect(app.url, await mint('read', { sub: 'rate-user' }));
    try {
      for (let i = 0; i < 3; i++) {
        const ok = await client.callTool({ name: 'rate_limited_tool', arguments: {} });
        expect(ok.isError).toBeFalsy();
      }
      const limited = await client.callTool({ name: 'rate_limited_tool', arguments: {} });
      expect(limited.isError).toBe(true);
      expect(textOf(limited)).toMatch(/^Rate limit exceeded\. Please try again later\..*\d+/);
      // Another user has a budget of their own.
      const other = await connect(app.url, await mint('read', { sub: 'someone-else' }));
      expect(
        (await other.callTool({ name: 'rate_limited_tool', arguments: {} })).isError,
      ).toBeFalsy();
      await other.close();
    } finally {
      await client.close();
    }
  });

  it('a body that is not JSON gets 400, never 500', async () => {
    const res = await rpc(app.url, '{"jsonrpc": ', await mint('read'));
    expect(res.status).toBe(400);
  });

  it('never writes a token to its logs', async () => {
    const token = await mint('read');
    await rpc(app.url, callTool('protected_tool'), token);
    await rpc(app.url, callTool('protected_tool'), `${token}x`);
    expect(app.logs.join('\n')).not.toContain(token.split('.')[2]);
  });
});
