import { createServer } from 'node:http';
import { freePort } from '@portcullis/internal-testing/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTokenError, jwtVerifier, VerifierUnavailableError } from '../src/index.js';
import { createTestIssuer, type TestIssuer } from '../src/testing/index.js';

const RESOURCE = 'http://127.0.0.1:8000/mcp';
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer?.close());

const token = () =>
  issuer.mintToken(
    { sub: 'alice', client_id: 'app', aud: RESOURCE, scope: 'read' },
    { expiresIn: 300 },
  );

describe('jwtVerifier: JWKS discovery from the issuer metadata (RFC 8414 §3)', () => {
  it('RFC 8414 §3: finds jwks_uri in the authorization server metadata and verifies', async () => {
    const verify = jwtVerifier({ issuer: issuer.issuer, audience: RESOURCE, cache: false });
    const info = await verify(await token());
    expect(info.userId).toBe('alice');
    expect(issuer.jwksRequests).toBeGreaterThan(0);
    await expect(verify(`${await token()}x`)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('RFC 8414 §3.3: refuses metadata whose issuer differs from the configured one', async () => {
    const verify = jwtVerifier({ issuer: `${issuer.issuer}/`, audience: RESOURCE, cache: false });
    const attempt = verify(await token());
    await expect(attempt).rejects.toBeInstanceOf(VerifierUnavailableError);
    await expect(attempt).rejects.toThrow(/names issuer/);
  });

  it('retries discovery when the authorization server was not up yet', async () => {
    // A port that nothing listens on, then a server that answers there.
    const port = await freePort();
    const late = `http://127.0.0.1:${port}`;
    const verify = jwtVerifier({
      issuer: late,
      audience: RESOURCE,
      cache: false,
      jwks: { timeoutMs: 1000 },
    });
    await expect(verify('a.b.c')).rejects.toBeDefined();
    const signed = await issuer.mintToken(
      { iss: late, sub: 'bob', client_id: 'app', aud: RESOURCE, scope: 'read' },
      { expiresIn: 300 },
    );
    await expect(verify(signed)).rejects.toBeInstanceOf(VerifierUnavailableError);

    const server = createServer((req, res) => {
      if (req.url === '/.well-known/oauth-authorization-server') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ issuer: late, jwks_uri: issuer.jwksUri }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect((await verify(signed)).userId).toBe('bob');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
