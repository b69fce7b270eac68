// The anchor of the tools/call bench: the MCP SDK 1.32.2 stateless Streamable HTTP example
// (examples/server/simpleStatelessStreamableHttp), cut to one trivial tool and with JSON
// responses: a new server and transport per request, behind the SDK's own Express app, no auth.
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const getServer = () => {
  const server = new McpServer({ name: 'stateless-streamable-http-server', version: '1.0.0' });
  server.registerTool('public_tool', { description: 'A trivial tool' }, async () => ({
    content: [{ type: 'text', text: 'This is accessible to everyone' }],
  }));
  return server;
};

const app = createMcpExpressApp();
app.post('/mcp', async (req, res) => {
  const server = getServer();
  try {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
    res.on('close', () => {
      transport.close();
      server.close();
    });
  } catch {
    if (!res.headersSent) {
      res.status(500).json({
        jsonrpc: '2.0',
        error: { code: -32603, message: 'Internal server error' },
        id: null,
      });
    }
  }
});
app.get('/healthz', (_req, res) => res.json({ status: 'ok' }));

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
