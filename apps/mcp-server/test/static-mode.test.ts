import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connect, type RunningApp, rpc, startApp, textOf } from './support.js';

// The guide's VALID_TOKENS table, with tokens long enough to be real secrets.
const ALICE = 'alice-0123456789abcdef-token';
const BOB = 'bob-0123456789abcdef-token';
let app: RunningApp;

beforeAll(async () => {
  app = await startApp({
    AUTH_MODE: 'static',
    STATIC_TOKENS: JSON.stringify({
      [ALICE]: { userId: '123', scopes: ['read', 'write', 'admin'] },
      [BOB]: { userId: '456', scopes: ['read'] },
    }),
  });
});
afterAll(() => app?.close());

describe('AUTH_MODE=static: the guide bearer-token table', () => {
  it('a listed token reaches every tool its scopes cover', async () => {
    const client = await connect(app.url, ALICE);
    expect(
      JSON.parse(textOf(await client.callTool({ name: 'protected_tool', arguments: {} }))),
    ).toEqual({
      message: 'Hello user 123',
    });
    const op = await client.callTool({ name: 'secure_operation', arguments: {} });
    expect(JSON.parse(textOf(op)).message).toBe('Secure operation completed for user 123');
    const data = JSON.parse(
      textOf(await client.callTool({ name: 'authenticated_tool', arguments: { param: 'p' } })),
    );
    expect(data.user_id).toBe('123');
    await client.close();
  });

  it('RFC 6750 §3.1: a read-only token gets the 403 step-up on secure_operation', async () => {
    const res = await rpc(app.url, callTool('secure_operation'), BOB);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="read admin"');
    const client = await connect(app.url, BOB);
    expect(
      JSON.parse(textOf(await client.callTool({ name: 'user_profile', arguments: {} })))
        .permissions,
    ).toEqual(['read']);
    await client.close();
  });

  it('RFC 6750 §3.1: an unknown token gets 401 invalid_token; none gets 401 without error', async () => {
    const bad = await rpc(app.url, callTool('protected_tool'), `${ALICE.slice(0, -1)}X`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const none = await rpc(app.url, callTool('protected_tool'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).not.toContain('error=');
    // No authorization server to ask for OpenID Connect scopes: the challenge names read only.
    expect(none.headers.get('www-authenticate')).toContain('scope="read"');
  });

  it('RFC 9728 §2: static mode names no authorization server', async () => {
    const res = await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.resource).toBe(app.url);
    expect(body.authorization_servers).toEqual([]);
    // The OpenID Connect scopes are listed only with AUTH_MODE=oauth.
    expect(body.scopes_supported).toEqual(['read', 'write', 'admin']);
  });
});
