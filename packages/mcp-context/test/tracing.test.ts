import type { ServerResponse } from 'node:http';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authenticate, cachedVerifier, InvalidTokenError, jwtVerifier } from '../src/index.js';
import { bearerAuth, type NodeRequest } from '../src/node/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';
import { callTool, post, startServer, TOOL_SCOPES } from './support/server.js';

function recorder() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, spans: () => exporter.getFinishedSpans() };
}

function attributeText(spans: readonly ReadableSpan[]): string[] {
  return spans.flatMap((span) => [
    span.name,
    span.status.message ?? '',
    ...Object.entries(span.attributes).map(([key, value]) => `${key}=${String(value)}`),
    ...span.events.map((event) => JSON.stringify(event)),
  ]);
}

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

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});

afterAll(async () => {
  await issuer?.close();
});

afterEach(() => {
  trace.disable();
});

describe('OpenTelemetry: the mcp.bearer_auth span', () => {
  it('valid (cache miss, then hit), missing, invalid and insufficient-scope requests: names, attributes, status; never the token or the user', async () => {
    const otel = recorder();
    const server = await startServer({
      verifier: (resource) =>
        jwtVerifier({ issuer: issuer.issuer, audience: resource, jwksUri: issuer.jwksUri }),
      toolScopes: TOOL_SCOPES,
      tracerProvider: otel.provider,
    });
    try {
      const token = await issuer.mintToken({
        sub: 'u_opaque_user_1234',
        client_id: 'app-1',
        aud: server.resource,
        scope: 'read read_data',
      });
      const forged = `${token.slice(0, -8)}AAAAAAAA`;
      const bearer = (value: string) => ({ Authorization: `Bearer ${value}` });

      expect((await post(server.url, initialize, bearer(token))).status).toBe(200);
      expect((await post(server.url, initialize, bearer(token))).status).toBe(200);
      expect((await post(server.url, initialize)).status).toBe(401);
      expect((await post(server.url, initialize, bearer(forged))).status).toBe(401);
      expect((await post(server.url, callTool('secure_operation'), bearer(token))).status).toBe(
        403,
      );

      const spans = otel.spans();
      expect(spans.map((span) => span.name)).toEqual(Array(5).fill('mcp.bearer_auth'));
      expect(spans[0]!.instrumentationScope.name).toBe('@portcullis/mcp-context');
      expect(spans.map((span) => [span.attributes, span.status])).toEqual([
        [
          {
            'mcp.auth.token_cache': 'miss',
            'oauth.client_id': 'app-1',
            'oauth.scopes': ['read', 'read_data'],
            'mcp.auth.outcome': 'allowed',
          },
          { code: SpanStatusCode.UNSET },
        ],
        [
          {
            'mcp.auth.token_cache': 'hit',
            'oauth.client_id': 'app-1',
            'oauth.scopes': ['read', 'read_data'],
            'mcp.auth.outcome': 'allowed',
          },
          { code: SpanStatusCode.UNSET },
        ],
        // RFC 6750 §3.1: no credentials, no error code; not an error of ours.
        [
          { 'mcp.auth.outcome': 'refused', 'http.response.status_code': 401 },
          { code: SpanStatusCode.UNSET },
        ],
        [
          {
            'mcp.auth.token_cache': 'miss',
            'mcp.auth.outcome': 'refused',
            'http.response.status_code': 401,
            'oauth.error': 'invalid_token',
          },
          { code: SpanStatusCode.ERROR, message: 'invalid_token' },
        ],
        [
          {
            'mcp.auth.token_cache': 'hit',
            'oauth.client_id': 'app-1',
            'oauth.scopes': ['read', 'read_data'],
            'mcp.auth.outcome': 'refused',
            'http.response.status_code': 403,
            'oauth.error': 'insufficient_scope',
          },
          { code: SpanStatusCode.ERROR, message: 'insufficient_scope' },
        ],
      ]);

      const text = attributeText(spans);
      const [header, payload, signature] = token.split('.');
      for (const secret of [token, forged, header!, payload!, signature!, 'u_opaque_user_1234']) {
        for (const value of text) expect(value).not.toContain(secret);
      }
    } finally {
      await server.close();
    }
  });

  it('the fast path stays synchronous: a cached token passes, and its span ends, before bearerAuth returns', async () => {
    const otel = recorder();
    const inner = vi.fn(async (token: string) => ({ token, clientId: 'c', scopes: ['read'] }));
    const auth = bearerAuth({
      verifier: cachedVerifier(inner),
      resource: 'http://127.0.0.1:8000/mcp',
      tracer: otel.provider.getTracer('test'),
    });
    const call = () => {
      const req = {
        method: 'POST',
        url: '/mcp',
        headers: { host: '127.0.0.1:8000', authorization: 'Bearer tok-secret' },
        body: {},
      } as unknown as NodeRequest;
      const res = { statusCode: 200, setHeader: () => {}, end: vi.fn() };
      let passed = false;
      const done = auth(req, res as unknown as ServerResponse, () => {
        passed = true;
      });
      return { passedAtOnce: passed, done };
    };
    await call().done;
    expect(otel.spans()).toHaveLength(1);
    const second = call();
    expect(second.passedAtOnce).toBe(true);
    expect(otel.spans()).toHaveLength(2);
    expect(otel.spans()[1]!.attributes).toMatchObject({
      'mcp.auth.token_cache': 'hit',
      'mcp.auth.outcome': 'allowed',
    });
    await second.done;
  });

  it("authenticate() (fetch-style) uses @opentelemetry/api's global tracer when none is given; tracer: false turns it off", async () => {
    const otel = recorder();
    trace.setGlobalTracerProvider(otel.provider);
    const resource = 'http://127.0.0.1:8000/mcp';
    const verifier = async (token: string) => {
      if (token !== 'good-token-secret') throw new InvalidTokenError('bad');
      return { token, clientId: 'app-2', scopes: ['read'] };
    };
    const traced = { verifier, resource };
    const request = (token: string) =>
      new Request(resource, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    // The api is imported in the background when the guard is made: wait until it is in use.
    await vi.waitFor(async () => {
      await authenticate(request('good-token-secret'), traced);
      expect(otel.spans().length).toBeGreaterThan(0);
    });
    const before = otel.spans().length;
    const refused = await authenticate(request('bad-token-secret'), traced);
    expect('response' in refused && refused.response.status).toBe(401);
    const last = otel.spans().at(-1)!;
    expect(otel.spans()).toHaveLength(before + 1);
    expect(last.attributes['oauth.error']).toBe('invalid_token');

    const off = { verifier, resource, tracer: false as const };
    await authenticate(request('good-token-secret'), off);
    await authenticate(request('good-token-secret'), off);
    expect(otel.spans()).toHaveLength(before + 1);
    for (const value of attributeText(otel.spans())) expect(value).not.toContain('token-secret');
  });

  it('a provider registered after the guard was made, and used without one, gets spans from then on', async () => {
    const resource = 'http://127.0.0.1:8000/mcp';
    const options = {
      verifier: async (token: string) => ({ token, clientId: 'app-4', scopes: ['read'] }),
      resource,
    };
    const request = () =>
      new Request(resource, { method: 'POST', headers: { Authorization: 'Bearer t' } });
    expect('authInfo' in (await authenticate(request(), options))).toBe(true);
    // The api's tracer is in use by now (its import long resolved): no provider, no span.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect('authInfo' in (await authenticate(request(), options))).toBe(true);
    const otel = recorder();
    trace.setGlobalTracerProvider(otel.provider);
    await authenticate(request(), options);
    expect(otel.spans()).toHaveLength(1);
    expect(otel.spans()[0]?.attributes['oauth.client_id']).toBe('app-4');
  });

  it('without a registered provider every request is answered as before', async () => {
    const resource = 'http://127.0.0.1:8000/mcp';
    const options = {
      verifier: async (token: string) => ({ token, clientId: 'app-3', scopes: ['read'] }),
      resource,
      requiredScopes: ['read'],
    };
    const ok = await authenticate(
      new Request(resource, { method: 'POST', headers: { Authorization: 'Bearer t' } }),
      options,
    );
    expect('authInfo' in ok && ok.authInfo.clientId).toBe('app-3');
    const missing = await authenticate(new Request(resource, { method: 'POST' }), options);
    expect('response' in missing && missing.response.status).toBe(401);
  });

  it('an option of the wrong shape is a TypeError with a code', () => {
    const verifier = async (token: string) => ({ token, clientId: 'c', scopes: [] });
    const resource = 'http://127.0.0.1:8000/mcp';
    expect(() => bearerAuth({ verifier, resource, tracer: {} as never })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() =>
      bearerAuth({ verifier, resource, tracerProvider: { getTracer: 1 } as never }),
    ).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
