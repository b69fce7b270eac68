import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, type RunningApp, startApp } from './support.js';

/** A POST with exactly these headers: fetch would not let us set Host. */
function post(url: string, headers: Record<string, string>, body: unknown) {
  return new Promise<{ status: number; json: () => unknown }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        ...headers,
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

// The MCP conformance scenario `dns-rebinding-protection`: a page on evil.example.com whose name
// now points at this server must not reach /mcp from a victim's browser (MCP transport,
// 2025-11-25 and later: servers MUST validate Origin). Non-browser clients send no Origin.
const TOKEN = 'dns-rebinding-0123456789';
const modes: Record<string, Record<string, string>> = {
  none: { AUTH_MODE: 'none' },
  static: {
    AUTH_MODE: 'static',
    STATIC_TOKENS: JSON.stringify({ [TOKEN]: { userId: 'u', scopes: ['read'] } }),
  },
};

describe.each(Object.keys(modes))('DNS-rebinding protection, AUTH_MODE=%s', (mode) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(modes[mode]);
  });
  afterAll(() => app?.close());

  const call = (headers: Record<string, string>) =>
    post(
      app.url,
      { ...(mode === 'none' ? {} : { Authorization: `Bearer ${TOKEN}` }), ...headers },
      callTool('public_tool'),
    );

  it('refuses an evil Host, an evil Origin, and both, with a JSON-RPC error before anything else', async () => {
    const evil: Record<string, string>[] = [
      { Host: 'evil.example.com' },
      { Origin: 'http://evil.example.com' },
      { Host: 'evil.example.com', Origin: 'http://evil.example.com' },
    ];
    for (const headers of evil) {
      const res = await call(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    }
  });

  it('lets its own origin and clients without Origin through', async () => {
    expect((await call({ Origin: app.origin })).status).toBe(200);
    expect((await call({})).status).toBe(200);
  });
});

describe('DNS-rebinding protection, AUTH_MODE=static: the metadata routes too', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(modes.static);
  });
  afterAll(() => app?.close());

  it('refuses the metadata document to an evil Origin, serves it without one', async () => {
    const url = `${app.origin}/.well-known/oauth-protected-resource/mcp`;
    expect((await fetch(url, { headers: { Origin: 'http://evil.example.com' } })).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
  });
});
