// The token bench's anchor (./token.mjs): node-oidc-provider 9.13.3 in memory
// on node:http, issuing what the app issues (ES256 at+jwt access tokens for one resource,
// rotating refresh tokens) to confidential clients bench-0…bench-199 (client_secret_basic).
// Its adapter is a plain Map (the provider's development adapter is an LRU of 1000 entries, fewer
// than the bench's codes and grants). POST /bench/code makes a code outside the measurement, as interactionFinished() would persist
// it (a Grant, then an AuthorizationCode); everything else is the provider's own routing.
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const { PORT, RESOURCE, REDIRECT_URI } = process.env;
const origin = `http://127.0.0.1:${PORT}`;
const entries = new Map();
class MapAdapter {
  constructor(model) {
    this.model = model;
  }
  key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload) {
    entries.set(this.key(id), payload);
    if (payload.grantId) {
      const list = entries.get(`grant:${payload.grantId}`) ?? [];
      entries.set(`grant:${payload.grantId}`, [...list, this.key(id)]);
    }
  }
  async find(id) {
    return entries.get(this.key(id));
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id) {
    const payload = entries.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    entries.delete(this.key(id));
  }
  async revokeByGrantId(grantId) {
    for (const key of entries.get(`grant:${grantId}`) ?? []) entries.delete(key);
    entries.delete(`grant:${grantId}`);
  }
}

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const provider = new Provider(origin, {
  adapter: MapAdapter,
  clients: Array.from({ length: 200 }, (_, n) => ({
    client_id: `bench-${n}`,
    client_secret: `bench-secret-${n}`,
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
  })),
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'k1' }] },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  scopes: ['read'],
  pkce: { required: () => true },
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, AuthorizationCode: 600, Grant: 1_209_600, RefreshToken: 1_209_600 },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
const callback = provider.callback();

async function makeCode(request, response) {
  let body = '';
  for await (const chunk of request) body += chunk;
  const { client_id: clientId, code_challenge: codeChallenge } = JSON.parse(body);
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ accountId: 'bench', clientId });
  grant.addResourceScope(RESOURCE, 'read');
  const grantId = await grant.save();
  const code = await new provider.AuthorizationCode({
    accountId: 'bench',
    client,
    grantId,
    redirectUri: REDIRECT_URI,
    scope: 'read',
    resource: RESOURCE,
    codeChallenge,
    codeChallengeMethod: 'S256',
    authTime: Math.floor(Date.now() / 1000),
  }).save();
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ code }));
}

createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/bench/code') {
    makeCode(request, response).catch((error) => {
      response.writeHead(500);
      response.end(String(error));
    });
  } else callback(request, response);
}).listen(Number(PORT), '127.0.0.1');
