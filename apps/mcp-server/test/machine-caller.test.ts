import { createTestIssuer, type TestIssuer } from '@portcullis/mcp-context/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type RunningApp, startApp, textOf } from './support.js';

// A client credentials token (RFC 6749 §4.4) as the Portcullis authorization server issues it:
// `sub` is the client's own id (RFC 9068 §2.2), no user claim. internal/e2e's
// client-credentials test gets a real one from the built auth server.
const MACHINE = 'nightly-report';

let issuer: TestIssuer;
let app: RunningApp;

beforeAll(async () => {
  issuer = await createTestIssuer();
  app = await startApp({
    AUTH_MODE: 'oauth',
    ISSUER_URL: issuer.issuer,
    RATE_LIMIT_PER_MINUTE: '2',
  });
});

afterAll(async () => {
  await app?.close();
  await issuer?.close();
});

const mint = (claims: Record<string, unknown>) =>
  issuer.mintToken({ aud: app.url, scope: 'read admin', ...claims }, { expiresIn: 600 });

/** Every tool the template has, called over the real MCP SDK client with `token`. */
async function results(token: string): Promise<Record<string, string>> {
  const client = await connect(app.url, token);
  try {
    const out: Record<string, string> = {};
    for (const [name, args] of [
      ['authenticated_tool', { param: 'q' }],
      ['protected_tool', {}],
      ['user_profile', {}],
      ['secure_operation', {}],
    ] as const) {
      out[name] = textOf(await client.callTool({ name, arguments: args }));
    }
    return out;
  } finally {
    await client.close();
  }
}

describe('a machine caller (client credentials token: sub = client_id)', () => {
  it('the guide tools say "machine client X", never a user, and user_profile has no user', async () => {
    const out = await results(await mint({ sub: MACHINE, client_id: MACHINE }));
    expect(JSON.parse(out.authenticated_tool!)).toEqual({
      result: `Data for machine client ${MACHINE}: q`,
      user_id: null,
      client_id: MACHINE,
      machine_client: true,
      scopes: ['read', 'admin'],
    });
    expect(JSON.parse(out.protected_tool!)).toEqual({ message: `Hello machine client ${MACHINE}` });
    expect(JSON.parse(out.secure_operation!).message).toBe(
      `Secure operation completed for machine client ${MACHINE}`,
    );
    expect(JSON.parse(out.user_profile!)).toMatchObject({
      user: null,
      machine_client: { id: MACHINE },
      client_id: MACHINE,
      permissions: ['read', 'admin'],
    });
  });

  it("a user's token through the same client is still the user's", async () => {
    const out = await results(await mint({ sub: 'u_person', client_id: MACHINE }));
    expect(JSON.parse(out.protected_tool!)).toEqual({ message: 'Hello user u_person' });
    expect(JSON.parse(out.authenticated_tool!)).toMatchObject({ user_id: 'u_person' });
    expect(JSON.parse(out.user_profile!).user).toMatchObject({ id: 'u_person' });
  });

  it('rate_limited_tool counts a machine client under its own key, apart from a user of the same id', async () => {
    const call = async (token: string) => {
      const client = await connect(app.url, token);
      try {
        return await client.callTool({ name: 'rate_limited_tool', arguments: {} });
      } finally {
        await client.close();
      }
    };
    const machine = await mint({ sub: 'shared-id', client_id: 'shared-id' });
    const user = await mint({ sub: 'shared-id', client_id: 'some-app' });
    expect((await call(machine)).isError).toBeFalsy();
    expect((await call(machine)).isError).toBeFalsy();
    expect((await call(machine)).isError).toBe(true);
    // The user whose id happens to read the same has a limit of their own.
    expect((await call(user)).isError).toBeFalsy();
  });
});
