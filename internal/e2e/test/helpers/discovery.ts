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
