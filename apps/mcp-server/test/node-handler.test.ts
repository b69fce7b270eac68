import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import type { AuthInfo } from '@portcullis/mcp-context';
import { describe, expect, it } from 'vitest';
import { mcpNodeHandler } from '../src/node-handler.js';

/** Serves one request through mcpNodeHandler with a handler that reports what the SDK was given. */
async function forwarded(authInfo: AuthInfo | undefined) {
  let seen: { headers: Record<string, string>; authInfo: unknown; parsedBody: unknown } | undefined;
  const handler = {
    fetch: async (request: Request, options?: { authInfo?: unknown; parsedBody?: unknown }) => {
      seen = {
        headers: Object.fromEntries(request.headers),
        authInfo: options?.authInfo,
        parsedBody: options?.parsedBody,
      };
      return Response.json({ jsonrpc: '2.0', id: 1, result: {} });
    },
  } as unknown as McpHttpHandler;
  const serve = mcpNodeHandler(handler, (error) => {
    throw error;
  });
  const server = createServer((req, res) => {
    void serve(req, res, { parsed: true }, authInfo);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer the-token',
        'content-type': 'application/json',
        'mcp-protocol-version': '2026-07-28',
      },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String((await res.text()).length));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  return seen;
}

describe('mcpNodeHandler: what the SDK is handed', () => {
  it('a verified request: authInfo and the parsed body, without the Authorization header (the token travels once, in authInfo)', async () => {
    const authInfo: AuthInfo = { token: 'the-token', clientId: 'c', scopes: ['read'] };
    const seen = await forwarded(authInfo);
    expect(seen?.authInfo).toBe(authInfo);
    expect(seen?.parsedBody).toEqual({ parsed: true });
    expect(seen?.headers.authorization).toBeUndefined();
    expect(seen?.headers['mcp-protocol-version']).toBe('2026-07-28');
    expect(seen?.headers['content-type']).toBe('application/json');
  });

  it('without auth (AUTH_MODE=none) every header is forwarded as sent', async () => {
    const seen = await forwarded(undefined);
    expect(seen?.authInfo).toBeUndefined();
    expect(seen?.headers.authorization).toBe('Bearer the-token');
  });
});
