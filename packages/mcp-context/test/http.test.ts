import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { exportSPKI, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jwtVerifier } from '../src/index.js';
import { bearerAuth, type NodeRequest } from '../src/node/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import {
  callTool,
  connectHttpClient,
  parseChallenge,
  post,
  startServer,
  type TestServer,
  TOOL_SCOPES,
  text,
} from './support/server.js';

let issuer: TestIssuer;
let server: TestServer;

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

function mint(claims: Record<string, unknown> = {}, options = {}) {
  return issuer.mintToken(
    { sub: 'alice', client_id: 'app-1', aud: server.resource, scope: 'read read_data', ...claims },
    options,
  );
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  issuer = await createTestIssuer();
  server = await startServer({
    verifier: (resource) =>
      jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
    toolScopes: TOOL_SCOPES,
    // A browser client on another site (the CORS tests): allowed past the DNS-rebinding check.
    originCheck: { allowedOrigins: ['https://app.example'] },
    authorizationServers: [issuer.issuer],
  });
});

afterAll(async () => {
  await server?.close();
  await issuer?.close();
});

describe('RFC 9728: protected resource metadata', () => {
  it('RFC 9728 §3.1: served at the path-inserted URL and at the root, resource exactly the MCP URL', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const response = await fetch(`${server.origin}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource: server.resource,
        authorization_servers: [issuer.issuer],
        scopes_supported: ['read', 'read_data', 'write', 'admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'Portcullis test server',
      });
    }
  });

  it('RFC 9728 §3: other paths and methods are not answered as metadata', async () => {
    expect(
      (await fetch(`${server.origin}/.well-known/oauth-protected-resource/other`)).status,
    ).toBe(404);
    const wrongMethod = await fetch(`${server.origin}/.well-known/oauth-protected-resource/mcp`, {
      method: 'POST',
    });
    expect(wrongMethod.status).toBe(405);
  });
});

describe('RFC 6750 §3: challenges over HTTP', () => {
  it('RFC 6750 §3.1: no token → 401 with resource_metadata and no error attribute', async () => {
    const response = await post(server.url, initialize);
    expect(response.status).toBe(401);
    const { scheme, params } = parseChallenge(response.headers.get('www-authenticate'));
    expect(scheme).toBe('Bearer');
    expect(params.resource_metadata).toBe(
      `${server.origin}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(params).not.toHaveProperty('error');
    expect(params).not.toHaveProperty('scope');
  });

  it('RFC 6750 §3: no token on a tools/call of a scoped tool → 401 naming the scope', async () => {
    const response = await post(server.url, callTool('secure_operation'));
    expect(response.status).toBe(401);
    const { params } = parseChallenge(response.headers.get('www-authenticate'));
    expect(params).toEqual({
      scope: 'admin',
      resource_metadata: `${server.origin}/.well-known/oauth-protected-resource/mcp`,
    });
  });

  it('RFC 6750 §3.1: credentials of another scheme are answered as no token (401, no error)', async () => {
    const response = await post(server.url, initialize, {
      Authorization: 'Basic YWxpY2U6c2VjcmV0',
    });
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers.get('www-authenticate')).params).not.toHaveProperty(
      'error',
    );
  });

  it('RFC 6750 §3.1: a malformed Bearer header → 400 invalid_request with resource_metadata', async () => {
    for (const authorization of [
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer ä',
      'Bearer =abc',
      '(bad) x',
    ]) {
      const response = await post(server.url, initialize, { Authorization: authorization });
      expect(response.status, authorization).toBe(400);
      const { params } = parseChallenge(response.headers.get('www-authenticate'));
      expect(params.error).toBe('invalid_request');
      expect(params.resource_metadata).toContain('/.well-known/oauth-protected-resource/mcp');
      expect(await response.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('MCP authorization: an access token in the URI query is refused (400)', async () => {
    const token = await mint();
    const response = await post(`${server.url}?access_token=${token}`, initialize, bearer(token));
    expect(response.status).toBe(400);
    expect(parseChallenge(response.headers.get('www-authenticate')).params.error).toBe(
      'invalid_request',
    );
  });

  async function expectInvalidToken(token: string) {
    const response = await post(server.url, initialize, bearer(token));
    expect(response.status).toBe(401);
    const { params } = parseChallenge(response.headers.get('www-authenticate'));
    expect(params.error).toBe('invalid_token');
    expect(params.resource_metadata).toBe(
      `${server.origin}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(params.error_description).not.toContain(token);
    return params;
  }

  it('RFC 6750 §3.1: an expired token → 401 invalid_token', async () => {
    const params = await expectInvalidToken(await mint({}, { expiresIn: -60 }));
    expect(params.error_description).toMatch(/expired/);
  });

  it('RFC 8707 / RFC 9068 §4: a token for another audience → 401 invalid_token', async () => {
    await expectInvalidToken(await mint({ aud: 'http://127.0.0.1:1/other' }));
    await expectInvalidToken(await mint({ aud: `${server.resource}/` }));
    await expectInvalidToken(await mint({ aud: undefined }));
  });

  it('RFC 9068 §4: a token from another issuer → 401 invalid_token', async () => {
    await expectInvalidToken(await mint({ iss: 'http://127.0.0.1:1' }));
    await expectInvalidToken(await mint({ iss: `${issuer.issuer}/` }));
  });

  it('RFC 9068 §2.2: a token without exp → 401 invalid_token', async () => {
    await expectInvalidToken(await mint({ exp: undefined }));
  });

  it('RFC 7519 §6 / RFC 8725 §3.1: an unsecured token (alg none) → 401 invalid_token', async () => {
    await expectInvalidToken(await mint({}, { alg: 'none' }));
  });

  it('RFC 8725 §3.1: HS256 signed with the public key bytes (algorithm confusion) → 401', async () => {
    const publicKey = await importJWK(issuer.publicJwk, 'ES256', { extractable: true });
    const pem = await exportSPKI(publicKey as CryptoKey);
    for (const secret of [
      new TextEncoder().encode(pem),
      new TextEncoder().encode(JSON.stringify(issuer.publicJwk)),
    ]) {
      const forged = await new SignJWT({
        sub: 'mallory',
        client_id: 'x',
        aud: server.resource,
        scope: 'admin',
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: issuer.kid })
        .setIssuer(issuer.issuer)
        .setExpirationTime('1h')
        .sign(secret);
      const params = await expectInvalidToken(forged);
      expect(params.error_description).toMatch(/algorithm/);
    }
  });

  it('RFC 7515 §5.2: a tampered payload, garbage and an unknown kid → 401 invalid_token', async () => {
    const token = await mint();
    const [h, , s] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify({
        iss: issuer.issuer,
        aud: server.resource,
        sub: 'mallory',
        scope: 'admin',
        exp: 9e9,
      }),
    ).toString('base64url');
    await expectInvalidToken(`${h}.${payload}.${s}`);
    await expectInvalidToken('not-a-jwt');
    await expectInvalidToken('a.b.c');
    await expectInvalidToken(await mint({}, { header: { kid: 'no-such-kid' } }));
  });

  it('RFC 9068 §4: a JWT with a typ other than at+jwt / JWT → 401', async () => {
    await expectInvalidToken(await mint({}, { header: { typ: 'dpop+jwt' } }));
  });
});

describe('RFC 9068: a valid token reaches the tools', () => {
  it('the SDK client over HTTP calls a tool that sees clientId, userId, scopes, token, exp, resource, claims', async () => {
    const token = await mint({ scope: 'read read_data', email: 'alice@example.com' });
    const client = await connectHttpClient(server.url, token);
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who).toMatchObject({
        clientId: 'app-1',
        userId: 'alice',
        scopes: ['read', 'read_data'],
        tokenLength: token.length,
        resource: server.resource,
        claims: { email: 'alice@example.com', sub: 'alice', iss: issuer.issuer },
      });
      expect(who.expiresAt).toBeGreaterThan(Date.now() / 1000);
      expect(text(await client.callTool({ name: 'read_data', arguments: {} }))).toBe(
        'data for alice',
      );
    } finally {
      await client.close();
    }
  });

  it('RFC 9068 §2.2.3: a plain JWT (typ JWT, azp, scp array) is accepted too', async () => {
    const token = await mint(
      { client_id: undefined, azp: 'spa', scope: undefined, scp: ['read_data'] },
      { header: { typ: 'JWT' } },
    );
    const client = await connectHttpClient(server.url, token);
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who).toMatchObject({ clientId: 'spa', scopes: ['read_data'] });
    } finally {
      await client.close();
    }
  });

  it('requireScopes in a tool: an isError result with the guide message', async () => {
    const client = await connectHttpClient(server.url, await mint({ scope: 'read' }));
    try {
      const result = await client.callTool({ name: 'read_data', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe('Insufficient permissions: read_data scope required');
    } finally {
      await client.close();
    }
  });
});

describe('RFC 6750 §3.1: step-up for per-tool scopes', () => {
  it('403 insufficient_scope before the tool runs, then success with a broader token', async () => {
    const narrow = await mint({ scope: 'read' });
    const response = await post(server.url, callTool('secure_operation'), bearer(narrow));
    expect(response.status).toBe(403);
    const { params } = parseChallenge(response.headers.get('www-authenticate'));
    expect(params.error).toBe('insufficient_scope');
    // The token's own scopes and the tool's: a token for exactly these keeps the read tools.
    expect(params.scope).toBe('read admin');
    expect(params.resource_metadata).toBe(
      `${server.origin}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(await response.json()).toMatchObject({ error: 'insufficient_scope' });

    const narrowClient = await connectHttpClient(server.url, narrow);
    try {
      await expect(
        narrowClient.callTool({ name: 'secure_operation', arguments: {} }),
      ).rejects.toMatchObject({
        code: 403,
      });
      // Other tools still work with the narrow token.
      expect(text(await narrowClient.callTool({ name: 'public_tool', arguments: {} }))).toBe(
        'This is accessible to everyone',
      );
    } finally {
      await narrowClient.close();
    }

    const broad = await mint({ scope: 'read admin' });
    const client = await connectHttpClient(server.url, broad);
    try {
      const result = await client.callTool({ name: 'secure_operation', arguments: {} });
      expect(result.isError).toBeFalsy();
      expect(text(result)).toBe('Secure operation completed for user alice');
    } finally {
      await client.close();
    }
  });

  it('a batch needing several scoped tools lists every scope it needs', async () => {
    const local = await startServer({
      verifier: (resource) =>
        jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
      toolScopes: { secure_operation: ['admin'], read_data: ['read_data'] },
      requiredScopes: ['read'],
    });
    try {
      const token = await issuer.mintToken({
        sub: 'bob',
        aud: local.resource,
        client_id: 'c',
        scope: 'read read_data',
      });
      const response = await post(
        local.url,
        [callTool('read_data', 1), callTool('secure_operation', 2)],
        bearer(token),
      );
      expect(response.status).toBe(403);
      expect(parseChallenge(response.headers.get('www-authenticate')).params.scope).toBe(
        'read read_data admin',
      );
      const noRead = await issuer.mintToken({
        sub: 'bob',
        aud: local.resource,
        client_id: 'c',
        scope: 'admin',
      });
      const single = await post(local.url, initialize, bearer(noRead));
      expect(single.status).toBe(403);
      // What the token has (admin) plus what is missing (read), so step-up loses nothing.
      expect(parseChallenge(single.headers.get('www-authenticate')).params.scope).toBe(
        'admin read',
      );
    } finally {
      await local.close();
    }
  });

  it('a single tools/call needs the required scopes plus its tool’s, an unlisted tool only the required', async () => {
    const local = await startServer({
      verifier: (resource) =>
        jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
      toolScopes: { secure_operation: ['admin'], public_tool: [] },
      requiredScopes: ['read'],
    });
    try {
      const token = (scope: string) =>
        issuer.mintToken({ sub: 'bob', aud: local.resource, client_id: 'c', scope });
      const scopeOf = (response: Response) =>
        parseChallenge(response.headers.get('www-authenticate')).params.scope;
      const adminOnly = await post(
        local.url,
        callTool('secure_operation'),
        bearer(await token('admin')),
      );
      expect(adminOnly.status).toBe(403);
      expect(scopeOf(adminOnly)).toBe('admin read');
      const readOnly = await post(
        local.url,
        callTool('secure_operation'),
        bearer(await token('read')),
      );
      expect(readOnly.status).toBe(403);
      expect(scopeOf(readOnly)).toBe('read admin');
      for (const tool of ['public_tool', 'not_a_listed_tool', 'constructor', '__proto__']) {
        const refused = await post(local.url, callTool(tool), bearer(await token('admin')));
        expect(refused.status, tool).toBe(403);
        expect(scopeOf(refused), tool).toBe('admin read');
        const passed = await post(local.url, callTool(tool), bearer(await token('read')));
        expect(passed.status, tool).not.toBe(403);
      }
      const both = await post(
        local.url,
        callTool('secure_operation'),
        bearer(await token('read admin')),
      );
      expect(both.status).toBe(200);
    } finally {
      await local.close();
    }
  });

  it('a body already parsed (req.body) is the one the scopes are read from: the stream is never read again', async () => {
    const resource = 'http://127.0.0.1:8000/mcp';
    const auth = bearerAuth({
      verifier: jwtVerifier({ issuer: issuer.issuer, audience: resource, key: issuer.publicJwk }),
      resource,
      toolScopes: { secure_operation: ['admin'] },
    });
    const token = await issuer.mintToken({
      sub: 'bob',
      aud: resource,
      client_id: 'c',
      scope: 'read',
    });
    const attempt = async (body: unknown) => {
      const req = Object.assign(
        new Readable({
          read() {
            this.destroy(new Error('the body stream was read a second time'));
          },
        }),
        {
          method: 'POST',
          url: '/mcp',
          headers: { host: '127.0.0.1:8000', authorization: `Bearer ${token}` },
          body,
        },
      ) as unknown as NodeRequest;
      const answer: { status?: number; passed?: boolean; error?: unknown } = {};
      const res = {
        statusCode: 200,
        setHeader() {},
        end() {
          answer.status = res.statusCode;
        },
      };
      await auth(req, res as unknown as ServerResponse, (error) => {
        answer.passed = error === undefined;
        answer.error = error;
      });
      return answer;
    };
    expect(await attempt(callTool('secure_operation'))).toEqual({ status: 403 });
    expect(await attempt([callTool('public_tool', 1), callTool('secure_operation', 2)])).toEqual({
      status: 403,
    });
    expect(await attempt(callTool('public_tool'))).toEqual({ passed: true, error: undefined });
  });

  it('tools/list hides tools the token does not cover (protectTools)', async () => {
    const names = async (scope: string) => {
      const client = await connectHttpClient(server.url, await mint({ scope }));
      try {
        return (await client.listTools()).tools.map((tool) => tool.name).sort();
      } finally {
        await client.close();
      }
    };
    expect(await names('read')).toEqual(['public_tool', 'read_data', 'whoami']);
    expect(await names('read admin')).toEqual([
      'public_tool',
      'read_data',
      'secure_operation',
      'whoami',
    ]);
  });

  it('without a body parser, bearerAuth reads the JSON body itself', async () => {
    const local = await startServer({
      verifier: (resource) =>
        jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
      toolScopes: TOOL_SCOPES,
      rawBody: true,
    });
    try {
      const narrow = await issuer.mintToken({
        sub: 'c',
        aud: local.resource,
        client_id: 'c',
        scope: 'read',
      });
      expect((await post(local.url, callTool('secure_operation'), bearer(narrow))).status).toBe(
        403,
      );
      const broad = await issuer.mintToken({
        sub: 'c',
        aud: local.resource,
        client_id: 'c',
        scope: 'admin',
      });
      const client = await connectHttpClient(local.url, broad);
      try {
        expect(text(await client.callTool({ name: 'secure_operation', arguments: {} }))).toContain(
          'completed',
        );
      } finally {
        await client.close();
      }
      const garbage = await fetch(local.url, {
        method: 'POST',
        headers: {
          ...bearer(broad),
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
        },
        body: '{not json',
      });
      expect(garbage.status).toBe(400);
      expect(await garbage.json()).toMatchObject({ error: { code: -32700 } });
    } finally {
      await local.close();
    }
  });
});

describe('CORS for browser clients', () => {
  it('Fetch §3.2: a preflight is answered with Authorization and the MCP headers allowed', async () => {
    const response = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, mcp-protocol-version',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const name of [
      'authorization',
      'content-type',
      'mcp-protocol-version',
      'mcp-session-id',
      'last-event-id',
    ]) {
      expect(allowed).toContain(name);
    }
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('Fetch §3.2: WWW-Authenticate and Mcp-Session-Id are exposed on challenges and successes', async () => {
    const denied = await post(server.url, initialize, { Origin: 'https://app.example' });
    expect(denied.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
    expect(denied.headers.get('access-control-expose-headers')).toMatch(/Mcp-Session-Id/);
    const ok = await post(server.url, initialize, {
      Origin: 'https://app.example',
      ...bearer(await mint()),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
  });
});

describe('RFC 7517: key rotation', () => {
  it('a token signed with a new kid is accepted without restart, after one JWKS refetch', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const before = await mint();
      expect((await post(server.url, initialize, bearer(before))).status).toBe(200);
      const fetches = issuer.jwksRequests;
      const oldKid = issuer.kid;
      await issuer.rotateKey();
      // Past the refetch cooldown (30 s by default), as a real rotation would be.
      vi.setSystemTime(Date.now() + 31_000);
      const after = await mint();
      expect((await post(server.url, initialize, bearer(after))).status).toBe(200);
      expect(issuer.jwksRequests).toBe(fetches + 1);
      // Tokens of the old key still verify while it is published.
      expect(
        (await post(server.url, initialize, bearer(await mint({}, { kid: oldKid })))).status,
      ).toBe(200);
      expect(issuer.jwksRequests).toBe(fetches + 1);
    } finally {
      vi.useRealTimers();
    }
  });
});
