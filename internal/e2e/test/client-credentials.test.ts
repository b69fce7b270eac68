import { randomBytes } from 'node:crypto';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type AuthServer,
  bearerChallenge,
  freePort,
  type McpServer,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverAuthorizationServer, insecure } from './helpers/discovery.js';
import { toolJson } from './helpers/sdk-client.js';

// Issue 19 §1: an agent with no user (MCP's OAuth client credentials extension, SEP-1046) gets a
// token from the built authorization server for itself, calls the template MCP server's tools
// as "machine client X", and a revoked token is refused there (the revocation feed).

const MACHINE = 'e2e-nightly-agent';
const MACHINE_SECRET = randomBytes(32).toString('base64url');
const RS_CLIENT_ID = 'mcp-resource-server';
const RS_CLIENT_SECRET = randomBytes(32).toString('base64url');

let as: AuthServer;
let mcp: McpServer;
let resource: string;
let server: oauth.AuthorizationServer;
const client: oauth.Client = { client_id: MACHINE };
const clientAuth = oauth.ClientSecretBasic(MACHINE_SECRET);

beforeAll(async () => {
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  as = await startAuthServer({
    resources: [resource],
    env: {
      MACHINE_CLIENTS: JSON.stringify([
        { client_id: MACHINE, client_secret: MACHINE_SECRET, scope: 'read admin' },
      ]),
      // The MCP server's own client, allowed to read the revocation feed.
      OAUTH_CLIENT_ID: RS_CLIENT_ID,
      OAUTH_CLIENT_SECRET: RS_CLIENT_SECRET,
      OAUTH_REDIRECT_URI: 'http://127.0.0.1:9/unused',
      INTROSPECTION_CLIENT_IDS: RS_CLIENT_ID,
    },
  });
  const metadata = await (await fetch(`${as.url}/.well-known/oauth-authorization-server`)).json();
  mcp = await startMcpServer({
    issuer: as.url,
    port,
    env: {
      REVOCATION_FEED_URL: metadata.revocation_feed_endpoint,
      INTROSPECTION_CLIENT_ID: RS_CLIENT_ID,
      INTROSPECTION_CLIENT_SECRET: RS_CLIENT_SECRET,
      LOG_LEVEL: 'warn',
    },
  });
  // RFC 9728 → RFC 8414 discovery, as the client of an MCP server does.
  ({ server } = await discoverAuthorizationServer(mcp.url));
}, 120_000);

afterAll(async () => {
  await mcp?.close();
  await as?.close();
});

/** oauth4webapi's client credentials grant (RFC 6749 §4.4) for `resource` and `scope`. */
async function clientCredentials(scope?: string) {
  const response = await oauth.clientCredentialsGrantRequest(
    server,
    client,
    clientAuth,
    new URLSearchParams({ resource, ...(scope ? { scope } : {}) }),
    insecure,
  );
  return oauth.processClientCredentialsResponse(server, client, response);
}

/** A tool's JSON answer over the MCP SDK client. */
async function tool(sdk: Client, name: string, args: Record<string, unknown> = {}) {
  return toolJson(await sdk.callTool({ name, arguments: args }));
}

/** A raw tools/call, for the status codes the SDK client does not surface. */
function toolsCall(token: string, name: string): Promise<Response> {
  const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } };
  const headers = new Headers({ Accept: 'application/json, text/event-stream' });
  headers.set('Content-Type', 'application/json');
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(mcp.url, { method: 'POST', headers, body: JSON.stringify(call) });
}

/** The real MCP SDK client with a bearer token. */
async function connect(token: string): Promise<Client> {
  const sdk = new Client({ name: 'client-credentials-e2e', version: '1.0.0' });
  await sdk.connect(
    new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return sdk;
}

describe('client credentials against the built apps', () => {
  it('RFC 8414: the authorization server advertises client_credentials', () => {
    expect(server.grant_types_supported).toContain('client_credentials');
  });

  it('oauth4webapi: a token for the agent itself (sub = client_id, aud = the MCP server, no refresh token)', async () => {
    const tokens = await clientCredentials('read');
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read');
    expect(tokens.refresh_token).toBeUndefined();
    const claims = await oauth.validateJwtAccessToken(
      server,
      new Request(mcp.url, { headers: { Authorization: `Bearer ${tokens.access_token}` } }),
      resource,
      insecure,
    );
    expect(claims).toMatchObject({ sub: MACHINE, client_id: MACHINE, aud: resource });
    // Beyond its registration, or a user's scope: refused.
    for (const scope of ['write', 'openid']) {
      await expect(clientCredentials(scope), scope).rejects.toMatchObject({
        error: 'invalid_scope',
      });
    }
  });

  it("the template's tools see machine client X, never a user; the tools' scopes hold", async () => {
    const sdk = await connect((await clientCredentials()).access_token);
    try {
      expect(await tool(sdk, 'protected_tool')).toEqual({
        message: `Hello machine client ${MACHINE}`,
      });
      expect(await tool(sdk, 'authenticated_tool', { param: 'report' })).toMatchObject({
        result: `Data for machine client ${MACHINE}: report`,
        user_id: null,
        client_id: MACHINE,
      });
      expect(await tool(sdk, 'user_profile')).toMatchObject({
        user: null,
        machine_client: { id: MACHINE },
      });
      expect(await tool(sdk, 'secure_operation')).toEqual({
        message: `Secure operation completed for machine client ${MACHINE}`,
      });
    } finally {
      await sdk.close();
    }
    // A read-only token of the same client does not reach the admin tool.
    const readOnly = await clientCredentials('read');
    const refused = await toolsCall(readOnly.access_token, 'secure_operation');
    expect(refused.status).toBe(403);
  });

  it("MCP SDK's ClientCredentialsProvider: 401 → discovery → client credentials → tools, with no one present", async () => {
    const provider = new ClientCredentialsProvider({
      clientId: MACHINE,
      clientSecret: MACHINE_SECRET,
      scope: 'read',
      expectedIssuer: as.url,
    });
    const sdk = new Client({ name: 'client-credentials-provider-e2e', version: '1.0.0' });
    await sdk.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }),
    );
    try {
      expect(await tool(sdk, 'protected_tool')).toEqual({
        message: `Hello machine client ${MACHINE}`,
      });
    } finally {
      await sdk.close();
    }
    expect(provider.tokens()?.scope).toBe('read');
  });

  it('RFC 7009: once the agent revokes its token, the MCP server refuses it (revocation feed)', async () => {
    const { access_token: token } = await clientCredentials('read');
    const call = () => toolsCall(token, 'protected_tool');
    const before = await call();
    expect(before.status).toBe(200);
    await before.arrayBuffer();
    const revoked = await oauth.revocationRequest(server, client, clientAuth, token, insecure);
    await oauth.processRevocationResponse(revoked);
    // The MCP server polls the feed every few seconds: refused with 401 invalid_token within 15 s.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const response = await call();
      if (response.status === 401) {
        expect(bearerChallenge(response.headers.get('www-authenticate')).error).toBe(
          'invalid_token',
        );
        break;
      }
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      if (Date.now() > deadline) throw new Error('the MCP server still serves the revoked token');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
