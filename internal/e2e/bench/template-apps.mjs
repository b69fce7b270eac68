// The built template app (apps/mcp-server) with auth on and off, for the benches that drive its
// request listener themselves (./mcp-in-process.mjs, ./mcp-same-process.mjs): auth on checks
// ES256 RFC 9068 access tokens as AUTH_MODE=oauth does, against a key made here. Run
// `pnpm build` first: the built workspace packages are imported by path (e2e does not depend
// on mcp-context).
import { generateKeyPairSync, sign } from 'node:crypto';
import { createApp } from '../../../apps/mcp-server/dist/app.js';
import { loadConfig } from '../../../apps/mcp-server/dist/config.js';
import { createLimiter } from '../../../apps/mcp-server/dist/limiter.js';
import { createLogger } from '../../../apps/mcp-server/dist/log.js';
import { jwtVerifier } from '../../../packages/mcp-context/dist/index.js';

export const RESOURCE = 'http://127.0.0.1:8000/mcp';
export const ISSUER = 'http://127.0.0.1:3000';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' };
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * An access token for RESOURCE, valid for an hour. The default `jti` length makes it ~516
 * characters in all, as the authorization server's access tokens.
 * @param {string} [jti]
 */
export function accessToken(jti = 'x'.repeat(112)) {
  const now = Math.floor(Date.now() / 1000);
  const signingInput = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${b64({
    iss: ISSUER,
    aud: RESOURCE,
    sub: 'user-1',
    client_id: 'client-1',
    scope: 'read write',
    iat: now,
    exp: now + 3600,
    jti,
  })}`;
  const signature = sign('sha256', Buffer.from(signingInput), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** The token verifier AUTH_MODE=oauth makes, for this key (`cache: false` for none). */
export const verifier = (options = {}) =>
  jwtVerifier({ issuer: ISSUER, audience: RESOURCE, profile: 'rfc9068', key, ...options });

const logger = createLogger('error');

/**
 * The template's request listener: `authMode` 'oauth' (with `stub` as its verifier when given)
 * or 'none'.
 * @param {'oauth' | 'none'} authMode
 * @param {import('@portcullis/mcp-context').TokenVerifier} [stub]
 */
export async function templateApp(authMode, stub) {
  const config = loadConfig({
    AUTH_MODE: authMode,
    MCP_RESOURCE_URL: RESOURCE,
    ISSUER_URL: ISSUER,
    RATE_LIMIT_PER_MINUTE: '1000000',
  });
  const { limiter } = await createLimiter(config);
  const check = authMode === 'none' ? undefined : (stub ?? verifier());
  return createApp({ config, verifier: check, limiter, logger });
}
