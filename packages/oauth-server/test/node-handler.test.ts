import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeBridge } from '../src/lib/node-bridge.js';
import { toNodeHandler } from '../src/node/index.js';
import {
  basic,
  confidentialClient,
  listen,
  obtainCode,
  publicClient,
  REDIRECT,
  setup,
} from './support/setup.js';

let server: Server | undefined;

afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(handler: (request: Request) => Promise<Response>): Promise<string> {
  server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

describe('toNodeHandler', () => {
  it('hands the handler the exact body, declared (buffered) or streamed, and its headers', async () => {
    const seen: { text: string; type: string | null; method: string }[] = [];
    const origin = await serve(async (request) => {
      seen.push({
        text: await request.text(),
        type: request.headers.get('content-type'),
        method: request.method,
      });
      return Response.json({ ok: true }, { headers: { 'X-Test': 'yes' } });
    });
    const form = 'grant_type=refresh_token&refresh_token=abc%20def&client_id=%E2%9C%93';
    const declared = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(await declared.json()).toEqual({ ok: true });
    expect(declared.headers.get('x-test')).toBe('yes');
    const big = 'x'.repeat(100_000);
    const streamed = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(200);
    expect(seen).toEqual([
      { text: form, type: 'application/x-www-form-urlencoded', method: 'POST' },
      { text: big, type: 'text/plain', method: 'POST' },
    ]);
  });

  it('streams a response that is not an in-memory document (an event stream) as it comes', async () => {
    let finish: () => void = () => undefined;
    const origin = await serve(async () => {
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('data: first\n\n'));
          finish = () => {
            controller.enqueue(encoder.encode('data: last\n\n'));
            controller.close();
          };
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    const response = await fetch(`${origin}/events`);
    const reader = response.body!.getReader();
    // The first event arrives while the stream is still open: it was not buffered to the end.
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: first\n\n');
    finish();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('data: last\n\n');
  });
});

describe('toNodeHandler(as.handle): the server mounted itself, bodies without web streams', () => {
  /** What a client sees of an answer: status, headers (but the date) and body. */
  async function seen(response: globalThis.Response) {
    const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== 'date'));
    return { status: response.status, headers, body: await response.text() };
  }

  it('answers exactly as through a wrapping handler: metadata, HEAD, preflight, errors, 413, a chunked body', async () => {
    const { as } = await setup({ maxBodyBytes: 1024 });
    const direct = await listen();
    direct.serve(as.handle);
    const wrapped = await listen((request) => as.handle(request));
    const clientId = await publicClient(as);
    const formPost = (body: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const requests: [string, () => RequestInit][] = [
      ['/.well-known/oauth-authorization-server', () => ({})],
      ['/.well-known/oauth-authorization-server', () => ({ method: 'HEAD' })],
      ['/jwks.json', () => ({})],
      ['/token', () => ({ method: 'OPTIONS', headers: { origin: 'https://app.example' } })],
      ['/token', () => ({ method: 'GET' })],
      ['/token', () => formPost(`grant_type=authorization_code&code=${'x'.repeat(43)}`)],
      [
        '/token',
        () => formPost(`grant_type=refresh_token&client_id=${clientId}&refresh_token=nope`),
      ],
      ['/token', () => formPost(`grant_type=password&client_id=${clientId}`)],
      ['/token', () => formPost(`grant_type=refresh_token&refresh_token=${'y'.repeat(2000)}`)],
      ['/token', () => formPost('grant_type=a&grant_type=b')],
      [
        '/token',
        () =>
          ({
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            // No Content-Length: streamed, as for any handler.
            body: new ReadableStream({
              start(controller) {
                controller.enqueue(new TextEncoder().encode('grant_type=password'));
                controller.close();
              },
            }),
            duplex: 'half',
          }) as RequestInit,
      ],
    ];
    const answers = new Set<number>();
    try {
      for (const [path, init] of requests) {
        const a = await seen(await fetch(direct.origin + path, init()));
        const b = await seen(await fetch(wrapped.origin + path, init()));
        expect(a, `${init().method ?? 'GET'} ${path}`).toEqual(b);
        answers.add(a.status);
      }
      // The list covers what it names: documents, preflight, 405, OAuth errors, 413.
      expect([...answers].sort()).toEqual([200, 204, 400, 405, 413]);
    } finally {
      await direct.close();
      await wrapped.close();
    }
  });

  it('RFC 6749 §5.1: a code exchange and a refresh are answered from the JSON reply, with no-store', async () => {
    const { as } = await setup();
    const http = await listen();
    http.serve(as.handle);
    const takeReply = vi.spyOn(nodeBridge, 'takeReply');
    try {
      const clientId = await publicClient(as);
      const { code, verifier } = await obtainCode(as, clientId);
      const post = (params: Record<string, string>) =>
        fetch(`${http.origin}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(params),
        });
      const exchanged = await post({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
      });
      expect(exchanged.status).toBe(200);
      expect(exchanged.headers.get('content-type')).toBe('application/json');
      expect(exchanged.headers.get('cache-control')).toBe('no-store');
      expect(exchanged.headers.get('pragma')).toBe('no-cache');
      expect(exchanged.headers.get('access-control-allow-origin')).toBe('*');
      const tokens = (await exchanged.json()) as Record<string, string>;
      expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'read' });
      const refreshed = await post({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token!,
        client_id: clientId,
      });
      expect(refreshed.status).toBe(200);
      expect(Object.keys(await refreshed.json())).toEqual([
        'access_token',
        'token_type',
        'expires_in',
        'refresh_token',
        'scope',
      ]);
      // Both answers came over the bridge: a reply, not a Response body.
      expect(takeReply.mock.results.filter((r) => r.value !== undefined)).toHaveLength(2);
    } finally {
      takeReply.mockRestore();
      await http.close();
    }
  });
});

describe("toNodeHandler(as.handle): what reaches the caller's code", () => {
  /** A POST with headers exactly as listed (a name may repeat), over node:http. */
  function rawPost(origin: string, path: string, headers: string[], body: string) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sent = [
        'Host',
        new URL(origin).host,
        'Content-Length',
        String(Buffer.byteLength(body)),
        ...headers,
      ];
      const req = httpRequest(`${origin}${path}`, { method: 'POST', headers: sent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('the getClientIp option and interaction get a standard Request with the headers sent', async () => {
    const seen: { hook: string; standard: boolean; ip: string | null; url: string }[] = [];
    const note = (hook: string, request: Request) =>
      seen.push({
        hook,
        // `signal` is a getter that only a real Request answers (undici checks its brand).
        standard: request instanceof Request && request.signal instanceof AbortSignal,
        ip: request.headers.get('x-test-ip'),
        url: request.url,
      });
    const { as } = await setup({
      getClientIp: (request) => {
        note('getClientIp', request);
        return request.headers.get('x-test-ip') ?? undefined;
      },
      interaction: (_pending, request) => {
        note('interaction', request);
        return new Response('consent page', { status: 200 });
      },
    });
    const http = await listen();
    http.serve(as.handle);
    try {
      const clientId = await publicClient(as);
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWWvTAhOZ_Pw8',
        code_challenge_method: 'S256',
      });
      const page = await fetch(`${http.origin}/authorize?${query}`, {
        headers: { 'x-test-ip': '203.0.113.7' },
      });
      expect(await page.text()).toBe('consent page');
      const url = `${http.origin}/authorize?${query}`;
      expect(seen).toContainEqual({
        hook: 'getClientIp',
        standard: true,
        ip: '203.0.113.7',
        url,
      });
      expect(seen).toContainEqual({
        hook: 'interaction',
        standard: true,
        ip: '203.0.113.7',
        url,
      });
    } finally {
      await http.close();
    }
  });

  it('a repeated header reads as through a wrapper (Node keeps the first Authorization)', async () => {
    const { as } = await setup();
    const direct = await listen();
    direct.serve(as.handle);
    const wrapped = await listen((request) => as.handle(request));
    try {
      const { clientId, secret } = await confidentialClient(as);
      const good = basic(clientId, secret).Authorization!;
      const headers = [
        'Content-Type',
        'application/x-www-form-urlencoded',
        'Authorization',
        good,
        'Authorization',
        good,
      ];
      const body = `grant_type=refresh_token&refresh_token=${'r'.repeat(43)}`;
      const a = await rawPost(direct.origin, '/token', headers, body);
      const b = await rawPost(wrapped.origin, '/token', headers, body);
      expect(a).toEqual(b);
      // The refresh token is what fails: the client authenticated with the first header.
      expect(a.status).toBe(400);
      expect(JSON.parse(a.body).error).toBe('invalid_grant');
      // A list-valued header (Accept) reads joined on both.
      const accept = ['Accept', 'text/html', 'Accept', 'application/json'];
      const query = `?response_type=code&client_id=${clientId}`;
      expect(await rawPost(direct.origin, `/authorize${query}`, accept, '')).toEqual(
        await rawPost(wrapped.origin, `/authorize${query}`, accept, ''),
      );
    } finally {
      await direct.close();
      await wrapped.close();
    }
  });
});
