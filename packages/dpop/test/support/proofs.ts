import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import {
  createMemoryReplayStore,
  type DpopAlgorithm,
  type ProofKey,
  type PublicJwk,
  type VerifyProofOptions,
} from '../../src/index.js';

export const URL_ = 'https://mcp.example.com/mcp';
export const NOW_MS = 1_780_000_000_000;
export const NOW = NOW_MS / 1000;
const encoder = new TextEncoder();

/** A key pair whose public JWK is exactly what jose exports (extra members included). */
export async function keyPair(alg: DpopAlgorithm = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
  });
  const publicJwk = (await exportJWK(publicKey)) as PublicJwk;
  return { privateKey, publicKey, publicJwk, alg } as ProofKey & { publicKey: CryptoKey };
}

/** Signs any header and payload as a compact JWS, so tests can make proofs the library refuses. */
export async function signRaw(
  key: { privateKey: CryptoKey; alg: string },
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.alg, ...header } as { alg: string })
    .sign(key.privateKey);
}

/** A well-formed proof's header and payload for `key`, to be altered one member at a time. */
export function parts(key: { publicJwk: PublicJwk; alg: string }) {
  return {
    header: { alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk } as Record<string, unknown>,
    payload: {
      jti: crypto.randomUUID(),
      htm: 'POST',
      htu: URL_,
      iat: NOW,
    } as Record<string, unknown>,
  };
}

/** verifyProof options at the fixed clock, with a fresh memory replay store. */
export function options(extra: Partial<VerifyProofOptions> = {}): VerifyProofOptions {
  return {
    method: 'POST',
    url: URL_,
    now: () => NOW_MS,
    replay: createMemoryReplayStore({ now: () => NOW_MS }),
    ...extra,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs with Web Crypto directly, for proofs jose would refuse to make (an unknown `crit`, an
 * `alg` that does not fit the key, an RSA key under 2048 bits).
 */
export async function signManually(
  privateKey: CryptoKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const params =
    privateKey.algorithm.name === 'ECDSA'
      ? { name: 'ECDSA', hash: 'SHA-256' }
      : { name: 'RSA-PSS', saltLength: 32 };
  const signature = await crypto.subtle.sign(params, privateKey, encoder.encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
