import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApp } from '../src/app.js';
import { createVerifier } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { createLimiter } from '../src/limiter.js';
import { createLogger } from '../src/log.js';

export interface RunningApp {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  origin: string;
  /** Every JSON log line the app wrote. */
  logs: string[];
  close(): Promise<void>;
}

/** Starts the app in-process on a free loopback port, configured as the environment would. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const config = loadConfig({ MCP_RESOURCE_URL: `${origin}/mcp`, PORT: String(port), ...env });
  const logs: string[] = [];
  const { limiter, close: closeLimiter } = await createLimiter(config);
  const logger = createLogger('debug', (line) => void logs.push(line));
  const verification = createVerifier(config, (message) => logger.warn(message));
  const app = createApp({ config, verifier: verification.verifier, limiter, logger });
  server.on('request', app);
  return {
    url: `${origin}/mcp`,
    origin,
    logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeLimiter();
      verification.close();
    },
  };
}

/** The real MCP SDK client over Streamable HTTP, sending `token` as a bearer token. */
export async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'mcp-server-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  await client.connect(transport);
  return client;
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

/** A raw JSON-RPC POST, for status codes and headers the SDK client does not surface. */
export function rpc(
  url: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const callTool = (name: string, args: Record<string, unknown> = {}, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});
