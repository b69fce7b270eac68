import type { ConsentRecord } from '../types.js';
import { revokeFamily, type StoreContext } from './context.js';
import { assertNonEmptyString, assertString, assertStringArray } from './errors.js';

export interface ConsentStore {
  /**
   * Records that the user let the client have `scopes` at `resource` (RFC 8707), added to what
   * was granted before for that same resource.
   */
  grant(
    userId: string,
    clientId: string,
    scopes: string[],
    options?: { resource?: string },
  ): Promise<ConsentRecord>;
  /** The consent of user × client × resource (`resource` omitted: the one bound to none). */
  find(
    userId: string,
    clientId: string,
    options?: { resource?: string },
  ): Promise<ConsentRecord | undefined>;
  listByUser(userId: string): Promise<ConsentRecord[]>;
  /**
   * Withdraws every consent the user gave the client (all resources) and revokes every grant
   * of that user × client: outstanding codes, access tokens and refresh tokens. Resolves whether
   * there was anything to withdraw.
   */
  revoke(userId: string, clientId: string): Promise<boolean>;
}

/** One consent per user × client × resource; each part is escaped so no ids can collide. */
export function consentId(userId: string, clientId: string, resource?: string): string {
  const base = `${encodeURIComponent(userId)}|${encodeURIComponent(clientId)}`;
  return resource === undefined ? base : `${base}|${encodeURIComponent(resource)}`;
}

export function consentStore(ctx: StoreContext): ConsentStore {
  return {
    async grant(userId, clientId, scopes, options = {}) {
      assertNonEmptyString(userId, 'userId');
      assertNonEmptyString(clientId, 'clientId');
      assertStringArray(scopes, 'scopes');
      const { resource } = options;
      if (resource !== undefined) assertNonEmptyString(resource, 'options.resource');
      const now = ctx.now();
      const id = consentId(userId, clientId, resource);
      const existing = await ctx.adapter.find('consent', id, { now });
      const record: ConsentRecord = {
        userId,
        clientId,
        ...(resource === undefined ? {} : { resource }),
        scopes: [...new Set([...(existing?.scopes ?? []), ...scopes])],
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        expiresAt: null,
      };
      await ctx.adapter.set('consent', id, record);
      return record;
    },

    async find(userId, clientId, options = {}) {
      assertString(userId, 'userId');
      assertString(clientId, 'clientId');
      if (options.resource !== undefined) assertString(options.resource, 'options.resource');
      return ctx.adapter.find('consent', consentId(userId, clientId, options.resource), {
        now: ctx.now(),
      });
    },

    async listByUser(userId) {
      assertString(userId, 'userId');
      return ctx.adapter.listByUser('consent', userId, { now: ctx.now() });
    },

    async revoke(userId, clientId) {
      assertString(userId, 'userId');
      assertString(clientId, 'clientId');
      const now = ctx.now();
      const consents = (await ctx.adapter.listByUser('consent', userId, { now })).filter(
        (consent) => consent.clientId === clientId,
      );
      let existed = false;
      for (const consent of consents) {
        if (await ctx.adapter.delete('consent', consentId(userId, clientId, consent.resource))) {
          existed = true;
        }
      }
      // Codes included: a code issued before the withdrawal must not redeem after it.
      const [codes, refresh, access] = await Promise.all([
        ctx.adapter.listByUser('authorization_code', userId, { now }),
        ctx.adapter.listByUser('refresh_token', userId, { now }),
        ctx.adapter.listByUser('access_token', userId, { now }),
      ]);
      const families = new Set(
        [...codes, ...refresh, ...access]
          .filter((record) => record.clientId === clientId)
          .map((record) => record.familyId),
      );
      for (const familyId of families) await revokeFamily(ctx, familyId);
      return existed || families.size > 0;
    },
  };
}
