import { registerClient as register } from '@portcullis/internal-testing/apps';
import * as oauth from 'oauth4webapi';
import { MCP_RESOURCE } from './app';

export interface TestClient {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  redirectUri: string;
  /** Builds an authorization URL with fresh PKCE and state. */
  authorizationUrl(scope: string): Promise<{ url: URL; state: string; verifier: string }>;
  /** Validates the redirect (state, iss) and exchanges the code with PKCE. */
  exchange(
    callback: URL,
    flow: { state: string; verifier: string },
  ): Promise<oauth.TokenEndpointResponse>;
  /** RFC 6749 §6: a refresh_token grant for the same resource. */
  refresh(refreshToken: string): Promise<oauth.TokenEndpointResponse>;
}

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** Discovers the AS (RFC 8414) and registers a public client (RFC 7591), like an MCP client. */
export async function registerClient(
  issuerUrl: string,
  redirectUri: string,
  name = 'Test MCP Client',
): Promise<TestClient> {
  const issuer = new URL(issuerUrl);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
  const { client_id } = await register(issuerUrl, {
    redirectUri,
    name,
    endpoint: as.registration_endpoint!,
  });
  const client: oauth.Client = { client_id, token_endpoint_auth_method: 'none' };
  return {
    as,
    client,
    redirectUri,
    async authorizationUrl(scope) {
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const url = new URL(as.authorization_endpoint!);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id,
        redirect_uri: redirectUri,
        scope,
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        resource: MCP_RESOURCE,
      }).toString();
      return { url, state, verifier };
    },
    async exchange(callback, flow) {
      const params = oauth.validateAuthResponse(as, client, callback, flow.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        redirectUri,
        flow.verifier,
        { additionalParameters: { resource: MCP_RESOURCE }, ...insecure },
      );
      return oauth.processAuthorizationCodeResponse(as, client, response);
    },
    async refresh(refreshToken) {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        client,
        oauth.None(),
        refreshToken,
        {
          additionalParameters: { resource: MCP_RESOURCE },
          ...insecure,
        },
      );
      return oauth.processRefreshTokenResponse(as, client, response);
    },
  };
}
