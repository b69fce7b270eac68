import {
  type Browser,
  type BrowserContext,
  chromiumAvailable,
  launchChromium,
} from '@portcullis/internal-testing';
import {
  type AuthServer,
  freePort,
  type Loopback,
  loopbackRedirect,
  type McpServer,
  mcpRequest,
  OPAQUE_SUB,
  refreshGrant,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInAndApprove } from './helpers/browser.js';
import { connectWithOAuth, toolJson } from './helpers/sdk-client.js';
import { type Exchange, holdingUnauthorized, TestOAuthProvider } from './helpers/sdk-provider.js';

/**
 * RFC 9700 §4.14.2 with honest concurrency: an MCP client whose access token has expired makes
 * several tool calls at once; each gets 401 and the SDK refreshes for each with the same refresh
 * token. Within the authorization server's grace window (REFRESH_TOKEN_GRACE_SECONDS, default
 * 30) every one of them gets the same successor, so the client keeps its session. The 401s
 * are handed to the SDK together (`holdingUnauthorized`): all calls then refresh at once, every
 * run, and the SDK 1.32.2 transport's own race (a 401 seen after another call's refresh throws)
 * cannot decide the outcome.
 */
describe.runIf(chromiumAvailable())(
  'parallel tool calls with an expired access token keep the session (MCP SDK client, Chromium)',
  () => {
    let browser: Browser;
    let as: AuthServer;
    let mcp: McpServer;
    let loopback: Loopback;
    let context: BrowserContext;

    beforeAll(async () => {
      browser = await launchChromium();
      loopback = await loopbackRedirect();
      const mcpPort = await freePort();
      as = await startAuthServer({
        resources: [`http://127.0.0.1:${mcpPort}/mcp`],
        env: { ACCESS_TOKEN_TTL_SECONDS: '2' },
      });
      mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
      context = await browser.newContext();
    });

    afterAll(async () => {
      await context?.close();
      await mcp?.close();
      await as?.close();
      await loopback?.close();
      await browser?.close();
    });

    /** Waits until the resource server refuses the token (its clock tolerance included). */
    async function untilExpired(token: string | undefined): Promise<void> {
      for (let i = 0; i < 80; i++) {
        const response = await mcpRequest(mcp.url, token, 'tools/list');
        if (response.status === 401) return;
        expect(response.status).toBe(200);
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error('the access token never expired');
    }

    it('3 and then 10 parallel tool calls after expiry all succeed, with no new login, and the stored refresh token still works', async () => {
      const log: Exchange[] = [];
      const provider = new TestOAuthProvider({
        loopback,
        issuer: as.url,
        clientName: 'SDK Parallel Client',
        userAgent: async (url) => {
          const page = await context.newPage();
          try {
            await signInAndApprove(page, url.href, { issuer: as.url });
          } finally {
            await page.close();
          }
        },
      });
      let gate: ReturnType<typeof holdingUnauthorized> | undefined;
      const { client } = await connectWithOAuth(mcp.url, provider, log, (f) => {
        gate = holdingUnauthorized(f);
        return gate.fetch;
      });
      const authorizations = provider.authorizationUrls.length;
      expect(authorizations).toBe(1);

      for (const parallel of [3, 10]) {
        await untilExpired(provider.tokens()?.access_token);
        const before = log.length;
        gate?.hold(parallel);
        const results = await Promise.all(
          Array.from({ length: parallel }, () =>
            client.callTool({ name: 'user_profile', arguments: {} }),
          ),
        );
        for (const result of results) {
          expect(result.isError).toBeFalsy();
          expect(toolJson(result)).toMatchObject({
            user: { id: expect.stringMatching(OPAQUE_SUB) },
          });
        }
        // Every call saw its 401 before any refresh ended, so every call refreshed, at once.
        const refreshes = log.slice(before).filter((e) => e.url.pathname === '/token');
        expect(refreshes.length).toBe(parallel);
        for (const refresh of refreshes) {
          expect(refresh).toMatchObject({ status: 200, grantType: 'refresh_token' });
        }
        // No browser: nobody was sent to sign in again.
        expect(provider.authorizationUrls.length).toBe(authorizations);
      }

      // The refresh token the client kept is still good.
      const response = await refreshGrant({
        issuer: as.url,
        resource: mcp.url,
        client: {
          client_id: String(provider.clientInformation()?.client_id),
          token_endpoint_auth_method: 'none',
        },
        refreshToken: provider.tokens()?.refresh_token ?? '',
      });
      expect(response.status).toBe(200);
      await client.close();
    });
  },
);
