import { UnauthorizedError } from '@modelcontextprotocol/client';
import {
  type Browser,
  type BrowserContext,
  chromiumAvailable,
  launchChromium,
} from '@portcullis/internal-testing';
import {
  type AuthServer,
  claimsOf,
  freePort,
  type Loopback,
  loopbackRedirect,
  type McpServer,
  OPAQUE_SUB,
  startAuthServer,
  startMcpServer,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Decision, signInAndApprove } from './helpers/browser.js';
import { toolJson } from './helpers/sdk-client.js';
import type { Exchange } from './helpers/sdk-provider.js';
import {
  connectV2WithOAuth,
  finishAuthorization,
  TestOAuthProviderV2,
} from './helpers/sdk-v2-client.js';

describe.runIf(chromiumAvailable())(
  'the MCP SDK v2 client (@modelcontextprotocol/client 2.4) against the built apps, with Chromium',
  () => {
    let browser: Browser;
    let context: BrowserContext;
    let as: AuthServer;
    let mcp: McpServer;
    let loopback: Loopback;
    const seen: Decision[] = [];
    const userAgent = async (url: URL) => {
      const page = await context.newPage();
      try {
        seen.push(await signInAndApprove(page, url.href, { issuer: as.url }));
      } finally {
        await page.close();
      }
    };

    beforeAll(async () => {
      browser = await launchChromium();
      loopback = await loopbackRedirect();
      const mcpPort = await freePort();
      as = await startAuthServer({ resources: [`http://127.0.0.1:${mcpPort}/mcp`] });
      mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
      context = await browser.newContext();
    });

    afterAll(async () => {
      await context?.close();
      await browser?.close();
      await mcp?.close();
      await as?.close();
      await loopback?.close();
    });

    it('MCP 2026-07-28: signs in through Chromium, discovers the server, lists and calls tools; user_profile has the email and name', async () => {
      const log: Exchange[] = [];
      const provider = new TestOAuthProviderV2({
        loopback,
        issuer: as.url,
        clientName: 'SDK v2 Client',
        userAgent,
      });
      const { client } = await connectV2WithOAuth(mcp.url, provider, log);
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
        expect(seen.at(-1)).toMatchObject({ loggedIn: true });
        expect(seen.at(-1)?.consent).toContain('SDK v2 Client');
        // The SDK's own choice, the challenge's scope: read and the identity scopes.
        expect(provider.authorizationUrls[0]?.searchParams.get('scope')).toBe(
          'read openid profile email',
        );
        expect(seen.at(-1)?.consent).toContain('See your email address');
        const claims = claimsOf(provider.tokens()?.access_token ?? '');
        expect(claims).toMatchObject({ aud: mcp.url, scope: 'read openid profile email' });
        // The access token carries no personal data: the email and name come from userinfo.
        expect(JSON.stringify(claims)).not.toMatch(/ada|example\.com/);
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain('secure_operation');
        const result = await client.callTool({ name: 'user_profile', arguments: {} });
        expect(toolJson(result)).toMatchObject({
          user: { id: claims.sub, email: 'ada@example.com', name: 'ada' },
          permissions: ['read', 'openid', 'profile', 'email'],
        });
        expect(claims.sub).toMatch(OPAQUE_SUB);
      } finally {
        await client.close();
      }
    });

    it('step-up: on 403 insufficient_scope the v2 transport re-authorizes for its scopes + admin by itself; secure_operation and the read tools then succeed', async () => {
      const log: Exchange[] = [];
      const provider = new TestOAuthProviderV2({
        loopback,
        issuer: as.url,
        clientName: 'SDK v2 Step-up Client',
        userAgent,
      });
      const { client, transport } = await connectV2WithOAuth(mcp.url, provider, log);
      try {
        expect(claimsOf(provider.tokens()?.access_token ?? '').scope).toBe(
          'read openid profile email',
        );
        const asked = provider.authorizationUrls.length;

        // The transport meets the 403, computes the scopes it needs (what it had plus the
        // challenge's) and sends the user to authorize them: no scope handling by the application.
        await expect(
          client.callTool({ name: 'secure_operation', arguments: {} }),
        ).rejects.toBeInstanceOf(UnauthorizedError);
        expect(log.some((e) => e.url.pathname === '/mcp' && e.status === 403)).toBe(true);
        expect(provider.authorizationUrls).toHaveLength(asked + 1);
        expect(
          provider.authorizationUrls.at(-1)?.searchParams.get('scope')?.split(' ').sort(),
        ).toEqual(['admin', 'email', 'openid', 'profile', 'read']);
        // Already signed in: only the consent screen, which asks for admin.
        expect(seen.at(-1)?.loggedIn).toBe(false);
        expect(seen.at(-1)?.consent).toContain('Administer the server');

        // The redirect came back with a code: the application finishes the authorization as
        // for the first one, and calls again.
        await finishAuthorization(transport, provider);
        expect(
          String(claimsOf(provider.tokens()?.access_token ?? '').scope)
            .split(' ')
            .sort(),
        ).toEqual(['admin', 'email', 'openid', 'profile', 'read']);
        const result = await client.callTool({ name: 'secure_operation', arguments: {} });
        expect(result.isError).toBeFalsy();
        expect(toolJson(result).message).toMatch(
          /^Secure operation completed for user u_[\w-]{22}$/,
        );
        const profile = await client.callTool({ name: 'user_profile', arguments: {} });
        expect(toolJson(profile).permissions).toEqual(
          expect.arrayContaining(['read', 'admin', 'openid']),
        );
        // The step-up kept the identity scopes: user_profile still knows who the user is.
        expect(toolJson(profile).user).toMatchObject({ email: 'ada@example.com', name: 'ada' });
        const data = await client.callTool({
          name: 'authenticated_tool',
          arguments: { param: 'x' },
        });
        expect(data.isError).toBeFalsy();
      } finally {
        await client.close();
      }
    });
  },
);
