import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AuthServer, devLogin } from '@portcullis/internal-testing/apps';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/lib/config';
import { securityEventOf } from '../src/lib/security-events';
import { MCP_RESOURCE, startApp } from './helpers/app';
import { registerClient } from './helpers/client';

const MACHINE = 'nightly-report';
const SECRET = 'nightly-report-secret-0123456789abcdef';
const machineClients = (clients: unknown) => JSON.stringify(clients);

describe('client credentials configuration (MACHINE_CLIENTS, DCR_CLIENT_CREDENTIALS_SCOPES)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-cc-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, ...env });
  const variableOf = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (error) {
      if (error instanceof ConfigError) return { variable: error.variable, message: error.message };
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('none by default: no machine client, no dynamic allowance', () => {
    expect(load({}).clientCredentials).toEqual({ machineClients: [], dcrScopes: [] });
  });

  it('reads machine clients and the dynamic allowance', () => {
    const config = load({
      MACHINE_CLIENTS: machineClients([
        { client_id: MACHINE, client_secret: SECRET, scope: 'read write' },
      ]),
      DCR_CLIENT_CREDENTIALS_SCOPES: 'read',
    });
    expect(config.clientCredentials).toEqual({
      machineClients: [{ clientId: MACHINE, clientSecret: SECRET, scopes: ['read', 'write'] }],
      dcrScopes: ['read'],
    });
  });

  it('stops at start-up with one line naming the variable for every mistake', () => {
    const entry = { client_id: MACHINE, client_secret: SECRET, scope: 'read' };
    const cases: [Record<string, string>, string][] = [
      [{ MACHINE_CLIENTS: '{nope' }, 'MACHINE_CLIENTS'],
      [{ MACHINE_CLIENTS: machineClients(entry) }, 'MACHINE_CLIENTS'],
      [
        { MACHINE_CLIENTS: machineClients([{ ...entry, client_secret: 'short' }]) },
        'MACHINE_CLIENTS',
      ],
      [{ MACHINE_CLIENTS: machineClients([{ ...entry, scope: 'openid' }]) }, 'MACHINE_CLIENTS'],
      [{ MACHINE_CLIENTS: machineClients([{ ...entry, scope: '' }]) }, 'MACHINE_CLIENTS'],
      [{ MACHINE_CLIENTS: machineClients([{ ...entry, scope: 'root' }]) }, 'MACHINE_CLIENTS'],
      [
        { MACHINE_CLIENTS: machineClients([{ ...entry, client_id: 'has space' }]) },
        'MACHINE_CLIENTS',
      ],
      // A user's subject: a token with this sub would read as that user's.
      [
        { MACHINE_CLIENTS: machineClients([{ ...entry, client_id: 'u_AAAAAAAAAAAAAAAAAAAAAA' }]) },
        'MACHINE_CLIENTS',
      ],
      [
        { MACHINE_CLIENTS: machineClients([{ ...entry, client_id: 'https://a.example/c.json' }]) },
        'MACHINE_CLIENTS',
      ],
      [{ MACHINE_CLIENTS: machineClients([entry, entry]) }, 'MACHINE_CLIENTS'],
      [
        {
          MACHINE_CLIENTS: machineClients([entry]),
          OAUTH_CLIENT_ID: MACHINE,
          OAUTH_REDIRECT_URI: 'https://a.example/cb',
        },
        'MACHINE_CLIENTS',
      ],
      [{ DCR_CLIENT_CREDENTIALS_SCOPES: 'read email' }, 'DCR_CLIENT_CREDENTIALS_SCOPES'],
    ];
    for (const [env, variable] of cases) {
      const error = variableOf(env);
      expect(error.variable, JSON.stringify(env)).toBe(variable);
      expect(error.message).not.toContain('\n');
      expect(error.message).not.toContain(SECRET);
    }
  });

  it("a machine client's own token is no user's security event", () => {
    const revoked = {
      event: 'token.revoked',
      time: new Date().toISOString(),
      clientId: MACHINE,
      sub: MACHINE,
      familyId: 'f',
      tokenType: 'access_token',
    } as const;
    expect(securityEventOf(revoked)).toBeUndefined();
    expect(securityEventOf({ ...revoked, sub: 'u_AAAAAAAAAAAAAAAAAAAAAA' })?.sub).toBe(
      'u_AAAAAAAAAAAAAAAAAAAAAA',
    );
  });
});

