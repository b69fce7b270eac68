import { describe, expect, it } from 'vitest';
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
