import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { toNodeHandler } from '../src/node/index.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
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
