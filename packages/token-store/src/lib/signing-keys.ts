import { KeyDecryptionError } from '../errors.js';
import type { SigningKeyRecord } from '../types.js';
import type { StoreContext } from './context.js';
import { assertNonEmptyString, assertObject, assertString } from './errors.js';
import { deriveKeyEncryptionKey, isSealed, openJwk, sealJwk } from './seal.js';
import { warnOnce } from './warn-once.js';

export interface SigningKeyStore {
  /** Stores a signing key; the private JWK is AES-GCM sealed before it reaches the adapter. */
  save(record: SigningKeyRecord): Promise<SigningKeyRecord>;
  find(kid: string): Promise<SigningKeyRecord | undefined>;
  /** Every unexpired key, private JWKs opened. */
  list(): Promise<SigningKeyRecord[]>;
  delete(kid: string): Promise<boolean>;
}

export function signingKeyStore(ctx: StoreContext, secret: string | undefined): SigningKeyStore {
  let kek: Promise<CryptoKey> | undefined;
  const keyEncryptionKey = () => {
    kek ??= deriveKeyEncryptionKey(secret!);
    return kek;
  };

  async function open(record: SigningKeyRecord): Promise<SigningKeyRecord> {
    if (!isSealed(record.privateJwk)) return record;
    if (secret === undefined) {
      throw new KeyDecryptionError(
        `Signing key "${record.kid}" is sealed and this store has no keyEncryptionSecret`,
      );
    }
    return {
      ...record,
      privateJwk: await openJwk(await keyEncryptionKey(), record.kid, record.privateJwk),
    };
  }

  return {
    async save(record) {
      assertObject(record, 'record');
      assertNonEmptyString(record.kid, 'record.kid');
      assertObject(record.privateJwk, 'record.privateJwk');
      assertObject(record.publicJwk, 'record.publicJwk');
      let privateJwk: Record<string, unknown> = record.privateJwk;
      if (secret !== undefined) {
        privateJwk = { ...(await sealJwk(await keyEncryptionKey(), record.kid, privateJwk)) };
      } else {
        warnOnce(
          'clear-keys',
          'no keyEncryptionSecret: signing keys are stored in clear. This is allowed outside production only.',
        );
      }
      await ctx.adapter.set('signing_key', record.kid, { ...record, privateJwk });
      return record;
    },

    async find(kid) {
      assertString(kid, 'kid');
      const record = await ctx.adapter.find('signing_key', kid, { now: ctx.now() });
      return record && open(record);
    },

    async list() {
      const records = await ctx.adapter.list('signing_key', { now: ctx.now() });
      return Promise.all(records.map(open));
    },

    async delete(kid) {
      assertString(kid, 'kid');
      return ctx.adapter.delete('signing_key', kid);
    },
  };
}
