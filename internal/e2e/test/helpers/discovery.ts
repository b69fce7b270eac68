import * as oauth from 'oauth4webapi';

export const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * What an MCP client does before it asks for a token: the MCP server's protected resource
 * metadata (RFC 9728), then the metadata of its first authorization server (RFC 8414), which
 * oauth4webapi refuses unless its `issuer` is the identifier it was fetched for.
 */
export async function discoverAuthorizationServer(mcpUrl: string): Promise<{
  prm: oauth.ResourceServer;
  server: oauth.AuthorizationServer;
}> {
  const prm = await oauth.processResourceDiscoveryResponse(
    new URL(mcpUrl),
    await oauth.resourceDiscoveryRequest(new URL(mcpUrl), insecure),
  );
  const issuer = new URL(prm.authorization_servers![0]!);
  const server = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
  return { prm, server };
}

/**
 * A fresh authorization request (RFC 6749 §4.1.1 with PKCE S256 and a state) to `server`'s
 * authorization endpoint: `params` (client_id, redirect_uri, resource, …) over the defaults
 * response_type=code and scope=read. Its URL, and the verifier and state the client keeps.
 */
export async function authorizationRequest(
  server: oauth.AuthorizationServer,
  params: Record<string, string>,
): Promise<{ url: URL; verifier: string; state: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(server.authorization_endpoint!);
  url.search = new URLSearchParams({
    response_type: 'code',
    scope: 'read',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...params,
  }).toString();
  return { url, verifier, state };
}
