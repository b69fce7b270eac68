import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createPkcePair } from '@portcullis/pkce';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorizationServer } from '../src/index.js';
import {
  authorizeParams,
  confidentialClient,
  listen,
  REDIRECT,
  RESOURCE,
  setup,
} from './support/setup.js';

function recorder() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return {
    provider,
    spans: () => exporter.getFinishedSpans(),
    named: (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name),
    reset: () => exporter.reset(),
  };
}

/** Every attribute value of every span, as text, to search for secrets. */
function attributeText(spans: readonly ReadableSpan[]): string[] {
  return spans.flatMap((span) => [
    span.name,
    span.status.message ?? '',
    ...Object.entries(span.attributes).map(([key, value]) => `${key}=${String(value)}`),
    ...span.events.map((event) => JSON.stringify(event)),
  ]);
}

/** A server behind toNodeHandler whose interaction approves at once for `u_tracing`. */
async function tracedServer(options: Parameters<typeof setup>[0]) {
  const { as } = await setup({
    interaction: (pending) => pending.approve('u_tracing'),
    ...options,
  });
  const server = await listen(as.handle);
  return { as, origin: server.origin, close: () => server.close() };
}

async function codeFlow(origin: string, as: AuthorizationServer) {
  const client = await confidentialClient(as);
  const pkce = await createPkcePair();
  const params = authorizeParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: REDIRECT,
    code_challenge: pkce.codeChallenge,
    code_challenge_method: 'S256',
    state: 'state-1',
    scope: 'read write',
    resource: RESOURCE,
  });
  const authorize = await fetch(`${origin}/authorize?${params}`, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
  expect(code).toBeTruthy();
  const basic = `Basic ${btoa(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`)}`;
  const token = async (body: Record<string, string>) => {
    const response = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic },
      body: new URLSearchParams(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };
  const exchanged = await token({
    grant_type: 'authorization_code',
    code,
    code_verifier: pkce.codeVerifier,
    redirect_uri: REDIRECT,
    resource: RESOURCE,
  });
  expect(exchanged.status).toBe(200);
  const refreshed = await token({
    grant_type: 'refresh_token',
    refresh_token: exchanged.body.refresh_token!,
  });
  expect(refreshed.status).toBe(200);
  // The code again: refused, and the grant it started is revoked (RFC 6749 §4.1.2).
  const replayed = await token({
    grant_type: 'authorization_code',
    code,
    code_verifier: pkce.codeVerifier,
    redirect_uri: REDIRECT,
  });
  expect(replayed.body.error).toBe('invalid_grant');
  return {
    clientId: client.clientId,
    secrets: [
      code,
      pkce.codeVerifier,
      pkce.codeChallenge,
      client.secret,
      exchanged.body.access_token!,
      exchanged.body.refresh_token!,
      refreshed.body.access_token!,
      refreshed.body.refresh_token!,
      'state-1',
      REDIRECT,
    ],
  };
}

describe('OpenTelemetry spans (oauth.token, oauth.authorize)', () => {
  afterEach(() => {
    trace.disable();
  });

  it('a code exchange and a refresh through toNodeHandler: names, attributes, status, and no secret in any attribute', async () => {
    const otel = recorder();
    const { as, origin, close } = await tracedServer({ tracerProvider: otel.provider });
    try {
      const { clientId, secrets } = await codeFlow(origin, as);

      const [authorize] = otel.named('oauth.authorize');
      expect(otel.named('oauth.authorize')).toHaveLength(1);
      expect(authorize!.attributes).toEqual({
        'oauth.authorize.outcome': 'interaction',
        'oauth.client_id': clientId,
        'http.response.status_code': 302,
      });
      expect(authorize!.status.code).toBe(SpanStatusCode.UNSET);

      const tokens = otel.named('oauth.token');
      expect(tokens.map((span) => span.attributes)).toEqual([
        {
          'oauth.grant_type': 'authorization_code',
          'oauth.client_id': clientId,
          'http.response.status_code': 200,
        },
        {
          'oauth.grant_type': 'refresh_token',
          'oauth.client_id': clientId,
          'http.response.status_code': 200,
        },
        {
          'oauth.grant_type': 'authorization_code',
          'oauth.client_id': clientId,
          'http.response.status_code': 400,
          'oauth.error': 'invalid_grant',
        },
      ]);
      expect(tokens.map((span) => span.status)).toEqual([
        { code: SpanStatusCode.UNSET },
        { code: SpanStatusCode.UNSET },
        { code: SpanStatusCode.ERROR, message: 'invalid_grant' },
      ]);
      // The instrumentation scope says where the spans come from.
      expect(tokens[0]!.instrumentationScope.name).toBe('@portcullis/oauth-server');

      const text = attributeText(otel.spans());
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(4);
        for (const value of text) expect(value).not.toContain(secret);
      }
    } finally {
      await close();
    }
  });

  it('refusals: an unauthenticated client, an unknown grant type and bad /authorize requests say only the error code', async () => {
    const otel = recorder();
    const { as, origin, close } = await tracedServer({ tracerProvider: otel.provider });
    try {
      const client = await confidentialClient(as);
      const wrongSecret = 'not-the-secret-0123456789';
      const bad = await fetch(`${origin}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: 'rt-guess-0123456789',
          client_id: client.clientId,
          client_secret: wrongSecret,
        }),
      });
      expect(bad.status).toBe(401);
      const strange = await fetch(`${origin}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password-secret-grant', password: 'hunter22' }),
      });
      expect(strange.status).toBe(400);

      const unknownRedirect = authorizeParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: 'https://evil.example/cb?leak=1',
      });
      const shown = await fetch(`${origin}/authorize?${unknownRedirect}`, { redirect: 'manual' });
      expect(shown.status).toBe(400);
      const noPkce = authorizeParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: REDIRECT,
        state: 'state-secret-99',
      });
      const redirected = await fetch(`${origin}/authorize?${noPkce}`, { redirect: 'manual' });
      expect(redirected.status).toBe(302);

      expect(
        otel.named('oauth.token').map((span) => [span.attributes, span.status.message]),
      ).toEqual([
        // Not authenticated: the client it claims to be is not named.
        [
          {
            'oauth.grant_type': 'refresh_token',
            'http.response.status_code': 401,
            'oauth.error': 'invalid_client',
          },
          'invalid_client',
        ],
        // An unknown grant type is not echoed.
        [
          { 'http.response.status_code': 400, 'oauth.error': 'unsupported_grant_type' },
          'unsupported_grant_type',
        ],
      ]);
      expect(
        otel.named('oauth.authorize').map((span) => [span.attributes, span.status.code]),
      ).toEqual([
        [
          {
            'oauth.authorize.outcome': 'error',
            'http.response.status_code': 400,
            'oauth.error': 'invalid_request',
          },
          SpanStatusCode.ERROR,
        ],
        [
          {
            'oauth.authorize.outcome': 'error_redirect',
            'oauth.client_id': client.clientId,
            'http.response.status_code': 302,
            'oauth.error': 'invalid_request',
          },
          SpanStatusCode.ERROR,
        ],
      ]);
      const text = attributeText(otel.spans());
      for (const secret of [
        wrongSecret,
        client.secret,
        'rt-guess-0123456789',
        'password-secret-grant',
        'hunter22',
        'evil.example',
        'state-secret-99',
        REDIRECT,
      ]) {
        for (const value of text) expect(value).not.toContain(secret);
      }
    } finally {
      await close();
    }
  });

  it("uses @opentelemetry/api's global tracer when no tracer is given", async () => {
    const otel = recorder();
    expect(trace.setGlobalTracerProvider(otel.provider)).toBe(true);
    const { as, origin, close } = await tracedServer({});
    try {
      await codeFlow(origin, as);
      expect(otel.named('oauth.token')).toHaveLength(3);
      expect(otel.named('oauth.authorize')).toHaveLength(1);
    } finally {
      await close();
    }
  });

  it('tracer: false turns the spans off, even with a global provider', async () => {
    const otel = recorder();
    trace.setGlobalTracerProvider(otel.provider);
    const { as, origin, close } = await tracedServer({ tracer: false });
    try {
      await codeFlow(origin, as);
      expect(otel.spans()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('without a registered provider everything works and nothing is recorded', async () => {
    const otel = recorder();
    const { as, origin, close } = await tracedServer({});
    try {
      await codeFlow(origin, as);
      expect(otel.spans()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('an option of the wrong shape is a TypeError with a code', async () => {
    await expect(setup({ tracer: {} as never })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
    await expect(setup({ tracerProvider: { getTracer: 1 } as never })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });
});
