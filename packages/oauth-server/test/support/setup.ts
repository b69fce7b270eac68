import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPkcePair } from '@portcullis/pkce';
import {
  createTokenStore,
  hashSecret,
  memoryAdapter,
  type StoreAdapter,
  type TokenStore,
} from '@portcullis/token-store';
import {
  type AuthorizationServer,
  type AuthorizationServerOptions,
  createAuthorizationServer,
} from '../../src/index.js';
import { toNodeHandler } from '../../src/node/index.js';

export const ISSUER = 'http://localhost:3000';
export const RESOURCE = 'http://localhost:8000/mcp';
export const REDIRECT = 'https://client.example/callback';
export const SCOPES = { read: 'Read your data', write: 'Change your data', admin: 'Administer' };

export interface Setup {
  as: AuthorizationServer;
  store: TokenStore;
  clock: { now: number };
}

/** A server on the memory store, rate limits off unless asked, with a settable clock. */
export async function setup(
  overrides: Partial<AuthorizationServerOptions> = {},
  store?: TokenStore,
): Promise<Setup> {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const theStore = store ?? createTokenStore({ adapter: memoryAdapter(), now: () => clock.now });
  const as = await createAuthorizationServer({
    issuer: ISSUER,
    store: theStore,
    resources: [{ uri: RESOURCE }],
    scopes: SCOPES,
    defaultScopes: ['read'],
    rateLimit: false,
    now: () => clock.now,
    // The tests' resource servers register themselves; the default (none) is tested on its own.
    introspection: { allow: () => true },
    ...overrides,
  });
  return { as, store: theStore, clock };
}

export function url(path: string, base = ISSUER): string {
  return base.replace(/\/$/, '') + path;
}

export function form(
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
  base = ISSUER,
): Request {
  return new Request(url(path, base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

export function basic(id: string, secret: string): Record<string, string> {
  return {
    Authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
  };
}

export async function register(
  as: AuthorizationServer,
  metadata: Record<string, unknown>,
  base = ISSUER,
) {
  const response = await as.handle(
    new Request(url('/register', base), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(metadata),
    }),
  );
  return { response: response!, body: (await response!.json()) as Record<string, unknown> };
}

export async function publicClient(as: AuthorizationServer, extra: Record<string, unknown> = {}) {
  const { body } = await register(as, {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none',
    client_name: 'Test client',
    ...extra,
  });
  return body.client_id as string;
}

export async function confidentialClient(
  as: AuthorizationServer,
  method: 'client_secret_basic' | 'client_secret_post' = 'client_secret_basic',
) {
  const { body } = await register(as, {
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: method,
  });
  return { clientId: body.client_id as string, secret: body.client_secret as string };
}

export function authorizeParams(params: Record<string, string | undefined>): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out.set(k, v);
  return out;
}

/** Runs /authorize as the app would (parse + approve) and returns the code and the verifier. */
export async function obtainCode(
  as: AuthorizationServer,
  clientId: string,
  options: {
    redirectUri?: string;
    scope?: string;
    resource?: string;
    userId?: string;
    state?: string;
    nonce?: string;
    authTime?: number;
    /** RFC 9449 §10: the DPoP key the code is to be bound to. */
    dpopJkt?: string;
  } = {},
) {
  const pkce = await createPkcePair();
  const result = await as.authorization.parse(
    authorizeParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: options.redirectUri ?? REDIRECT,
      code_challenge: pkce.codeChallenge,
      code_challenge_method: 'S256',
      state: options.state ?? 'xyz',
      scope: options.scope,
      resource: options.resource ?? RESOURCE,
      nonce: options.nonce,
      dpop_jkt: options.dpopJkt,
    }),
  );
  if (!result.ok)
    throw new Error(
      `authorize failed: ${result.response.status} ${result.response.headers.get('location')}`,
    );
  const response = await result.pending.approve(
    options.userId ?? 'user-1',
    options.authTime !== undefined ? { authTime: options.authTime } : {},
  );
  const location = new URL(response.headers.get('location')!);
  return {
    code: location.searchParams.get('code')!,
    verifier: pkce.codeVerifier,
    location,
    response,
  };
}

/** A code from `obtainCode` and the token request's parameters to redeem it (a public client). */
export async function codeParams(
  as: AuthorizationServer,
  clientId: string,
  options: Parameters<typeof obtainCode>[2] = {},
): Promise<Record<string, string>> {
  const { code, verifier } = await obtainCode(as, clientId, options);
  return {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    client_id: clientId,
  };
}

export async function exchange(
  as: AuthorizationServer,
  params: Record<string, string>,
  headers: Record<string, string> = {},
  path = '/token',
) {
  const response = (await as.handle(form(path, params, headers)))!;
  return { response, body: (await response.json()) as Record<string, unknown> };
}

/**
 * A node:http server on 127.0.0.1:0 serving a fetch handler, as clients reach a real deployment.
 * Without `handler`, `serve()` mounts one once the origin is known: `serve(as.handle)` is how
 * the README mounts the server (toNodeHandler then takes its bodies without web streams).
 */
export async function listen(
  handler?: (request: Request) => Promise<Response | undefined>,
): Promise<{
  origin: string;
  server: Server;
  serve(handler: (request: Request) => Promise<Response | undefined>): void;
  close(): Promise<void>;
}> {
  let origin = '';
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const serve = (h: (request: Request) => Promise<Response | undefined>) => {
    const node = toNodeHandler(h, { origin });
    server.on('request', (req, res) => void node(req, res));
  };
  if (handler) serve(handler);
  return {
    origin,
    server,
    serve,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const MACHINE = 'nightly-report';
export const MACHINE_SECRET = 'machine-secret-0123456789abcdef';

/** An operator's machine client (client credentials), saved straight to the store as an app's configuration does. */
export async function saveMachineClient(
  store: TokenStore,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  await store.clients.save({
    clientId: MACHINE,
    clientIdIssuedAt: 0,
    createdAt: 0,
    expiresAt: null,
    redirectUris: [],
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    responseTypes: [],
    scope: 'read write',
    clientSecretHash: await hashSecret(MACHINE_SECRET),
    clientSecretExpiresAt: 0,
    ...overrides,
  });
}

/**
 * A memory adapter that names each call it gets (`find(client)`, `rotate`, …) in `calls`: what a
 * grant costs in store steps.
 */
export function countingAdapter(inner: StoreAdapter = memoryAdapter()): {
  adapter: StoreAdapter;
  calls: string[];
} {
  const calls: string[] = [];
  const adapter = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]) => {
        calls.push(typeof args[0] === 'string' ? `${name}(${args[0]})` : name);
        return value.apply(target, args);
      };
    },
  });
  return { adapter, calls };
}
