import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { createServerPool } from '../src/server-pool.js';
import { callTool, connect, rpc, startApp, textOf } from './support.js';

const MODERN = '2026-07-28';

/** A 2026-07-28 `tools/call` as the v2 client sends it: the envelope in `_meta`, the same in headers. */
function modernCall(
  tool: string,
  clientName: string | undefined,
  headers: Record<string, string> = {},
) {
  const meta: Record<string, unknown> = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  if (clientName) meta['io.modelcontextprotocol/clientInfo'] = { name: clientName, version: '1' };
  return {
    body: {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: tool, arguments: {}, _meta: meta },
    },
    headers: {
      'Mcp-Protocol-Version': MODERN,
      'Mcp-Method': 'tools/call',
      'Mcp-Name': tool,
      ...headers,
    },
  };
}

function request(call: ReturnType<typeof modernCall>) {
  return new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...call.headers,
    },
    body: JSON.stringify(call.body),
  });
}

/** A server whose one tool reports what it sees of its caller, after yielding to other requests. */
function whoamiServer(created: { count: number }) {
  created.count++;
  const server = new McpServer({ name: 'pool-test', version: '1' });
  server.registerTool('whoami', {}, async (ctx) => {
    await new Promise((resolve) => setImmediate(resolve));
    const text = JSON.stringify({
      client: server.server.getClientVersion()?.name ?? null,
      user: ctx.http?.authInfo?.clientId ?? null,
    });
    return { content: [{ type: 'text', text }] };
  });
  return server;
}

async function whoami(response: Response) {
  const body = (await response.json()) as { result?: { content: { text: string }[] } };
  const text = body.result?.content[0]?.text;
  if (text === undefined) throw new Error(`no result: ${JSON.stringify(body)}`);
  return JSON.parse(text) as { client: string | null; user: string | null };
}

const auth = (user: string) => ({
  authInfo: { token: `token-${user}`, clientId: user, scopes: [], expiresAt: 2e9 },
});

describe('the server pool: reuse without leaking one request into another', () => {
  it('a reused server forgets the previous client: a request without clientInfo sees none', async () => {
    const created = { count: 0 };
    const handler = createMcpHandler(createServerPool(() => whoamiServer(created)));
    const first = await whoami(
      await handler.fetch(request(modernCall('whoami', 'alice-app')), auth('alice')),
    );
    expect(first).toEqual({ client: 'alice-app', user: 'alice' });
    const second = await whoami(
      await handler.fetch(request(modernCall('whoami', undefined)), auth('bob')),
    );
    expect(second).toEqual({ client: null, user: 'bob' });
    expect(created.count).toBe(1);
    await handler.close();
  });

  it('a 2025-era request never gets a pooled server', async () => {
    const created = { count: 0 };
    const handler = createMcpHandler(createServerPool(() => whoamiServer(created)));
    await handler.fetch(request(modernCall('whoami', 'a')), auth('a'));
    const legacy = new Request('http://127.0.0.1/mcp', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'old', version: '1' },
        },
      }),
    });
    expect((await handler.fetch(legacy)).status).toBe(200);
    expect(created.count).toBe(2);
    // The pooled server still serves 2026-07-28.
    expect(
      await whoami(await handler.fetch(request(modernCall('whoami', 'b')), auth('b'))),
    ).toEqual({
      client: 'b',
      user: 'b',
    });
    expect(created.count).toBe(2);
    await handler.close();
  });

  it('under concurrency every request sees only its own client and auth', async () => {
    const created = { count: 0 };
    const handler = createMcpHandler(createServerPool(() => whoamiServer(created), { maxIdle: 8 }));
    const calls = Array.from({ length: 600 }, (_, i) => {
      const user = `user-${i}`;
      const client = i % 3 === 0 ? undefined : `app-${i}`;
      return () =>
        handler
          .fetch(request(modernCall('whoami', client)), auth(user))
          .then(whoami)
          .then((seen) => ({ seen, expected: { client: client ?? null, user } }));
    });
    // Three waves, so servers go back to the pool and come out again while others run.
    const results = [];
    for (let wave = 0; wave < 3; wave++)
      results.push(...(await Promise.all(calls.splice(0, 200).map((call) => call()))));
    const leaks = results.filter(
      ({ seen, expected }) => seen.client !== expected.client || seen.user !== expected.user,
    );
    expect(leaks).toEqual([]);
    expect(created.count).toBeLessThan(600);
    await handler.close();
  });
});

describe('the app: no request sees another caller, whatever the protocol revision', () => {
  it('400 concurrent calls with 8 tokens over HTTP, 2026-07-28 and 2025-era mixed', async () => {
    const tokens = Array.from({ length: 8 }, (_, i) => `token-of-user-${i}-0123456789`);
    const app = await startApp({
      AUTH_MODE: 'static',
      STATIC_TOKENS: JSON.stringify(
        Object.fromEntries(tokens.map((t, i) => [t, { userId: `user-${i}`, scopes: ['read'] }])),
      ),
    });
    try {
      const seen = await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          const token = tokens[i % tokens.length] as string;
          const modern = i % 2 === 0;
          const call = modernCall('user_profile', `app-${i}`);
          const res = modern
            ? await rpc(app.url, call.body, token, call.headers)
            : await rpc(app.url, callTool('user_profile'), token);
          const text = await res.text();
          const data = modern ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? text);
          const result = JSON.parse(data).result;
          return { expected: `user-${i % tokens.length}`, got: JSON.parse(textOf(result)).user.id };
        }),
      );
      expect(seen.filter((s) => s.got !== s.expected)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('the MCP SDK v1 client (2025-11-25) still works after 2026-07-28 requests', async () => {
    const app = await startApp({ AUTH_MODE: 'none' });
    try {
      const call = modernCall('public_tool', 'x');
      expect((await rpc(app.url, call.body, undefined, call.headers)).status).toBe(200);
      const client = await connect(app.url);
      expect(textOf(await client.callTool({ name: 'public_tool', arguments: {} }))).toBe(
        'This is accessible to everyone',
      );
      await client.close();
    } finally {
      await app.close();
    }
  });
});
