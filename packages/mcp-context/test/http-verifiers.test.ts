import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenStore, memoryAdapter } from '@portcullis/token-store';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  introspectionVerifier,
  staticTokenVerifier,
  type TokenVerifier,
  tokenStoreVerifier,
} from '../src/index.js';
import { bearerAuth } from '../src/node/index.js';
import {
  callTool,
  connectHttpClient,
  parseChallenge,
  post,
  startServer,
  text,
} from './support/server.js';

/** Each verifier behind bearerAuth, driven by the SDK client over real HTTP. */
async function expectServes(
  verifier: (resource: string) => TokenVerifier,
  validToken: (resource: string) => Promise<string>,
  expected: Record<string, unknown>,
) {
  const server = await startServer({ verifier });
  try {
    const client = await connectHttpClient(server.url, await validToken(server.resource));
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who).toMatchObject(expected);
    } finally {
      await client.close();
    }
    const denied = await post(server.url, callTool('whoami'), {
      Authorization: 'Bearer not-a-valid-token',
    });
    expect(denied.status).toBe(401);
    expect(parseChallenge(denied.headers.get('www-authenticate')).params.error).toBe(
      'invalid_token',
    );
  } finally {
    await server.close();
  }
}

describe('each verifier behind bearerAuth, over HTTP with the SDK client', () => {
  it('staticTokenVerifier: the guide’s VALID_TOKENS', async () => {
    await expectServes(
      () => staticTokenVerifier({ user123: { userId: '123', scopes: ['read', 'write'] } }),
      async () => 'user123',
      { userId: '123', clientId: '123', scopes: ['read', 'write'] },
    );
  });

  describe('introspectionVerifier (RFC 7662) against a local endpoint', () => {
    let endpoint: Server;
    let url: string;
    const tokens = new Map<string, Record<string, unknown>>();
    beforeAll(async () => {
      endpoint = createServer(async (req, res) => {
        let body = '';
        for await (const chunk of req) body += chunk;
        const ok =
          req.headers.authorization === `Basic ${Buffer.from('rs:secret').toString('base64')}`;
        const token = new URLSearchParams(body).get('token') ?? '';
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify(
            ok ? (tokens.get(token) ?? { active: false }) : { error: 'invalid_client' },
          ),
        );
      });
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', () => resolve()));
      url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
    });
    afterAll(async () => {
      endpoint.closeAllConnections();
      await new Promise((resolve) => endpoint.close(resolve));
    });

    it('an active opaque token reaches the tool; an unknown one is 401', async () => {
      await expectServes(
        (resource) =>
          introspectionVerifier({
            endpoint: url,
            clientId: 'rs',
            clientSecret: 'secret',
            audience: resource,
          }),
        async (resource) => {
          tokens.set('opaque-abc', {
            active: true,
            client_id: 'cli',
            sub: 'erin',
            scope: 'read',
            aud: resource,
            exp: Math.floor(Date.now() / 1000) + 300,
          });
          return 'opaque-abc';
        },
        {
          userId: 'erin',
          clientId: 'cli',
          scopes: ['read'],
          claims: { active: true, sub: 'erin' },
        },
      );
    });
  });

  it('tokenStoreVerifier: an opaque token issued into @portcullis/token-store', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const store = createTokenStore({ adapter: memoryAdapter() });
    try {
      await expectServes(
        (resource) => tokenStoreVerifier(store, { resource }),
        async (resource) =>
          (
            await store.accessTokens.issue({
              clientId: 'cli',
              userId: 'frank',
              scopes: ['read', 'write'],
              resource,
              familyId: 'fam',
            })
          ).token,
        { userId: 'frank', clientId: 'cli', scopes: ['read', 'write'] },
      );
    } finally {
      await store.close();
      warn.mockRestore();
    }
  });

  it("bearerAuth rejects a caller's mistakes at configuration time", () => {
    const verifier = staticTokenVerifier({});
    expect(() => bearerAuth({ verifier, resource: '/mcp' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => bearerAuth({ verifier: 'x' as never, resource: 'http://h/mcp' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() =>
      bearerAuth({ verifier, resource: 'http://h/mcp', toolScopes: { a: 'admin' as never } }),
    ).toThrow(TypeError);
  });
});
