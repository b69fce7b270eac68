import {
  Client,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { type Exchange, recordingFetch, TestOAuthProvider } from './sdk-provider.js';

/**
 * The same in-memory provider for the v2 client (`@modelcontextprotocol/client`), which also
 * keeps what discovery found between the authorization request and the code exchange, so it
 * can check the code goes back to the authorization server that issued it.
 */
export class TestOAuthProviderV2 extends TestOAuthProvider {
  private discovery: OAuthDiscoveryState | undefined;

  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }

  discoveryState() {
    return this.discovery;
  }
}

/**
 * Hands the authorization response to the transport: the code and, as RFC 9207 has the v2
 * client check, the `iss` it came with.
 */
export async function finishAuthorization(
  transport: StreamableHTTPClientTransport,
  provider: TestOAuthProviderV2,
) {
  const { code, url } = provider.takeAuthorizationResponse();
  await transport.finishAuth(code, url.searchParams.get('iss') ?? undefined);
}

export interface ConnectedV2 {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

export function v2Transport(url: string, provider: TestOAuthProviderV2, log: Exchange[]) {
  return new StreamableHTTPClientTransport(new URL(url), {
    authProvider: provider as unknown as OAuthClientProvider,
    fetch: recordingFetch(log),
  });
}

/**
 * Connects the v2 client as an application does, negotiating the protocol revision: the first
 * attempt sends the user to authorize and rejects with `UnauthorizedError`; the application
 * hands the code to `finishAuth` and connects again.
 */
export async function connectV2WithOAuth(
  url: string,
  provider: TestOAuthProviderV2,
  log: Exchange[],
): Promise<ConnectedV2> {
  const options = { versionNegotiation: { mode: 'auto' as const } };
  const first = v2Transport(url, provider, log);
  try {
    const client = new Client({ name: 'portcullis-e2e-v2', version: '1.0.0' }, options);
    await client.connect(first);
    return { client, transport: first };
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  await finishAuthorization(first, provider);
  await first.close();
  const transport = v2Transport(url, provider, log);
  const client = new Client({ name: 'portcullis-e2e-v2', version: '1.0.0' }, options);
  await client.connect(transport);
  return { client, transport };
}
