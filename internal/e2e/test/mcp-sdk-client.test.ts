import { rmSync } from 'node:fs';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type Browser,
  type BrowserContext,
  chromiumAvailable,
  launchChromium,
} from '@portcullis/internal-testing';
import {
  type AuthServer,
  bearerChallenge,
  claimsOf,
  freePort,
  type Loopback,
  loopbackRedirect,
  type McpServer,
  mcpRequest,
  OPAQUE_SUB,
  startAuthServer,
  startMcpServer,
  tempDir,
} from '@portcullis/internal-testing/apps';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Decision, signInAndApprove } from './helpers/browser.js';
import { connectWithOAuth, toolJson } from './helpers/sdk-client.js';
import { type Exchange, TestOAuthProvider } from './helpers/sdk-provider.js';
import { selfSignedCertificate, serveJsonOverHttps } from './helpers/tls.js';

const TOOLS = [
  'authenticated_tool',
  'protected_tool',
  'public_tool',
  'rate_limited_tool',
  'secure_operation',
  'user_profile',
];

/** What the browser saw for each authorization, in order. */
function browserUserAgent(context: () => BrowserContext, issuer: () => string, seen: Decision[]) {
  return async (url: URL) => {
    const page = await context().newPage();
    try {
      seen.push(await signInAndApprove(page, url.href, { issuer: issuer() }));
    } finally {
      await page.close();
    }
  };
}

