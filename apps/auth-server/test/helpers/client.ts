import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import { MCP_RESOURCE } from './app';

/**
 * The OAuth client's redirect_uri: a real HTTP listener on 127.0.0.1 (page.route cannot see
 * redirects, and a loopback redirect URI is what native MCP clients use).
 */
export async function loopbackRedirect(): Promise<{
  redirectUri: string;
  next: () => Promise<URL>;
  close: () => Promise<void>;
}> {
  const waiting: ((url: URL) => void)[] = [];
  const arrived: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(
      req.url ?? '/',
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    if (url.pathname !== '/callback') {
      // e.g. the browser's /favicon.ico: not an authorization response.
      res.writeHead(404).end();
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter(url);
    else arrived.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>client</title><p>Back at the client.</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    next: () => {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no redirect reached the client')), 30_000);
        waiting.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
      });
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

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
  const registration = await fetch(as.registration_endpoint!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  if (registration.status !== 201) {
    throw new Error(`registration failed: ${registration.status} ${await registration.text()}`);
  }
  const { client_id } = (await registration.json()) as { client_id: string };
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
