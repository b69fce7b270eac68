// The same protection on MCP SDK 2.x: `@modelcontextprotocol/server`'s createMcpHandler behind
// @portcullis/mcp-context's fetch-style pieces (runtime-agnostic), on node:http through
// `@modelcontextprotocol/node`'s toNodeHandler, then called by the v2 client
// (`@modelcontextprotocol/client`): without a token, with a narrow token (403 step-up), with
// a broad one. The authorization server is the package's local test issuer, so this runs offline:
//   node examples/sdk-v2-server.mjs        (after `pnpm build`)
import { createServer } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import {
  authContext,
  authenticate,
  jwtVerifier,
  protectedResourceMetadataHandler,
  requireScopes,
} from '@portcullis/mcp-context';
import { protectTools } from '@portcullis/mcp-context/sdk-v2';
import { createTestIssuer } from '@portcullis/mcp-context/testing';

const toolScopes = { secure_operation: ['admin'] }; // declared once, used twice

const issuer = await createTestIssuer(); // stands in for your authorization server

// One factory for both protocol eras: v2 calls it per request and hands each tool `ctx`,
// whose `ctx.http.authInfo` is what `authenticate` verified.
const mcp = createMcpHandler(() => {
  const server = new McpServer({ name: 'example-v2', version: '1.0.0' });
  protectTools(server, { toolScopes }); // hides/refuses admin tools for other tokens
  server.registerTool('authenticated_tool', { description: 'Reads your data' }, async (ctx) => {
    const { userId, clientId, scopes } = authContext(ctx);
    requireScopes(ctx, 'read_data'); // "Insufficient permissions: read_data scope required"
    return {
      content: [{ type: 'text', text: `data for ${userId} via ${clientId} (${scopes.join(' ')})` }],
    };
  });
  server.registerTool('secure_operation', { description: 'Admin only' }, async (ctx) => ({
    content: [
      { type: 'text', text: `Secure operation completed for user ${authContext(ctx).userId}` },
    ],
  }));
  return server;
});

const http = createServer();
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await new Promise((resolve) => http.once('listening', resolve));
const RESOURCE = `http://127.0.0.1:${http.address().port}/mcp`; // exactly what clients call

const metadata = protectedResourceMetadataHandler({
  resource: RESOURCE,
  authorizationServers: [issuer.issuer],
  scopesSupported: ['read_data', 'admin'],
});
const auth = {
  verifier: jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, jwksUri: issuer.jwksUri }),
  resource: RESOURCE,
  toolScopes, // 403 step-up before the tool runs
};

// The fetch-style face: the same code runs on Workers, Deno, Bun or Next.js route handlers.
async function handle(request) {
  const served = metadata(request);
  if (served) return served;
  if (new URL(request.url).pathname !== '/mcp') return new Response(null, { status: 404 });
  const result = await authenticate(request, auth);
  if ('response' in result) return result.response;
  const response = await mcp.fetch(request, {
    authInfo: result.authInfo,
    parsedBody: result.parsedBody,
  });
  for (const [name, value] of Object.entries(result.headers)) response.headers.set(name, value);
  return response;
}
http.on('request', toNodeHandler({ fetch: handle }));

async function call(token, tool) {
  const client = new Client({ name: 'example-v2-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(RESOURCE), {
    ...(token ? { authProvider: { token: async () => token } } : {}),
  });
  try {
    await client.connect(transport);
    const tools = (await client.listTools()).tools.map((t) => t.name).join(', ');
    const result = await client.callTool({ name: tool, arguments: {} });
    return `${result.content.map((c) => c.text).join('')} [tools visible: ${tools}]`;
  } catch (error) {
    return `${error.constructor.name}: ${error.message}`;
  } finally {
    await client.close().catch(() => {});
  }
}

const mint = (scope) =>
  issuer.mintToken({ sub: 'alice', aud: RESOURCE, client_id: 'example-client', scope });
const noToken = await fetch(RESOURCE, { method: 'POST' });
console.log('without a bearer token:', noToken.status, noToken.headers.get('www-authenticate'));
console.log('with the read_data scope:', await call(await mint('read_data'), 'authenticated_tool'));
const narrow = await fetch(RESOURCE, {
  method: 'POST',
  headers: {
    Authorization: `Bearer ${await mint('read_data')}`,
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  },
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'secure_operation', arguments: {} },
  }),
});
console.log(
  'secure_operation with read_data only:',
  narrow.status,
  narrow.headers.get('www-authenticate'),
);
console.log('after step-up:', await call(await mint('read_data admin'), 'secure_operation'));

await mcp.close();
http.closeAllConnections();
http.close();
await issuer.close();