describe.runIf(chromiumAvailable())(
  'the MCP SDK client against the built apps, with Chromium',
  () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    describe('registration (DCR and CIMD) and step-up', () => {
      let as: AuthServer;
      let mcp: McpServer;
      let loopback: Loopback;
      let context: BrowserContext;
      let cimd: Awaited<ReturnType<typeof serveJsonOverHttps>>;
      const certDir = tempDir('portcullis-e2e-tls-');
      const seen: Decision[] = [];
      const userAgent = browserUserAgent(
        () => context,
        () => as.url,
        seen,
      );

      beforeAll(async () => {
        const tls = selfSignedCertificate(certDir);
        loopback = await loopbackRedirect();
        cimd = await serveJsonOverHttps(tls, (origin) => ({
          '/clients/e2e.json': {
            client_id: `${origin}/clients/e2e.json`,
            client_name: 'CIMD E2E Client',
            redirect_uris: [loopback.redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          },
        }));
        const mcpPort = await freePort();
        as = await startAuthServer({
          resources: [`http://127.0.0.1:${mcpPort}/mcp`],
          // The development allowance for documents on loopback addresses, and trust in the
          // document server's self-signed certificate (the SDK only sends https client_id URLs).
          env: { CIMD_ALLOW_INSECURE: '1', NODE_EXTRA_CA_CERTS: tls.certFile },
        });
        mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
        context = await browser.newContext();
      });

      afterAll(async () => {
        await context?.close();
        await mcp?.close();
        await as?.close();
        await cimd?.close();
        await loopback?.close();
        rmSync(certDir, { recursive: true, force: true });
      });

      it('MCP authorization with DCR: 401 → RFC 9728 → RFC 8414 → RFC 7591 → login and consent → token → tools/list → tools/call', async () => {
        const log: Exchange[] = [];
        const provider = new TestOAuthProvider({
          loopback,
          issuer: as.url,
          clientName: 'SDK DCR Client',
          userAgent,
        });
        const { client, authorized } = await connectWithOAuth(mcp.url, provider, log);
        expect(authorized).toBe(true);

        const steps = log.map((e) => `${e.method} ${e.url.pathname} ${e.status}`);
        expect(steps.slice(0, 4)).toEqual([
          'POST /mcp 401',
          'GET /.well-known/oauth-protected-resource/mcp 200',
          'GET /.well-known/oauth-authorization-server 200',
          'POST /register 201',
        ]);
        expect(steps).toContain('POST /token 200');
        expect(steps.indexOf('POST /token 200')).toBeGreaterThan(3);
        expect(steps.at(-1)).toMatch(/^POST \/mcp 20[02]$/);
        expect(log.find((e) => e.url.pathname === '/token')?.grantType).toBe('authorization_code');

        // The browser went through the development login and the consent screen.
        expect(seen.at(-1)?.loggedIn).toBe(true);
        expect(seen.at(-1)?.consent).toContain('SDK DCR Client');
        const [request] = provider.authorizationUrls;
        expect(request?.origin).toBe(as.url);
        expect(request?.searchParams.get('code_challenge_method')).toBe('S256');
        expect(request?.searchParams.get('resource')).toBe(mcp.url);
        // The challenge's scope: read, and the identity scopes user_profile reads email and name with.
        expect(request?.searchParams.get('scope')).toBe('read openid profile email');

        const tokens = provider.tokens();
        expect(claimsOf(tokens?.access_token ?? '')).toMatchObject({
          iss: as.url,
          aud: mcp.url,
          sub: expect.stringMatching(OPAQUE_SUB),
          scope: 'read openid profile email',
          client_id: provider.clientInformation()?.client_id,
        });

        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
        const result = await client.callTool({
          name: 'authenticated_tool',
          arguments: { param: 'x' },
        });
        expect(result.isError).toBeFalsy();
        expect(toolJson(result)).toMatchObject({
          user_id: expect.stringMatching(OPAQUE_SUB),
          client_id: provider.clientInformation()?.client_id,
          scopes: ['read', 'openid', 'profile', 'email'],
        });
        await client.close();
      });

      it('MCP authorization with a Client ID Metadata Document on 127.0.0.1: no registration, the document names the client', async () => {
        const log: Exchange[] = [];
        const clientMetadataUrl = `${cimd.origin}/clients/e2e.json`;
        const provider = new TestOAuthProvider({
          loopback,
          issuer: as.url,
          clientName: 'not the name in the document',
          userAgent,
          clientMetadataUrl,
        });
        const { client, authorized } = await connectWithOAuth(mcp.url, provider, log);
        expect(authorized).toBe(true);

        expect(log.some((e) => e.url.pathname === '/register')).toBe(false);
        expect(provider.authorizationUrls[0]?.searchParams.get('client_id')).toBe(
          clientMetadataUrl,
        );
        // The authorization server fetched the document and showed its client_name.
        expect(cimd.fetches).toContain('/clients/e2e.json');
        expect(seen.at(-1)?.consent).toContain('CIMD E2E Client');
        expect(claimsOf(provider.tokens()?.access_token ?? '')).toMatchObject({
          client_id: clientMetadataUrl,
          aud: mcp.url,
        });

        const result = await client.callTool({ name: 'user_profile', arguments: {} });
        expect(toolJson(result)).toMatchObject({
          user: { id: expect.stringMatching(OPAQUE_SUB) },
          client_id: clientMetadataUrl,
        });
        await client.close();
      });

      it('step-up: a read token gets 403 insufficient_scope from secure_operation naming its scopes (read, openid, profile, email) and admin; re-authorizing with the challenged scope makes secure_operation and the read tools succeed', async () => {
        const log: Exchange[] = [];
        // Registered by DCR with the first challenge's scope: the registered scope is
        // the client's default, not a ceiling, so it can step up to admin later.
        const provider = new TestOAuthProvider({
          loopback,
          issuer: as.url,
          clientName: 'SDK Step-up Client',
          userAgent,
        });
        const { client } = await connectWithOAuth(mcp.url, provider, log);
        const readToken = provider.tokens()?.access_token ?? '';
        expect(claimsOf(readToken).scope).toBe('read openid profile email');
        expect(seen.at(-1)?.consent).toContain('SDK Step-up Client');
        expect(provider.clientInformation()?.client_id).not.toMatch(/^https:/);

        // The resource server's challenge (RFC 6750 §3.1, MCP step-up authorization).
        const denied = await mcpRequest(mcp.url, readToken, 'tools/call', {
          name: 'secure_operation',
          arguments: {},
        });
        expect(denied.status).toBe(403);
        const challenge = bearerChallenge(denied.headers.get('www-authenticate'));
        expect(challenge.error).toBe('insufficient_scope');
        // One challenge naming what the client needs to keep working: its scopes (read and the
        // identity ones) plus the tool's admin.
        expect(challenge.scope?.split(' ').sort()).toEqual([
          'admin',
          'email',
          'openid',
          'profile',
          'read',
        ]);
        expect(challenge.resource_metadata).toBe(
          `${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp`,
        );

        // SDK 1.32.2's transport answers the 403 by calling auth() with the challenged scope, but
        // auth() spends the refresh token first, and a refresh cannot widen scope (RFC 6749 §6):
        // the retry gets the same 403 and the transport gives up (typescript-sdk issue #2255).
        const viaTransport = client.callTool({ name: 'secure_operation', arguments: {} });
        await expect(viaTransport).rejects.toBeInstanceOf(StreamableHTTPError);
        await expect(viaTransport).rejects.toMatchObject({ code: 403 });

        // So the application re-authorizes itself, through the same SDK auth(), with exactly the
        // challenged scope: no need to remember what it had, the challenge says it.
        provider.invalidateCredentials('tokens');
        expect(await auth(provider, { serverUrl: mcp.url, scope: challenge.scope })).toBe(
          'REDIRECT',
        );
        expect(
          provider.authorizationUrls.at(-1)?.searchParams.get('scope')?.split(' ').sort(),
        ).toEqual(['admin', 'email', 'openid', 'profile', 'read']);
        // Already signed in: only the consent screen, which now asks for admin.
        expect(seen.at(-1)?.loggedIn).toBe(false);
        expect(seen.at(-1)?.consent).toContain('Administer the server');
        const { code } = provider.takeAuthorizationResponse();
        expect(await auth(provider, { serverUrl: mcp.url, authorizationCode: code })).toBe(
          'AUTHORIZED',
        );
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
        // And the read tools still work: the step-up did not cost the client its read scope.
        const profile = await client.callTool({ name: 'user_profile', arguments: {} });
        expect(profile.isError).toBeFalsy();
        expect(toolJson(profile).permissions).toEqual(expect.arrayContaining(['read', 'admin']));
        // Nor its identity scopes: user_profile still knows who the user is.
        expect(toolJson(profile).user).toMatchObject({ email: 'ada@example.com', name: 'ada' });
        const data = await client.callTool({
          name: 'authenticated_tool',
          arguments: { param: 'x' },
        });
        expect(data.isError).toBeFalsy();
        await client.close();
      });

      it("user_profile with no help from the application: the challenge asks for openid profile email beside read, and email and name come from the authorization server's userinfo; the token carries neither", async () => {
        const provider = new TestOAuthProvider({
          loopback,
          issuer: as.url,
          clientName: 'SDK OpenID Client',
          userAgent,
        });
        // The SDK's own scope selection (the 401 challenge's scope), nothing chosen by the test.
        const { client } = await connectWithOAuth(mcp.url, provider, []);
        expect(provider.authorizationUrls[0]?.searchParams.get('scope')).toBe(
          'read openid profile email',
        );
        // The consent screen said what the app would learn.
        expect(seen.at(-1)?.consent).toContain('See your email address');
        expect(seen.at(-1)?.consent).toContain('See your name');
        const claims = claimsOf(provider.tokens()?.access_token ?? '');
        expect(String(claims.scope).split(' ').sort()).toEqual([
          'email',
          'openid',
          'profile',
          'read',
        ]);
        expect(JSON.stringify(claims)).not.toMatch(/ada|example\.com/);

        const profile = toolJson(await client.callTool({ name: 'user_profile', arguments: {} }));
        expect(profile.user).toEqual({ id: claims.sub, email: 'ada@example.com', name: 'ada' });

        // A client that asks for read alone learns nothing about the person.
        provider.invalidateCredentials('tokens');
        expect(await auth(provider, { serverUrl: mcp.url, scope: 'read' })).toBe('REDIRECT');
        const { code } = provider.takeAuthorizationResponse();
        expect(await auth(provider, { serverUrl: mcp.url, authorizationCode: code })).toBe(
          'AUTHORIZED',
        );
        expect(claimsOf(provider.tokens()?.access_token ?? '').scope).toBe('read');
        const readOnly = toolJson(await client.callTool({ name: 'user_profile', arguments: {} }));
        expect(readOnly.user).toEqual({ id: claims.sub, email: null, name: null });
        await client.close();
      });
    });

    describe('refresh after the access token expires (ACCESS_TOKEN_TTL_SECONDS=3)', () => {
      let as: AuthServer;
      let mcp: McpServer;
      let loopback: Loopback;
      let context: BrowserContext;
      const seen: Decision[] = [];

      beforeAll(async () => {
        loopback = await loopbackRedirect();
        const mcpPort = await freePort();
        as = await startAuthServer({
          resources: [`http://127.0.0.1:${mcpPort}/mcp`],
          env: { ACCESS_TOKEN_TTL_SECONDS: '3' },
        });
        mcp = await startMcpServer({ issuer: as.url, port: mcpPort });
        context = await browser.newContext();
      });

      afterAll(async () => {
        await context?.close();
        await mcp?.close();
        await as?.close();
        await loopback?.close();
      });

      it('RFC 6749 §6: the next call after expiry gets 401 invalid_token, the SDK refreshes, the call succeeds', async () => {
        const log: Exchange[] = [];
        const provider = new TestOAuthProvider({
          loopback,
          issuer: as.url,
          clientName: 'SDK Refresh Client',
          userAgent: browserUserAgent(
            () => context,
            () => as.url,
            seen,
          ),
        });
        const { client } = await connectWithOAuth(mcp.url, provider, log);
        const first = provider.tokens();
        expect(first?.refresh_token).toBeTruthy();
        const claims = claimsOf(first?.access_token ?? '');
        expect(Number(claims.exp) - Number(claims.iat)).toBe(3);

        // Wait until the resource server refuses the token (its clock tolerance included).
        let expired: Response | undefined;
        for (let i = 0; i < 60 && !expired; i++) {
          await new Promise((r) => setTimeout(r, 500));
          const response = await mcpRequest(mcp.url, first?.access_token, 'tools/list');
          if (response.status === 401) expired = response;
          else expect(response.status).toBe(200);
        }
        expect(expired?.status).toBe(401);
        expect(bearerChallenge(expired?.headers.get('www-authenticate') ?? null).error).toBe(
          'invalid_token',
        );

        const before = log.length;
        const authorizations = provider.authorizationUrls.length;
        const result = await client.callTool({ name: 'user_profile', arguments: {} });
        expect(result.isError).toBeFalsy();
        expect(toolJson(result)).toMatchObject({ user: { id: expect.stringMatching(OPAQUE_SUB) } });

        const after = log.slice(before).map((e) => `${e.method} ${e.url.pathname} ${e.status}`);
        expect(after[0]).toBe('POST /mcp 401');
        const refresh = log.slice(before).find((e) => e.url.pathname === '/token');
        expect(refresh).toMatchObject({ status: 200, grantType: 'refresh_token' });
        expect(after.at(-1)).toBe('POST /mcp 200');
        // No browser: the refresh token did it.
        expect(provider.authorizationUrls.length).toBe(authorizations);
        const second = provider.tokens();
        expect(second?.access_token).not.toBe(first?.access_token);
        // Rotated on use (OAuth 2.1 §4.3.1).
        expect(second?.refresh_token).not.toBe(first?.refresh_token);
        await client.close();
      });
    });
  },
);
