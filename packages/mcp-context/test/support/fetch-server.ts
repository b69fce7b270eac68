import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  authenticate,
  type BearerAuthOptions,
  protectedResourceMetadataHandler,
} from '../../src/index.js';
import { createMcpServer } from './server.js';

/** A fetch-style MCP server (as on Workers, Vercel's edge, Hono): metadata + authenticate + the SDK transport. */
export function createFetchServer(auth: BearerAuthOptions, authorizationServers: string[]) {
  const metadata = protectedResourceMetadataHandler({
    resource: auth.resource,
    authorizationServers,
    scopesSupported: ['read', 'admin'],
  });
  return async (request: Request): Promise<Response> => {
    const served = metadata(request);
    if (served) return served;
    if (new URL(request.url).pathname !== new URL(auth.resource).pathname) {
      return new Response('not found', { status: 404 });
    }
    const result = await authenticate(request, auth);
    if ('response' in result) return result.response;
    const server = createMcpServer({ toolScopes: auth.toolScopes });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    const response = await transport.handleRequest(request, {
      authInfo: result.authInfo,
      parsedBody: result.parsedBody,
    });
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(result.headers)) headers.set(name, value);
    return new Response(response.body, { status: response.status, headers });
  };
}
