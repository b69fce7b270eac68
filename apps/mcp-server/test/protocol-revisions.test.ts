import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, type RunningApp, rpc, startApp, textOf } from './support.js';

const TOKEN = 'reader-0123456789abcdef';
let app: RunningApp;

beforeAll(async () => {
  app = await startApp({
    AUTH_MODE: 'static',
    STATIC_TOKENS: JSON.stringify({ [TOKEN]: { userId: 'u-1', scopes: ['read'] } }),
  });
});
afterAll(() => app?.close());

async function v2Client(mode: 'legacy' | { pin: string }) {
  const client = new Client(
    { name: 'revision-test', version: '1.0.0' },
    { versionNegotiation: { mode } },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(app.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
  return client;
}

/** The SSE or JSON body of a 2025-era answer, as JSON. */
async function legacyJson(res: Response) {
  const text = await res.text();
  return JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? text);
}

describe('MCP protocol revisions served by one endpoint', () => {
  it('2026-07-28: the v2 client discovers the server and calls tools without initialize', async () => {
    const client = await v2Client({ pin: '2026-07-28' });
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('user_profile');
      const profile = JSON.parse(
        textOf(await client.callTool({ name: 'user_profile', arguments: {} })),
      );
      expect(profile.user.id).toBe('u-1');
      expect(profile.permissions).toEqual(['read']);
    } finally {
      await client.close();
    }
  });

  it('2025-11-25: the v2 client without negotiation gets the stateless fallback', async () => {
    const client = await v2Client('legacy');
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
      const result = await client.callTool({
        name: 'authenticated_tool',
        arguments: { param: 'p' },
      });
      expect(JSON.parse(textOf(result)).user_id).toBe('u-1');
    } finally {
      await client.close();
    }
  });

  it('2025-06-18: initialize negotiates it and tools/call answers under it', async () => {
    const init = await rpc(
      app.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'old', version: '1' },
        },
      },
      TOKEN,
    );
    expect((await legacyJson(init)).result.protocolVersion).toBe('2025-06-18');
    const call = await rpc(app.url, callTool('protected_tool'), TOKEN, {
      'Mcp-Protocol-Version': '2025-06-18',
    });
    expect(JSON.parse(textOf((await legacyJson(call)).result))).toEqual({
      message: 'Hello user u-1',
    });
  });
});
