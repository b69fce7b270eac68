import type { ClientRecord } from '../types.js';
import { constantTimeEqual } from './constant-time.js';
import { compact, type StoreContext } from './context.js';
import {
  assertNonEmptyString,
  assertObject,
  assertOptionalSeconds,
  assertString,
  assertStringArray,
  CodedTypeError,
} from './errors.js';
import { sha256 } from './sha256.js';

export interface ClientStore {
  /**
   * Stores (or replaces) a registered client (RFC 7591 §3.2.1). Holds the secret's hash only.
   * `ttlSeconds` makes it expire that long from now on the store's clock (an unused dynamic
   * client); without it the record's own `expiresAt` applies (`null`: kept).
   */
  save(record: ClientRecord, options?: { ttlSeconds?: number }): Promise<ClientRecord>;
  find(clientId: string): Promise<ClientRecord | undefined>;
  /**
   * A client for a grant step (the token endpoint): from this process's memory where the adapter
   * checks clients in the grant's own atomic step (`checksClients`: Postgres, one Redis), else
   * read as `find` does. Pass it as `client` to `codes.consume` or `refreshTokens.rotate`, which
   * then check it as it was read, in the same step (`ClientChangedError` when it no longer
   * matches: nothing was done). Decide any refusal that depends on it again on `find`.
   */
  lookup(clientId: string): Promise<ClientRecord | undefined>;
  delete(clientId: string): Promise<boolean>;
  list(options?: { limit?: number }): Promise<ClientRecord[]>;
  /**
   * Deletes clients whose expiry has passed (unused dynamic clients) and resolves their ids, at
   * most `limit` (default 100, up to 1000) a call; call it again while it returns a full batch.
   * Each id goes to one caller only, however many sweep at once. Call it more often than the
   * adapter's `expiredRetentionSeconds` (default 300): memory and Postgres/PGlite drop expired
   * records on their own after that, unreported. Rejects with a TypeError when the adapter has
   * no `sweepExpiredClients`.
   */
  sweepExpired(options?: { limit?: number }): Promise<string[]>;
  /**
   * Checks a presented client secret against the stored hash in constant time; `false` for a
   * public client or a secret past `clientSecretExpiresAt` (RFC 7591 §3.2.1).
   */
  verifySecret(client: ClientRecord, secret: string): Promise<boolean>;
}

export function clientStore(ctx: StoreContext): ClientStore {
  return {
    async save(record, options = {}) {
      assertObject(record, 'record');
      assertNonEmptyString(record.clientId, 'record.clientId');
      assertStringArray(record.redirectUris, 'record.redirectUris');
      const metadata = record.metadata ?? {};
      if ('client_secret' in metadata || 'clientSecret' in record) {
        throw new CodedTypeError(
          'a client record must not hold the clear client secret: store `clientSecretHash = await hashSecret(secret)`',
          'ERR_INVALID_ARG_VALUE',
        );
      }
      assertOptionalSeconds(options.ttlSeconds, 'ttlSeconds');
      const now = ctx.now();
      const stored = compact({
        ...record,
        createdAt: record.createdAt ?? now,
        expiresAt:
          options.ttlSeconds !== undefined
            ? now + options.ttlSeconds * 1000
            : (record.expiresAt ?? null),
      });
      ctx.clients.forget(record.clientId);
      await ctx.adapter.set('client', record.clientId, stored);
      ctx.clients.forget(record.clientId);
      return stored;
    },

    async find(clientId) {
      assertString(clientId, 'clientId');
      return ctx.adapter.find('client', clientId, { now: ctx.now() });
    },

    async lookup(clientId) {
      assertString(clientId, 'clientId');
      const now = ctx.now();
      if (ctx.adapter.checksClients !== true) return ctx.adapter.find('client', clientId, { now });
      const kept = ctx.clients.get(clientId, now);
      if (kept !== undefined) return kept;
      const found = await ctx.adapter.find('client', clientId, { now });
      return found === undefined ? undefined : ctx.clients.keep(found);
    },

    async delete(clientId) {
      assertString(clientId, 'clientId');
      ctx.clients.forget(clientId);
      try {
        return await ctx.adapter.delete('client', clientId);
      } finally {
        ctx.clients.forget(clientId);
      }
    },

    async list(options = {}) {
      return ctx.adapter.list('client', { limit: options.limit ?? 100, now: ctx.now() });
    },

    async sweepExpired(options = {}) {
      const limit = options.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new CodedTypeError(
          '"limit" must be an integer from 1 to 1000',
          'ERR_INVALID_ARG_VALUE',
        );
      }
      if (typeof ctx.adapter.sweepExpiredClients !== 'function') {
        throw new CodedTypeError(
          'this store adapter cannot sweep expired clients (no sweepExpiredClients)',
          'ERR_INVALID_ARG_TYPE',
        );
      }
      const ids = await ctx.adapter.sweepExpiredClients(ctx.now(), limit);
      for (const id of ids) ctx.clients.forget(id);
      return ids;
    },

    async verifySecret(client, secret) {
      assertObject(client, 'client');
      assertString(secret, 'secret');
      if (!client.clientSecretHash) return false;
      const expiresAt = client.clientSecretExpiresAt ?? 0;
      if (expiresAt !== 0 && expiresAt * 1000 <= ctx.now()) return false;
      return constantTimeEqual(await sha256(secret), client.clientSecretHash);
    },
  };
}
