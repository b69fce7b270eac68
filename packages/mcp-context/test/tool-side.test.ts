import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createRateLimiter, fixedWindow } from '@portcullis/rate-limit';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationRequiredError,
  authContext,
  InsufficientScopeError,
  RateLimitedError,
  type RateLimiterLike,
  rateLimit,
  requireScopes,
  type ToolAuthContext,
} from '../src/index.js';
import { protectTools } from '../src/sdk-v1/index.js';
import { connectTestClient } from '../src/testing/index.js';
import { createMcpServer, TOOL_SCOPES, text } from './support/server.js';

const ctx = (scopes: string[], userId?: string): ToolAuthContext => ({
  clientId: 'app',
  userId,
  scopes,
  token: 't',
  expiresAt: undefined,
  resource: undefined,
  claims: {},
});

describe('connectTestClient: AuthInfo through the SDK transport', () => {
  it('a tool sees the test client’s clientId, userId, scopes and claims via authContext', async () => {
    const client = await connectTestClient(createMcpServer(), {
      clientId: 'test_client',
      userId: 'test_user',
      scopes: ['read'],
      claims: { email: 'test@example.com' },
    });
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who).toMatchObject({
        clientId: 'test_client',
        userId: 'test_user',
        scopes: ['read'],
        claims: { email: 'test@example.com' },
      });
      expect(who.tokenLength).toBeGreaterThan(10);
    } finally {
      await client.close();
    }
  });

  it('without auth, a tool that needs a caller returns "Authentication required" as an isError result', async () => {
    const client = await connectTestClient(createMcpServer());
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe('Authentication required');
      expect(text(await client.callTool({ name: 'public_tool', arguments: {} }))).toBe(
        'This is accessible to everyone',
      );
    } finally {
      await client.close();
    }
  });

  it('requireScopes: "Insufficient permissions: read_data scope required", then success with the scope', async () => {
    const narrow = await connectTestClient(createMcpServer(), { userId: 'u', scopes: ['read'] });
    const wide = await connectTestClient(createMcpServer(), { userId: 'u', scopes: ['read_data'] });
    try {
      const denied = await narrow.callTool({ name: 'read_data', arguments: {} });
      expect(denied.isError).toBe(true);
      expect(text(denied)).toBe('Insufficient permissions: read_data scope required');
      expect(text(await wide.callTool({ name: 'read_data', arguments: {} }))).toBe('data for u');
    } finally {
      await narrow.close();
      await wide.close();
    }
  });
});

describe('protectTools: per-tool scopes inside the server', () => {
  it('a tools/call the scopes do not cover is refused before the tool runs; tools/list hides it', async () => {
    const user = await connectTestClient(createMcpServer({ toolScopes: TOOL_SCOPES }), {
      userId: 'u',
      scopes: ['read'],
    });
    const admin = await connectTestClient(createMcpServer({ toolScopes: TOOL_SCOPES }), {
      userId: 'root',
      scopes: ['admin'],
    });
    try {
      const denied = await user.callTool({ name: 'secure_operation', arguments: {} });
      expect(denied.isError).toBe(true);
      expect(text(denied)).toBe('Insufficient permissions: admin scope required');
      expect((await user.listTools()).tools.map((t) => t.name)).not.toContain('secure_operation');
      expect(text(await admin.callTool({ name: 'secure_operation', arguments: {} }))).toBe(
        'Secure operation completed for user root',
      );
      expect((await admin.listTools()).tools.map((t) => t.name)).toContain('secure_operation');
    } finally {
      await user.close();
      await admin.close();
    }
  });

  it('hideUnauthorizedTools: false keeps the tool listed but still refuses the call', async () => {
    const client = await connectTestClient(
      createMcpServer({ toolScopes: TOOL_SCOPES, hide: false }),
      {
        scopes: [],
      },
    );
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('secure_operation');
      expect((await client.callTool({ name: 'secure_operation', arguments: {} })).isError).toBe(
        true,
      );
    } finally {
      await client.close();
    }
  });

  it('must be called before tools are registered, and says so', () => {
    const server = new McpServer({ name: 's', version: '1' });
    server.registerTool('x', {}, async () => ({ content: [] }));
    expect(() => protectTools(server, { toolScopes: TOOL_SCOPES })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/before registering/),
      }),
    );
  });
});

