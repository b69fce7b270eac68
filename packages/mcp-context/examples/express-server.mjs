// A complete MCP resource server with express + the SDK's McpServer, protected by
// @portcullis/mcp-context, then called by the SDK client: without a token (401 + where to get
// one), with a narrow token (403 step-up for the admin tool), with a broad one (success).
// The authorization server is the package's local test issuer, so this runs offline:
//   node examples/express-server.mjs        (after `pnpm build`; or with the package installed)
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { authContext, jwtVerifier, requireScopes } from '@portcullis/mcp-context';
import { bearerAuth, protectedResourceMetadataMiddleware } from '@portcullis/mcp-context/node';
import { protectTools } from '@portcullis/mcp-context/sdk-v1';
import { createTestIssuer } from '@portcullis/mcp-context/testing';
import express from 'express';

const toolScopes = { secure_operation: ['admin'] }; // declared once, used twice

const issuer = await createTestIssuer(); // stands in for your authorization server

function createServer() {
  const server = new McpServer({ name: 'example', version: '1.0.0' });
  protectTools(server, { toolScopes }); // hides/refuses admin tools for other tokens
  server.registerTool('authenticated_tool', { description: 'Reads your data' }, async (extra) => {
    const { userId, clientId, scopes } = authContext(extra); // the guide's ctx.client_id/ctx.scopes/ctx.token
    requireScopes(extra, 'read_data'); // "Insufficient permissions: read_data scope required"
    return {
      content: [{ type: 'text', text: `data for ${userId} via ${clientId} (${scopes.join(' ')})` }],
    };
  });
  server.registerTool('secure_operation', { description: 'Admin only' }, async (extra) => ({
    content: [
      { type: 'text', text: `Secure operation completed for user ${authContext(extra).userId}` },
    ],
  }));
  return server;
}

const app = express();
const http = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await new Promise((resolve) => http.once('listening', resolve));
const RESOURCE = `http://127.0.0.1:${http.address().port}/mcp`; // exactly what clients call

app.use(
  protectedResourceMetadataMiddleware({
    resource: RESOURCE,
    authorizationServers: [issuer.issuer],
    scopesSupported: ['read_data', 'admin'],
  }),
);
app.all(
  '/mcp',
  express.json(),
  bearerAuth({
    verifier: jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, jwksUri: issuer.jwksUri }),
    resource: RESOURCE,
    toolScopes,
  }),
  async (req, res) => {
    // Stateless Streamable HTTP: one server and transport per request; req.auth rides along.
    const server = createServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  },
);
async function connect(token) {
  const client = new Client({ name: 'example-client', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(RESOURCE), {
      requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    }),
  );
  return client;
}

try {
  const anonymous = await fetch(RESOURCE, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  console.log(
    'without a bearer token:',
    anonymous.status,
    anonymous.headers.get('www-authenticate'),
  );

  const claims = { sub: 'alice', client_id: 'example-client', aud: RESOURCE };
  const narrow = await connect(await issuer.mintToken({ ...claims, scope: 'read_data' }));
  const result = await narrow.callTool({ name: 'authenticated_tool', arguments: {} });
  console.log('with the read_data scope:', result.content[0].text);
  console.log('tools visible:', (await narrow.listTools()).tools.map((t) => t.name).join(', '));
  await narrow.callTool({ name: 'secure_operation', arguments: {} }).catch((error) => {
    console.log('secure_operation with read_data only:', error.message.split('\n')[0]);
  });
  await narrow.close();

  const broad = await connect(await issuer.mintToken({ ...claims, scope: 'read_data admin' }));
  const done = await broad.callTool({ name: 'secure_operation', arguments: {} });
  console.log('after step-up:', done.content[0].text);
  await broad.close();
} finally {
  http.closeAllConnections();
  http.close();
  await issuer.close();
}
