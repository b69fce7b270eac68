import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirebaseTokenError, verifyFirebaseIdToken } from '../src/lib/firebase-token';

const project = 'demo-portcullis';
const now = Math.floor(Date.now() / 1000);

function unsigned(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

const good = {
  iss: `https://securetoken.google.com/${project}`,
  aud: project,
  sub: 'uid-1',
  user_id: 'uid-1',
  email: 'fiona@example.com',
  iat: now - 10,
  auth_time: now - 10,
  exp: now + 3600,
};

describe('Firebase ID token verification', () => {
  it('accepts an emulator (unsigned) token only in emulator mode, with its claims', async () => {
    await expect(
      verifyFirebaseIdToken(unsigned(good), { projectId: project, emulator: true }),
    ).resolves.toEqual({
      uid: 'uid-1',
      email: 'fiona@example.com',
      emailVerified: false,
      name: undefined,
    });
  });

  it('refuses an unsigned token outside emulator mode (no key is fetched for alg none)', async () => {
    await expect(
      verifyFirebaseIdToken(unsigned(good), { projectId: project, emulator: false }),
    ).rejects.toBeInstanceOf(FirebaseTokenError);
  });

  it.each([
    ['another project as issuer', { iss: 'https://securetoken.google.com/other' }],
    ['another audience', { aud: 'other' }],
    ['an expired token', { exp: now - 60 }],
    ['auth_time in the future', { auth_time: now + 600 }],
    ['no auth_time', { auth_time: undefined }],
    ['no subject', { sub: '' }],
  ])('refuses %s, even from the emulator', async (_name, patch) => {
    await expect(
      verifyFirebaseIdToken(unsigned({ ...good, ...patch }), {
        projectId: project,
        emulator: true,
      }),
    ).rejects.toBeInstanceOf(FirebaseTokenError);
  });

  it('refuses a non-string or oversized token', async () => {
    await expect(
      verifyFirebaseIdToken(undefined, { projectId: project, emulator: true }),
    ).rejects.toThrow();
    await expect(
      verifyFirebaseIdToken('a'.repeat(9000), { projectId: project, emulator: true }),
    ).rejects.toThrow();
  });
});

describe('Firebase ID token verification: the signed path, against a key set served here', () => {
  let server: Server;
  let jwksUrl: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let keyRequests = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const other = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    otherKey = other.privateKey;
    // Google's securetoken key set has this shape: RS256 keys, each with its kid.
    const jwks = JSON.stringify({
      keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }],
    });
    server = createServer((_req, res) => {
      keyRequests++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
      res.end(jwks);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwk`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function signed(
    claims: Record<string, unknown>,
    options: { kid?: string; with?: CryptoKey } = {},
  ): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'key-1', typ: 'JWT' })
      .sign(options.with ?? key);
  }
  const verify = (token: string) =>
    verifyFirebaseIdToken(token, { projectId: project, emulator: false, jwksUrl });

  it('accepts a Firebase-shaped ID token signed by a key of the configured key set', async () => {
    await expect(
      verify(await signed({ ...good, name: 'Fiona', email_verified: true })),
    ).resolves.toEqual({
      uid: 'uid-1',
      email: 'fiona@example.com',
      emailVerified: true,
      name: 'Fiona',
    });
    // Only a literal true counts as verified.
    await expect(verify(await signed({ ...good, email_verified: 'true' }))).resolves.toMatchObject({
      emailVerified: false,
    });
    expect(keyRequests).toBeGreaterThan(0);
  });

  it.each([
    ['a wrong issuer', { iss: 'https://securetoken.google.com/other' }],
    ['an issuer of another service', { iss: 'https://accounts.google.com' }],
    ['a wrong audience', { aud: 'other' }],
    ['two audiences', { aud: [project, 'other'] }],
    ['an expired token', { exp: now - 60 }],
    ['auth_time in the future', { auth_time: now + 600 }],
    ['iat in the future', { iat: now + 600 }],
    ['no auth_time', { auth_time: undefined }],
    ['no subject', { sub: undefined }],
  ])('refuses %s', async (_name, patch) => {
    await expect(verify(await signed({ ...good, ...patch }))).rejects.toBeInstanceOf(
      FirebaseTokenError,
    );
  });

  it('refuses a signature by another key under a known kid, and an unknown kid', async () => {
    await expect(verify(await signed(good, { with: otherKey }))).rejects.toBeInstanceOf(
      FirebaseTokenError,
    );
    await expect(
      verify(await signed(good, { kid: 'key-2', with: otherKey })),
    ).rejects.toBeInstanceOf(FirebaseTokenError);
  });

  it('refuses another algorithm and an unsigned token even when the rest is right', async () => {
    const hs = await new SignJWT(good)
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    await expect(verify(hs)).rejects.toBeInstanceOf(FirebaseTokenError);
    await expect(verify(unsigned(good))).rejects.toBeInstanceOf(FirebaseTokenError);
  });

  it('a token whose payload was changed after signing is refused', async () => {
    const [header, , signature] = (await signed(good)).split('.');
    const forged = Buffer.from(JSON.stringify({ ...good, sub: 'uid-2' })).toString('base64url');
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toBeInstanceOf(
      FirebaseTokenError,
    );
  });
});
