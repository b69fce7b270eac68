import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Exchange, recordingFetch, type TestOAuthProvider } from './sdk-provider.js';

export interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Whether connecting needed an authorization in the browser. */
  authorized: boolean;
}

/** Wraps the transport's fetch (every MCP request and the SDK's own token requests). */
export type FetchWrapper = (fetch: typeof globalThis.fetch) => typeof globalThis.fetch;

function transportFor(
  url: string,
  provider: TestOAuthProvider,
  log: Exchange[],
  wrap: FetchWrapper = (f) => f,
) {
  return new StreamableHTTPClientTransport(new URL(url), {
    authProvider: provider,
    fetch: wrap(recordingFetch(log)),
  });
}

/**
 * Connects the SDK client the way an application does: `connect()` runs the SDK's `auth()` on
 * the 401 and rejects with `UnauthorizedError` once it has sent the user to authorize;
 * `finishAuth(code)` exchanges the code; a new transport then connects with the token.
 */
export async function connectWithOAuth(
  url: string,
  provider: TestOAuthProvider,
  log: Exchange[],
  wrap?: FetchWrapper,
): Promise<Connected> {
  const first = transportFor(url, provider, log, wrap);
  const client = new Client({ name: 'portcullis-e2e', version: '1.0.0' });
  try {
    await client.connect(first);
    return { client, transport: first, authorized: false };
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  await first.finishAuth(provider.takeAuthorizationResponse().code);
  await first.close();
  const transport = transportFor(url, provider, log, wrap);
  const authorized = new Client({ name: 'portcullis-e2e', version: '1.0.0' });
  await authorized.connect(transport);
  return { client: authorized, transport, authorized: true };
}

/** The JSON a tool of the example server answers with. */
export function toolJson(result: unknown): Record<string, unknown> {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  const text = content.find((c) => c.type === 'text')?.text;
  if (text === undefined) throw new Error(`no text content in ${JSON.stringify(result)}`);
  return JSON.parse(text) as Record<string, unknown>;
}
