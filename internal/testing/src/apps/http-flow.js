// The OAuth flow driven over plain HTTP, as a browser would but without one: next-auth's dev
// login, /authorize, the consent form, the token endpoint. For tests about storage and load,
// where a page adds nothing; the browser tests drive the real pages. Plain JavaScript with JSDoc
// types: the e2e bench imports it under plain `node`.
import { createHash, randomBytes } from 'node:crypto';

export class CookieJar {
  /** @type {Map<string, string>} */
  cookies = new Map();

  /** @param {Response} response */
  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Signs in with the development login through next-auth's own endpoints.
 * @param {string} issuer
 * @param {string} email
 */
export async function devLogin(issuer, email, jar = new CookieJar()) {
  const csrf = await fetch(`${issuer}/api/auth/csrf`, { headers: { cookie: jar.header() } });
  jar.store(csrf);
  const { csrfToken } = /** @type {{ csrfToken: string }} */ (await csrf.json());
  const callback = await fetch(`${issuer}/api/auth/callback/dev-login`, {
    method: 'POST',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrfToken, email, json: 'true', callbackUrl: '/account' }),
    redirect: 'manual',
  });
  jar.store(callback);
  if (![...jar.cookies.keys()].some((k) => k.endsWith('next-auth.session-token'))) {
    throw new Error(`dev login failed: HTTP ${callback.status}`);
  }
  return jar;
}

/** @param {string} value */
function unescapeHtml(value) {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * @param {string} html
 * @param {string} name
 */
function hiddenField(html, name) {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no ${name} field on the consent page`);
  return unescapeHtml(match[1]);
}

/**
 * Follows /authorize as the signed-in user and approves on the consent page when it is shown.
 * Resolves the redirect to the client (with code, state, iss).
 * @param {string} issuer
 * @param {CookieJar} jar
 * @param {URL} url the authorization request
 * @returns {Promise<{ callback: URL, consentShown: boolean }>}
 */
export async function authorizeOverHttp(issuer, jar, url) {
  const first = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
  const location = first.headers.get('location');
  if (!location) throw new Error(`/authorize answered ${first.status} without a redirect`);
  const target = new URL(location, issuer);
  if (target.origin !== issuer || target.pathname !== '/consent') {
    return { callback: target, consentShown: false };
  }
  const page = await fetch(target, { headers: { cookie: jar.header() } });
  const html = await page.text();
  const decision = await fetch(`${issuer}/authorize/decision`, {
    method: 'POST',
    headers: {
      cookie: jar.header(),
      origin: issuer,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      request: hiddenField(html, 'request'),
      csrf: hiddenField(html, 'csrf'),
      decision: 'approve',
    }),
    redirect: 'manual',
  });
  // The decision is a form POST: 303 See Other back to the client, nothing else.
  const back = decision.headers.get('location');
  if (decision.status !== 303 || !back) {
    throw new Error(`the consent decision answered ${decision.status} instead of a 303 redirect`);
  }
  return { callback: new URL(back), consentShown: true };
}

/** RFC 7636 S256: a fresh verifier and its challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/**
 * @typedef {object} RegisteredClient
 * @property {string} client_id
 * @property {string} [client_secret]
 * @property {string} token_endpoint_auth_method
 */

/**
 * Registers a client with Dynamic Client Registration (RFC 7591).
 * @param {string} issuer
 * @param {{ redirectUri: string, name?: string, confidential?: boolean, endpoint?: string }} options
 *   `endpoint`: the registration_endpoint from discovery (RFC 8414), `<issuer>/register` when absent
 * @returns {Promise<RegisteredClient>}
 */
export async function registerClient(
  issuer,
  { redirectUri, name = 'e2e client', confidential, endpoint = `${issuer}/register` },
) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: confidential ? 'client_secret_basic' : 'none',
    }),
  });
  if (response.status !== 201) {
    throw new Error(`registration answered ${response.status}: ${await response.text()}`);
  }
  return /** @type {RegisteredClient} */ (await response.json());
}

/**
 * The token endpoint's request headers for a client (Basic auth when it has a secret).
 * @param {RegisteredClient} client
 * @returns {Record<string, string>}
 */
function clientHeaders(client) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.client_secret) {
    const id = encodeURIComponent(client.client_id);
    const secret = encodeURIComponent(client.client_secret);
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  }
  return headers;
}

/**
 * The body and headers of a token request, ready for fetch or autocannon.
 * @param {RegisteredClient} client
 * @param {Record<string, string>} params
 */
export function tokenRequest(client, params) {
  const body = new URLSearchParams(params);
  if (!client.client_secret) body.set('client_id', client.client_id);
  return { headers: clientHeaders(client), body: body.toString() };
}

/**
 * @typedef {object} Tokens
 * @property {string} access_token
 * @property {string} token_type
 * @property {number} expires_in
 * @property {string} [refresh_token]
 * @property {string} [scope]
 */

/**
 * Signs in, authorizes and exchanges the code: a whole authorization code flow over HTTP.
 * @param {{ issuer: string, resource: string, client: RegisteredClient, redirectUri: string, scope: string, jar: CookieJar }} options
 * @returns {Promise<Tokens>}
 */
export async function codeFlow({ issuer, resource, client, redirectUri, scope, jar }) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource,
  }).toString();
  const { callback } = await authorizeOverHttp(issuer, jar, url);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) {
    throw new Error(`no code in the redirect: ${callback.search}`);
  }
  const request = tokenRequest(client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    resource,
  });
  const response = await fetch(`${issuer}/token`, { method: 'POST', ...request });
  if (!response.ok) throw new Error(`token answered ${response.status}: ${await response.text()}`);
  return /** @type {Tokens} */ (await response.json());
}

/**
 * RFC 6749 §6: exchanges a refresh token; resolves the raw response.
 * @param {{ issuer: string, resource: string, client: RegisteredClient, refreshToken: string, headers?: Record<string, string> }} options
 */
export function refreshGrant({ issuer, resource, client, refreshToken, headers = {} }) {
  const request = tokenRequest(client, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    resource,
  });
  return fetch(`${issuer}/token`, {
    method: 'POST',
    ...request,
    headers: { ...request.headers, ...headers },
  });
}

/**
 * One JSON-RPC request to a stateless Streamable HTTP MCP endpoint.
 * @param {string} url
 * @param {string | undefined} token
 * @param {string} method
 * @param {Record<string, unknown>} [params]
 */
export function mcpRequest(url, token, method, params = {}) {
  /** @type {Record<string, string>} */
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
}

/** The auth server's user ids (the tokens' `sub`): opaque, `u_` and 128 random bits. */
export const OPAQUE_SUB = /^u_[\w-]{22}$/;

/**
 * Decodes a JWT's payload (its signature is checked by the tests of the resource server).
 * @param {string} jwt
 * @returns {Record<string, unknown>}
 */
export function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/**
 * The attributes of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
 * @param {string | null} header
 * @returns {Record<string, string>}
 */
export function bearerChallenge(header) {
  /** @type {Record<string, string>} */
  const out = {};
  if (!header?.startsWith('Bearer')) return out;
  for (const m of header.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    out[/** @type {string} */ (m[1])] = /** @type {string} */ (m[2]).replace(/\\(.)/g, '$1');
  }
  return out;
}
