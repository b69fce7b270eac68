import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
} from 'jose';
import type { AuthorizationServerStore, SigningKeyRecord } from './store.js';
import { invalidArg, invalidArgType } from './type-error.js';

export const SIGNING_ALG = 'ES256';

/** A published verification key (RFC 7517), as it appears in the JWKS. */
export interface PublicJwk extends JWK {
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

export interface ActiveKey {
  kid: string;
  key: CryptoKey;
}

export interface KeyManager {
  signingKey(): Promise<ActiveKey>;
  /**
   * The key `signingKey()` would resolve to now, when that is known without waiting (the
   * same choice made moments ago, still valid); else `undefined`.
   */
  current(): ActiveKey | undefined;
  publicKeys(): Promise<PublicJwk[]>;
  rotate(options?: { publishSeconds?: number }): Promise<{ kid: string; activatesAt: number }>;
  invalidate(): void;
}

interface KeyOptions {
  store: AuthorizationServerStore;
  signingKey?: JWK | string | undefined;
  now: () => number;
  accessTokenTtlSeconds: number;
  /** How long store-backed keys are cached in memory before the store is read again. */
  reloadMs?: number;
}

const DEFAULT_PUBLISH_SECONDS = 600;

function toPublic(jwk: JWK, kid: string): PublicJwk {
  return {
    kty: jwk.kty,
    crv: jwk.crv,
    x: jwk.x,
    y: jwk.y,
    kid,
    alg: SIGNING_ALG,
    use: 'sig',
  } as PublicJwk;
}

/** Reads a configured key: a private EC P-256 JWK, or a PKCS#8 PEM. */
async function importConfiguredKey(
  input: JWK | string,
): Promise<{ kid: string; key: CryptoKey; publicJwk: PublicJwk }> {
  let key: CryptoKey;
  let jwk: JWK;
  if (typeof input === 'string') {
    if (!input.includes('-----BEGIN PRIVATE KEY-----')) {
      throw invalidArg(
        '"signingKey" PEM must be a PKCS#8 "BEGIN PRIVATE KEY" block for an EC P-256 key (convert with: openssl pkcs8 -topk8 -nocrypt)',
      );
    }
    try {
      key = (await importPKCS8(input, SIGNING_ALG, { extractable: true })) as CryptoKey;
    } catch (cause) {
      throw invalidArg('"signingKey" PEM is not an EC P-256 private key', cause);
    }
    jwk = await exportJWK(key);
  } else if (typeof input === 'object' && input !== null) {
    if (input.kty !== 'EC' || input.crv !== 'P-256' || typeof input.d !== 'string') {
      throw invalidArg(
        '"signingKey" JWK must be a private EC P-256 key (kty "EC", crv "P-256", with "d")',
      );
    }
    jwk = input;
    try {
      key = (await importJWK({ ...input, alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey;
    } catch (cause) {
      throw invalidArg('"signingKey" JWK could not be imported', cause);
    }
  } else {
    throw invalidArgType('"signingKey" must be a JWK object or a PEM string');
  }
  const kid = typeof jwk.kid === 'string' && jwk.kid ? jwk.kid : await calculateJwkThumbprint(jwk);
  return { kid, key, publicJwk: toPublic(jwk, kid) };
}

/**
 * ES256 keys: one from configuration, or generated once and kept (sealed) in the token store.
 * Rotation publishes the new key `publishSeconds` before it signs, and keeps the old one
 * published until the access tokens it signed have expired.
 */
export function createKeyManager(options: KeyOptions): KeyManager {
  const { store, now } = options;
  const reloadMs = options.reloadMs ?? 30_000;
  const imported = new Map<string, CryptoKey>();
  let configured: Promise<{ kid: string; key: CryptoKey; publicJwk: PublicJwk }> | undefined;
  if (options.signingKey !== undefined) configured = importConfiguredKey(options.signingKey);
  type Loaded = { at: number; keys: Promise<SigningKeyRecord[]> };
  let loaded: Loaded | undefined;
  let configuredKey: ActiveKey | undefined;
  /**
   * The last choice of `signingKey()`: it stands while the same load is fresh and no key of it
   * activates or expires, so `current()` returns it without a promise.
   */
  let chosenKey: { key: ActiveKey; source: Loaded; from: number; until: number } | undefined;

  function usable(records: SigningKeyRecord[]): SigningKeyRecord[] {
    const t = now();
    return records.filter(
      (r) => r.alg === SIGNING_ALG && (r.expiresAt === null || r.expiresAt > t),
    );
  }

  async function load(): Promise<SigningKeyRecord[]> {
    return (await loadFrom()).records;
  }

  /** The usable keys, and the load they come from. */
  async function loadFrom(): Promise<{ source: Loaded; records: SigningKeyRecord[] }> {
    if (!loaded || now() - loaded.at > reloadMs || now() < loaded.at) {
      const keys = (async () => {
        let records = usable(await store.signingKeys.list());
        if (records.length === 0) {
          await store.signingKeys.save(await newKeyRecord(now()));
          records = usable(await store.signingKeys.list());
        }
        return records;
      })();
      loaded = { at: now(), keys };
      keys.catch(() => {
        if (loaded?.keys === keys) loaded = undefined;
      });
    }
    const source = loaded;
    return { source, records: usable(await source.keys) };
  }

  function current(): ActiveKey | undefined {
    if (configured) return configuredKey;
    if (chosenKey === undefined || chosenKey.source !== loaded) return undefined;
    const t = now();
    return t >= chosenKey.from && t < chosenKey.until ? chosenKey.key : undefined;
  }

  async function signingKey(): Promise<ActiveKey> {
    if (configured) {
      const { kid, key } = await configured;
      configuredKey ??= { kid, key };
      return { kid, key };
    }
    const { source, records } = await loadFrom();
    const t = now();
    const active = records.filter((r) => r.activatesAt <= t);
    const pool = active.length > 0 ? active : records;
    // Newest activated key signs; a tie (two instances generating at once) is broken by kid.
    const chosen = pool.reduce((best, r) =>
      active.length > 0
        ? r.activatesAt > best.activatesAt ||
          (r.activatesAt === best.activatesAt && r.kid > best.kid)
          ? r
          : best
        : r.activatesAt < best.activatesAt
          ? r
          : best,
    );
    let key = imported.get(chosen.kid);
    if (!key) {
      key = (await importJWK(
        { ...(chosen.privateJwk as JWK), alg: SIGNING_ALG },
        SIGNING_ALG,
      )) as CryptoKey;
      imported.set(chosen.kid, key);
    }
    const result = { kid: chosen.kid, key };
    // The same choice stands until the load goes stale or a key activates or expires.
    let until = source.at + reloadMs;
    for (const r of records) {
      if (r.activatesAt > t) until = Math.min(until, r.activatesAt);
      if (r.expiresAt !== null) until = Math.min(until, r.expiresAt);
    }
    chosenKey = { key: result, source, from: Math.max(t, source.at), until };
    return result;
  }

  async function publicKeys(): Promise<PublicJwk[]> {
    if (configured) return [(await configured).publicJwk];
    return (await load())
      .slice()
      .sort((a, b) => b.activatesAt - a.activatesAt)
      .map(
        (r) => ({ ...(r.publicJwk as JWK), kid: r.kid, alg: SIGNING_ALG, use: 'sig' }) as PublicJwk,
      );
  }

  async function rotate(rotateOptions: { publishSeconds?: number } = {}) {
    if (configured) {
      throw invalidArg(
        'signing keys from configuration are rotated by configuration, not rotate()',
      );
    }
    const publishSeconds = rotateOptions.publishSeconds ?? DEFAULT_PUBLISH_SECONDS;
    if (!Number.isFinite(publishSeconds) || publishSeconds < 0) {
      throw invalidArg('"publishSeconds" must be a number of seconds >= 0');
    }
    const t = now();
    const activatesAt = t + publishSeconds * 1000;
    const existing = usable(await store.signingKeys.list());
    const record = await newKeyRecord(t, activatesAt);
    await store.signingKeys.save(record);
    // Old keys keep verifying until every access token they signed has expired.
    const retireAt = activatesAt + options.accessTokenTtlSeconds * 1000 + 60_000;
    for (const old of existing) {
      if (old.status === 'retiring' && old.expiresAt !== null && old.expiresAt <= retireAt)
        continue;
      await store.signingKeys.save({ ...old, status: 'retiring', expiresAt: retireAt });
    }
    loaded = undefined;
    return { kid: record.kid, activatesAt };
  }

  return { signingKey, current, publicKeys, rotate, invalidate: () => (loaded = undefined) };
}

async function newKeyRecord(createdAt: number, activatesAt = createdAt): Promise<SigningKeyRecord> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk);
  return {
    kid,
    alg: SIGNING_ALG,
    publicJwk: toPublic(privateJwk, kid) as unknown as Record<string, unknown>,
    privateJwk: { ...privateJwk, kid, alg: SIGNING_ALG } as Record<string, unknown>,
    status: 'active',
    activatesAt,
    createdAt,
    expiresAt: null,
  };
}
