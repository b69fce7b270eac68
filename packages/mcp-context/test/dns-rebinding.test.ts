import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  originGuard,
  protectedResourceMetadataHandler,
  staticTokenVerifier,
} from '../src/index.js';
import { createFetchServer } from './support/fetch-server.js';
import { startServer, type TestServer, TOOL_SCOPES } from './support/server.js';

// The requests of the MCP conformance scenario `dns-rebinding-protection`: a page on
// evil.example.com whose name was rebound to this server sends its own Host and Origin.
const EVIL_HOST = 'evil.example.com';
const EVIL_ORIGIN = 'http://evil.example.com';
const TOKEN = 'rebinding-test-token-0123456789';

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'conformance', version: '1' },
  },
});

/** A raw HTTP/1.1 request, so the Host header is exactly what a rebinding page would send. */
function send(
  url: string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Authorization: `Bearer ${TOKEN}`,
          ...headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? initialize : undefined);
  });
}

function expectRefusal(answer: { status: number; body: string }) {
  expect(answer.status).toBe(403);
  expect(JSON.parse(answer.body)).toMatchObject({
    jsonrpc: '2.0',
    error: { code: -32000, message: expect.stringMatching(/^Forbidden/) },
    id: null,
  });
}

const verifier = () => staticTokenVerifier({ [TOKEN]: { userId: 'u', scopes: ['read'] } });

describe('MCP transport security: DNS-rebinding protection (bearerAuth, metadata middleware)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ verifier, toolScopes: TOOL_SCOPES });
  });
  afterAll(async () => {
    await server?.close();
  });
  const metadataUrl = () => `${server.origin}/.well-known/oauth-protected-resource/mcp`;

  it('refuses an evil Host with 403 and a JSON-RPC error', async () => {
    expectRefusal(await send(server.url, { Host: EVIL_HOST }));
    expectRefusal(await send(metadataUrl(), { Host: EVIL_HOST }, 'GET'));
  });

  it('refuses an evil Origin with 403 and a JSON-RPC error', async () => {
    expectRefusal(await send(server.url, { Origin: EVIL_ORIGIN }));
    expectRefusal(await send(metadataUrl(), { Origin: EVIL_ORIGIN }, 'GET'));
  });

  it('refuses an evil Host and Origin together', async () => {
    expectRefusal(await send(server.url, { Host: EVIL_HOST, Origin: EVIL_ORIGIN }));
    expectRefusal(await send(metadataUrl(), { Host: EVIL_HOST, Origin: EVIL_ORIGIN }, 'GET'));
  });

  it('serves its own origin, and a request without Origin (a non-browser client)', async () => {
    expect((await send(server.url, { Origin: server.origin })).status).toBe(200);
    expect((await send(server.url, {})).status).toBe(200);
    expect((await send(metadataUrl(), { Origin: server.origin }, 'GET')).status).toBe(200);
    expect((await send(metadataUrl(), {}, 'GET')).status).toBe(200);
  });

  it('in development (a loopback resource), other loopback names and local pages pass', async () => {
    const port = new URL(server.url).port;
    expect((await send(server.url, { Host: `localhost:${port}` })).status).toBe(200);
    expect((await send(server.url, { Origin: 'http://localhost:6274' })).status).toBe(200);
    expectRefusal(await send(server.url, { Origin: 'null' }));
  });

  it('refuses before anything else: no token is checked, no challenge is sent', async () => {
    const answer = await send(server.url, { Host: EVIL_HOST, Authorization: 'Bearer nope' });
    expectRefusal(answer);
  });
});

describe('DNS-rebinding protection for a public resource (fetch-style)', () => {
  const RESOURCE = 'https://mcp.example.test/mcp';
  const post = (handler: (r: Request) => Promise<Response>, headers: Record<string, string>) =>
    handler(
      new Request(RESOURCE, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Authorization: `Bearer ${TOKEN}`,
          ...headers,
        },
        body: initialize,
      }),
    );

  it('authenticate(): evil Host, evil Origin, both → 403; own origin, no Origin → 200', async () => {
    const handler = createFetchServer({ verifier: verifier(), resource: RESOURCE }, []);
    for (const headers of <Record<string, string>[]>[
      { Host: EVIL_HOST },
      { Origin: EVIL_ORIGIN },
      { Host: EVIL_HOST, Origin: EVIL_ORIGIN },
      // Loopback pages are development only: not allowed for a public resource.
      { Origin: 'http://localhost:6274' },
    ]) {
      const response = await post(handler, headers);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: -32000 } });
    }
    expect((await post(handler, { Origin: 'https://mcp.example.test' })).status).toBe(200);
    expect((await post(handler, {})).status).toBe(200);
  });

  it('allowedOrigins and allowedHosts widen the defaults; originCheck: false turns it off', async () => {
    const origins = createFetchServer(
      {
        verifier: verifier(),
        resource: RESOURCE,
        originCheck: { allowedOrigins: ['https://app.example'] },
      },
      [],
    );
    expect((await post(origins, { Origin: 'https://app.example' })).status).toBe(200);
    expect((await post(origins, { Origin: 'https://mcp.example.test' })).status).toBe(200);
    expect((await post(origins, { Origin: EVIL_ORIGIN })).status).toBe(403);
    const hosts = createFetchServer(
      {
        verifier: verifier(),
        resource: RESOURCE,
        originCheck: { allowedHosts: ['internal:8080'] },
      },
      [],
    );
    expect((await post(hosts, { Host: 'internal:8080' })).status).toBe(200);
    // Listing hosts replaces the default: the resource's own host must then be listed too.
    expect((await post(hosts, { Host: 'mcp.example.test' })).status).toBe(403);
    const off = createFetchServer(
      { verifier: verifier(), resource: RESOURCE, originCheck: false },
      [],
    );
    expect((await post(off, { Host: EVIL_HOST, Origin: EVIL_ORIGIN })).status).toBe(200);
  });

  it('protectedResourceMetadataHandler and originGuard answer the same way', async () => {
    const metadata = protectedResourceMetadataHandler({
      resource: RESOURCE,
      authorizationServers: ['https://as.example.test'],
    });
    const get = (headers: Record<string, string>) =>
      metadata(
        new Request('https://mcp.example.test/.well-known/oauth-protected-resource/mcp', {
          headers,
        }),
      );
    expect(get({ Origin: EVIL_ORIGIN })?.status).toBe(403);
    expect(get({ Host: EVIL_HOST })?.status).toBe(403);
    expect(get({})?.status).toBe(200);
    const guard = originGuard({ resource: RESOURCE });
    expect(guard(new Request(RESOURCE, { headers: { Origin: EVIL_ORIGIN } }))?.status).toBe(403);
    expect(guard(new Request(RESOURCE, { headers: { Host: EVIL_HOST } }))?.status).toBe(403);
    expect(guard(new Request(RESOURCE))).toBeUndefined();
    expect(guard(new Request(RESOURCE, { headers: { Origin: 'https://mcp.example.test' } }))).toBe(
      undefined,
    );
  });

  it("rejects a caller's mistakes at configuration time", () => {
    expect(() =>
      originGuard({ resource: RESOURCE, allowedOrigins: ['https://a.example/path'] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() =>
      originGuard({ resource: RESOURCE, allowedHosts: 'all' as unknown as '*' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