describe('client credentials in the built app', () => {
  let app: AuthServer;
  let off: AuthServer;
  beforeAll(async () => {
    [app, off] = await Promise.all([
      startApp({
        env: {
          MACHINE_CLIENTS: machineClients([
            { client_id: MACHINE, client_secret: SECRET, scope: 'read write' },
          ]),
          DCR_CLIENT_CREDENTIALS_SCOPES: 'read',
        },
      }),
      startApp(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([app?.close(), off?.close()]);
  });

  const token = (base: string, params: Record<string, string>, auth = `${MACHINE}:${SECRET}`) =>
    fetch(`${base}/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${btoa(auth)}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
    });

  it('advertised only when configured', async () => {
    const metadata = async (base: string) =>
      (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as {
        grant_types_supported: string[];
      };
    expect((await metadata(app.url)).grant_types_supported).toContain('client_credentials');
    expect((await metadata(off.url)).grant_types_supported).not.toContain('client_credentials');
    const refused = await token(off.url, {});
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('unsupported_grant_type');
  });

  it('a MACHINE_CLIENTS client gets a token for itself; revoking it makes it can revoke it', async () => {
    const response = await token(app.url, { resource: MCP_RESOURCE, scope: 'read' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    expect(body).not.toHaveProperty('refresh_token');
    expect(decodeJwt(body.access_token as string)).toMatchObject({
      sub: MACHINE,
      client_id: MACHINE,
      aud: MCP_RESOURCE,
    });
    for (const [params, auth, status, error] of [
      [{ scope: 'admin' }, undefined, 400, 'invalid_scope'],
      [{ scope: 'openid' }, undefined, 400, 'invalid_scope'],
      [{ resource: 'https://elsewhere.example/mcp' }, undefined, 400, 'invalid_target'],
      [{}, `${MACHINE}:wrong-secret`, 401, 'invalid_client'],
    ] as const) {
      const refused = await token(app.url, params, auth);
      expect(refused.status, JSON.stringify(params)).toBe(status);
      expect(((await refused.json()) as { error: string }).error).toBe(error);
    }
    const revoke = await fetch(`${app.url}/revoke`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${btoa(`${MACHINE}:${SECRET}`)}`,
      },
      body: new URLSearchParams({ token: body.access_token as string }),
    });
    expect(revoke.status).toBe(200);
  });

  it("a person's /account is unaffected by machine tokens: it lists no machine client", async () => {
    expect((await token(app.url, {})).status).toBe(200);
    const jar = await devLogin(app.url, 'person@example.com');
    const page = await fetch(`${app.url}/account`, { headers: { cookie: jar.header() } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('person@example.com');
    expect(html).not.toContain(MACHINE);
  });

  it('/authorize with a machine client answers an error page, never a 5xx or a redirect', async () => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: MACHINE,
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const response = await fetch(`${app.url}/authorize?${query}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
  });

  it('DCR_CLIENT_CREDENTIALS_SCOPES: a self-registered machine client gets only those scopes', async () => {
    const registered = await fetch(`${app.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'], scope: 'read write' }),
    });
    expect(registered.status).toBe(201);
    const client = (await registered.json()) as Record<string, string>;
    expect(client.scope).toBe('read');
    const auth = `${client.client_id}:${client.client_secret}`;
    expect((await token(app.url, {}, auth)).status).toBe(200);
    expect(
      ((await (await token(app.url, { scope: 'write' }, auth)).json()) as { error: string }).error,
    ).toBe('invalid_scope');
    // Without the allowance, /register refuses it.
    const refused = await fetch(`${off.url}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'] }),
    });
    expect(refused.status).toBe(400);
    // A user's client still registers as before.
    const user = await registerClient(app.url, 'http://127.0.0.1:9/callback', 'User app');
    expect(user.client.client_id).toBeTruthy();
  });
});

describe('a client taken out of MACHINE_CLIENTS', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-cc-removed-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const post = (base: string, endpoint: string, params: Record<string, string>) =>
    fetch(`${base}${endpoint}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${btoa(`${MACHINE}:${SECRET}`)}`,
      },
      body: new URLSearchParams(params),
    });

  it('is cut off at the next start, even where self-registered clients may use the grant', async () => {
    // DCR_CLIENT_CREDENTIALS_SCOPES covers its scope: its leftover record must not pass for a
    // self-registered client.
    const before = await startApp({
      dataDir,
      env: {
        MACHINE_CLIENTS: machineClients([
          { client_id: MACHINE, client_secret: SECRET, scope: 'read write' },
        ]),
        DCR_CLIENT_CREDENTIALS_SCOPES: 'read',
      },
    });
    let token: string;
    try {
      const granted = await post(before.url, '/token', { grant_type: 'client_credentials' });
      expect(granted.status).toBe(200);
      token = ((await granted.json()) as { access_token: string }).access_token;
    } finally {
      await before.close();
    }
    const after = await startApp({ dataDir, env: { DCR_CLIENT_CREDENTIALS_SCOPES: 'read' } });
    try {
      for (const [endpoint, params] of [
        ['/token', { grant_type: 'client_credentials' }],
        ['/token', { grant_type: 'client_credentials', scope: 'read' }],
        ['/revoke', { token }],
      ] as const) {
        const refused = await post(after.url, endpoint, params);
        expect(refused.status, `${endpoint} ${JSON.stringify(params)}`).toBe(401);
        expect(((await refused.json()) as { error: string }).error).toBe('invalid_client');
      }
    } finally {
      await after.close();
    }
  }, 180_000);
});
