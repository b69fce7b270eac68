import * as nodeCrypto from 'node:crypto';
import { decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { type NodeSign, signWith } from '../src/lib/sign-jwt.js';

describe('ES256 access-token signing', () => {
  const header = { alg: 'ES256', typ: 'at+jwt', kid: 'k1' } as const;
  const payload = { iss: 'https://as.example', sub: 'alice', aud: 'https://rs.example/mcp' };

  for (const [name, node] of [
    ['node:crypto', nodeCrypto as unknown as NodeSign],
    ['Web Crypto (runtimes without node:crypto)', undefined],
  ] as const) {
    it(`${name}: a JWS that jose verifies with the public key, and no other key`, async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const other = await generateKeyPair('ES256');
      const token = await signWith(node, header, payload, privateKey as CryptoKey);
      expect(decodeProtectedHeader(token)).toEqual(header);
      const { payload: verified } = await jwtVerify(token, publicKey, { typ: 'at+jwt' });
      expect(verified).toEqual(payload);
      await expect(jwtVerify(token, other.publicKey)).rejects.toThrow();
      // Tampering with the payload breaks the signature.
      const [h, , s] = token.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'mallory' })).toString('base64url')}.${s}`;
      await expect(jwtVerify(forged, publicKey)).rejects.toThrow();
    });
  }
});