describe('authContext and requireScopes', () => {
  it('maps the SDK authInfo; claims default to {}', () => {
    const resource = new URL('http://h/mcp');
    expect(
      authContext({
        authInfo: {
          token: 'tok',
          clientId: 'c',
          scopes: ['a'],
          expiresAt: 5,
          resource,
          userId: 'u',
        },
      }),
    ).toEqual({
      clientId: 'c',
      userId: 'u',
      scopes: ['a'],
      token: 'tok',
      expiresAt: 5,
      resource,
      claims: {},
    });
  });

  it("SDK 2.x's ctx: authContext, requireScopes and rateLimit read ctx.http.authInfo", async () => {
    const v2 = (scopes: string[]) => ({
      mcpReq: { id: 1, method: 'tools/call' },
      http: { authInfo: { token: 'tok', clientId: 'c', scopes, userId: 'dora' } },
    });
    expect(authContext(v2(['read']))).toMatchObject({ clientId: 'c', userId: 'dora' });
    expect(() => requireScopes(v2(['read']), 'read')).not.toThrow();
    expect(() => requireScopes(v2(['read']), 'admin')).toThrow(InsufficientScopeError);
    const keys: string[] = [];
    const limiter: RateLimiterLike = {
      limit: async (key) => {
        keys.push(key);
        return { success: true, retryAfter: 0, reset: 0 };
      },
    };
    await rateLimit(v2([]), limiter);
    expect(keys).toEqual(['user:dora']);
    expect(() => authContext({ http: {} })).toThrow(AuthenticationRequiredError);
  });

  it('throws AuthenticationRequiredError without authInfo', () => {
    expect(() => authContext({})).toThrow(AuthenticationRequiredError);
    expect(() => authContext(undefined)).toThrow('Authentication required');
  });

  it('RFC 6750 §3.1: requireScopes lists every scope needed', () => {
    expect(() => requireScopes(ctx(['read']), 'read')).not.toThrow();
    const error = (() => {
      try {
        requireScopes(ctx(['read']), 'read', 'write', 'admin');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error).toMatchObject({
      code: 'insufficient_scope',
      scopes: ['read', 'write', 'admin'],
      message: 'Insufficient permissions: read, write, admin scopes required',
    });
    expect(() =>
      requireScopes({ authInfo: { token: 't', clientId: 'c', scopes: [] } }, 'x'),
    ).toThrow(InsufficientScopeError);
  });
});

describe('rateLimit with @portcullis/rate-limit', () => {
  it('counts per user, then refuses with the guide message and the retry time', async () => {
    const limiter = createRateLimiter({ algorithm: fixedWindow(2, 60) });
    await rateLimit(ctx([], 'alice'), limiter);
    const second = await rateLimit(ctx([], 'alice'), limiter);
    expect(second).toMatchObject({ success: true, remaining: 0 });
    const error = await rateLimit(ctx([], 'alice'), limiter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    const { retryAfter, message } = error as RateLimitedError;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(message).toBe(`Rate limit exceeded. Please try again later. Retry in ${retryAfter}s.`);
    // Another user has an allowance of their own.
    await expect(rateLimit(ctx([], 'bob'), limiter)).resolves.toMatchObject({ success: true });
  });

  it('keys by client when the token has no user', async () => {
    const keys: string[] = [];
    const limiter: RateLimiterLike = {
      limit: async (key) => {
        keys.push(key);
        return { success: true, retryAfter: 0, reset: 0 };
      },
    };
    await rateLimit(ctx([], undefined), limiter);
    await rateLimit(ctx([], 'u'), limiter);
    expect(keys).toEqual(['client:app', 'user:u']);
  });

  it('an MCP tool using it returns the limit as an isError result', async () => {
    const limiter = createRateLimiter({ algorithm: fixedWindow(1, 3600) });
    const client = await connectTestClient(createMcpServer({ limiter }), {
      userId: 'carol',
      scopes: [],
    });
    try {
      expect(text(await client.callTool({ name: 'limited', arguments: {} }))).toBe(
        'Operation completed',
      );
      const limited = await client.callTool({ name: 'limited', arguments: {} });
      expect(limited.isError).toBe(true);
      expect(text(limited)).toMatch(
        /^Rate limit exceeded\. Please try again later\. Retry in \d+s\.$/,
      );
    } finally {
      await client.close();
    }
  });
});
