import type { ConsentRecord } from '../types.js';
import type { StoreContext } from './context.js';
import { assertNonEmptyString, assertString, assertStringArray } from './errors.js';

export interface ConsentStore {
  /** Records that the user let the client have `scopes`, added to what was granted before. */
  grant(userId: string, clientId: string, scopes: string[]): Promise<ConsentRecord>;
  find(userId: string, clientId: string): Promise<ConsentRecord | undefined>;
  listByUser(userId: string): Promise<ConsentRecord[]>;
  /** Withdraws a consent and revokes every grant (tokens, refresh tokens) that user gave that client. */
  revoke(userId: string, clientId: string): Promise<boolean>;
}

/** One consent per user × client; both parts are escaped so no pair of ids can collide. */
export function consentId(userId: string, clientId: string): string {
  return `${encodeURIComponent(userId)}|${encodeURIComponent(clientId)}`;
}

export function consentStore(ctx: StoreContext): ConsentStore {
  return {
    async grant(userId, clientId, scopes) {
      assertNonEmptyString(userId, 'userId');
      assertNonEmptyString(clientId, 'clientId');
      assertStringArray(scopes, 'scopes');
      const now = ctx.now();
      const id = consentId(userId, clientId);
      const existing = await ctx.adapter.find('consent', id, { now });
      const record: ConsentRecord = {
        userId,
        clientId,
        scopes: [...new Set([...(existing?.scopes ?? []), ...scopes])],
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        expiresAt: null,
      };
      await ctx.adapter.set('consent', id, record);
      return record;
    },

    async find(userId, clientId) {
      assertString(userId, 'userId');
      assertString(clientId, 'clientId');
      return ctx.adapter.find('consent', consentId(userId, clientId), { now: ctx.now() });
    },

    async listByUser(userId) {
      assertString(userId, 'userId');
      return ctx.adapter.listByUser('consent', userId, { now: ctx.now() });
    },

    async revoke(userId, clientId) {
      assertString(userId, 'userId');
      assertString(clientId, 'clientId');
      const now = ctx.now();
      const existed = await ctx.adapter.delete('consent', consentId(userId, clientId));
      const [refresh, access] = await Promise.all([
        ctx.adapter.listByUser('refresh_token', userId, { now }),
        ctx.adapter.listByUser('access_token', userId, { now }),
      ]);
      const families = new Set(
        [...refresh, ...access]
          .filter((record) => record.clientId === clientId)
          .map((record) => record.familyId),
      );
      for (const familyId of families) await ctx.adapter.revokeFamily(familyId);
      return existed;
    },
  };
}
