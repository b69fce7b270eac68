import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import type { AuthInfo } from '@portcullis/mcp-context';

type McpNodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  parsedBody: unknown,
  authInfo: AuthInfo | undefined,
) => Promise<void>;

const SSE = 'text/event-stream';

/**
 * Serves the SDK's web-standard handler from `node:http`, for a request whose JSON body was
 * already read and parsed: what `toNodeHandler` of `@modelcontextprotocol/node` does, minus
 * the work that is not needed then. The `Request` carries no body (the SDK takes
 * `parsedBody` instead of reading it), and a JSON answer is written in one piece with its
 * length instead of chunk by chunk; event streams are still streamed, with back-pressure. The
 * request's signal aborts when the client goes away, so the SDK can cancel the exchange.
 */
export function mcpNodeHandler(
  handler: McpHttpHandler,
  onerror: (error: Error) => void,
): McpNodeHandler {
  return async (req, res, parsedBody, authInfo) => {
    const abort = new AbortController();
    let finished = false;
    res.once('close', () => {
      if (!finished) abort.abort();
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      // Once verified, the token reaches tools as authInfo.token only: one copy fewer of it.
      if (value === undefined || (authInfo && name === 'authorization')) continue;
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else headers.set(name, value);
    }
    let response: Response;
    try {
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers,
        signal: abort.signal,
      });
      // authInfo in place even when undefined (auth off): one object shape, no spread.
      response = await handler.fetch(request, { parsedBody, authInfo });
    } catch (error) {
      onerror(error instanceof Error ? error : new Error(String(error)));
      response = Response.json(
        { jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null },
        { status: 500 },
      );
    }
    const head: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      head[name] = value;
    });
    if (response.body === null || !head['content-type']?.startsWith(SSE)) {
      const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
      if (body) head['content-length'] = String(body.length);
      res.writeHead(response.status, head);
      finished = true;
      res.end(body);
      return;
    }
    res.writeHead(response.status, head);
    try {
      for await (const chunk of response.body) {
        if (abort.signal.aborted) break;
        if (!res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.once('drain', done);
            res.once('close', done);
          });
        }
      }
    } catch {
      // The stream ended early (the exchange was cancelled); the response ends here.
    }
    finished = true;
    res.end();
  };
}
