/// <reference types="node" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';

export interface MintOptions {
  /** Seconds until `exp`; default 3600. Negative mints an already expired token. */
  expiresIn?: number;
  /** Signs with the key of this `kid` (a current or rotated-out key); default the current key. */
  kid?: string;
  /** `ES256` (default), `none` (an unsecured JWT, to test refusal), or `HS256` with `secret`. */
  alg?: 'ES256' | 'none' | 'HS256';
  /** Key for `HS256`. */
  secret?: Uint8Array;
  /** Extra or overriding protected header parameters (default `typ: 'at+jwt'`). */
  header?: Record<string, unknown>;
}

export interface TestIssuer {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  /** `<issuer>/jwks.json`, served with every key not yet removed. */
  jwksUri: string;
  /** The current signing key's `kid`. */
  readonly kid: string;
  /** The current public key as published. */
  readonly publicJwk: JWK;
  /** How many times the JWKS was fetched (to check caching and refetch on a new `kid`). */
  readonly jwksRequests: number;
  /**
   * Signs an RFC 9068 access token: `iss` this issuer, `iat` now, `exp` now + `expiresIn`, a
   * random `jti`, `typ: at+jwt`, then your claims (`sub`, `aud`, `client_id`, `scope`, …).
   */
  mintToken(claims?: JWTPayload & Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** Makes a new ES256 key current (new `kid`); old keys stay published unless `dropPrevious`. */
  rotateKey(options?: { dropPrevious?: boolean }): Promise<string>;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = crypto.randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

/**
 * A local authorization server stand-in for integration tests: an ES256 key pair, its JWKS
 * served over `node:http` on 127.0.0.1 (a free port) with RFC 8414 metadata, and
 * `mintToken(claims)` to issue RFC 9068 access tokens — plus `rotateKey()` to test key
 * rotation, and `alg: 'none'` / `HS256` / negative `expiresIn` to mint the tokens a verifier
 * must refuse ([RFC 9068 §2](https://www.rfc-editor.org/rfc/rfc9068#section-2)).
 *
 * @example
 * const issuer = await createTestIssuer();
 * const verifier = jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, jwksUri: issuer.jwksUri });
 * const token = await issuer.mintToken({ sub: 'alice', aud: RESOURCE, client_id: 'app', scope: 'read' });
 * await issuer.close();
 */
export async function createTestIssuer(): Promise<TestIssuer> {
  let keys: SigningKey[] = [await newKey()];
  let jwksRequests = 0;
  const current = () => keys[keys.length - 1]!;

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/jwks.json') {
      jwksRequests++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ keys: keys.map((key) => key.publicJwk) }));
      return;
    }
    if (path === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/jwks.json`,
          response_types_supported: ['code'],
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  return {
    issuer,
    jwksUri: `${issuer}/jwks.json`,
    get kid() {
      return current().kid;
    },
    get publicJwk() {
      return { ...current().publicJwk };
    },
    get jwksRequests() {
      return jwksRequests;
    },
    async mintToken(claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: issuer,
        iat: now,
        exp: now + (options.expiresIn ?? 3600),
        jti: crypto.randomUUID(),
        ...claims,
      };
      const alg = options.alg ?? 'ES256';
      if (alg === 'none') {
        return new UnsecuredJWT(payload).encode();
      }
      if (alg === 'HS256') {
        if (!options.secret) throw new TypeError('mintToken: HS256 needs a "secret"');
        return new SignJWT(payload)
          .setProtectedHeader({ typ: 'at+jwt', ...options.header, alg: 'HS256' })
          .sign(options.secret);
      }
      const key = options.kid ? keys.find((k) => k.kid === options.kid) : current();
      if (!key) throw new TypeError(`mintToken: no key with kid "${options.kid}"`);
      return new SignJWT(payload)
        .setProtectedHeader({ typ: 'at+jwt', kid: key.kid, ...options.header, alg: 'ES256' })
        .sign(key.privateKey);
    },
    async rotateKey(options = {}) {
      const key = await newKey();
      keys = options.dropPrevious ? [key] : [...keys, key];
      return key.kid;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
