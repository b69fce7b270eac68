import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BindingMismatchError,
  ClientChangedError,
  type ClientRecord,
  createTokenStore,
  FamilyRevokedError,
  generateSecret,
  hashSecret,
  InvalidCursorError,
  InvalidTokenError,
  KeyDecryptionError,
  RefreshTokenReuseError,
  type SigningKeyRecord,
  type StoreAdapter,
  TokenExpiredError,
  TokenManager,
  type TokenStore,
} from '../../src/index.js';

/** One backend under test: a fresh, empty adapter, a textual dump of all it stores, cleanup. */
export interface Backend {
  adapter: StoreAdapter;
  /** Everything the backend holds, as text: what an attacker with a dump would read. */
  dump(): Promise<string>;
  close(): Promise<void>;
}

export const KEY_SECRET = 'conformance-key-encryption-secret-0123456789';
const BASE64URL_256 = /^[A-Za-z0-9_-]{43}$/;

const codeData = (overrides: Record<string, unknown> = {}) => ({
  clientId: 'client-a',
  userId: 'user-1',
  redirectUri: 'http://127.0.0.1:9999/callback',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  codeChallengeMethod: 'S256' as const,
  scopes: ['read', 'write'],
  resource: 'http://localhost:8000/mcp',
  ...overrides,
});

export async function signingKey(kid: string): Promise<SigningKeyRecord> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as Record<
    string,
    unknown
  >;
  const publicJwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as Record<
    string,
    unknown
  >;
  return {
    kid,
    alg: 'ES256',
    publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' },
    privateJwk: { ...privateJwk, kid, alg: 'ES256' },
    status: 'active',
    activatesAt: Date.now(),
    createdAt: Date.now(),
    expiresAt: null,
  };
}

export function clientRecord(clientId: string, secretHash?: string): ClientRecord {
  return {
    clientId,
    clientSecretHash: secretHash,
    clientSecretExpiresAt: 0,
    clientIdIssuedAt: Math.floor(Date.now() / 1000),
    redirectUris: ['http://127.0.0.1:9999/callback'],
    tokenEndpointAuthMethod: secretHash ? 'client_secret_basic' : 'none',
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    clientName: `Client ${clientId}`,
    createdAt: Date.now(),
    expiresAt: null,
  };
}

/**
 * The conformance suite every adapter must pass unchanged. `open` gives a fresh, isolated
 * backend per test. The store runs on an injected clock so TTLs are tested without waiting.
 */
export function conformance(name: string, open: () => Promise<Backend>): void {
  describe(`conformance: ${name}`, () => {
    let backend: Backend;
    let clock: { now: number };
    let store: TokenStore;

    beforeEach(async () => {
      backend = await open();
      clock = { now: Date.now() };
      store = createTokenStore({
        adapter: backend.adapter,
        now: () => clock.now,
        keyEncryptionSecret: KEY_SECRET,
        production: false,
      });
    });

    afterEach(async () => {
      await backend.close();
    });

    const advance = (seconds: number) => {
      clock.now += seconds * 1000;
    };

    describe('authorization codes', () => {
      it('RFC 6749 §4.1.2: a code is a 256-bit random value that lives 60 s by default', async () => {
        const { code, record } = await store.codes.issue(codeData());
        expect(code).toMatch(BASE64URL_256);
        expect(record.expiresAt! - record.createdAt).toBe(60_000);
        expect(record.familyId).toMatch(BASE64URL_256);
        const { code: other } = await store.codes.issue(codeData());
        expect(other).not.toBe(code);
      });

      it('RFC 6749 §4.1.2: a code is single use (consumed, then already_consumed with its record)', async () => {
        const { code } = await store.codes.issue(codeData({ extra: { nonce: 'n-1' } }));
        const first = await store.codes.consume(code);
        expect(first.status).toBe('consumed');
        if (first.status !== 'consumed') throw new Error('unreachable');
        expect(first.record).toMatchObject({
          clientId: 'client-a',
          userId: 'user-1',
          scopes: ['read', 'write'],
          resource: 'http://localhost:8000/mcp',
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          extra: { nonce: 'n-1' },
          consumedAt: clock.now,
        });
        const second = await store.codes.consume(code);
        expect(second.status).toBe('already_consumed');
        if (second.status !== 'already_consumed') throw new Error('unreachable');
        expect(second.record.familyId).toBe(first.record.familyId);
      });

      it('RFC 6749 §4.1.2: unknown, malformed and expired codes are not_found', async () => {
        expect((await store.codes.consume(generateSecret())).status).toBe('not_found');
        expect((await store.codes.consume('not a code')).status).toBe('not_found');
        const { code } = await store.codes.issue(codeData());
        advance(61);
        expect((await store.codes.consume(code)).status).toBe('not_found');
      });

      it('RFC 6749 §10.5: 50 concurrent consumes of one code, exactly one is consumed', async () => {
        const { code } = await store.codes.issue(codeData());
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.codes.consume(code)),
        );
        const statuses = results.map((result) => result.status);
        expect(statuses.filter((status) => status === 'consumed')).toHaveLength(1);
        expect(statuses.filter((status) => status === 'already_consumed')).toHaveLength(49);
      });

      it('RFC 6749 §4.1.3: consume with match spends only a code that holds those values, in the same step; a refused one is left as it was', async () => {
        const { code } = await store.codes.issue(codeData());
        const id = await hashSecret(code);
        const right = {
          clientId: 'client-a',
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          redirectUri: 'http://127.0.0.1:9999/callback',
          resource: 'http://localhost:8000/mcp',
        };
        const wrong = [
          { ...right, codeChallenge: 'x'.repeat(43) },
          { ...right, clientId: 'client-b' },
          { ...right, redirectUri: 'http://127.0.0.1:9999/other' },
          { ...right, resource: 'http://localhost:8000/other' },
          { ...right, scopes: 'read' }, // a field that is not that string
          { ...right, nonexistent: 'x' },
        ];
        for (const match of wrong) {
          expect(
            (await backend.adapter.consume('authorization_code', id, clock.now, { match })).status,
          ).toBe('not_found');
          expect((await store.codes.consume(code, { match })).status).toBe('not_found');
        }
        expect((await store.codes.find(code))?.consumedAt).toBeUndefined();
        // Deterministic interleaving: right, then a wrong one (still not_found: no replay
        // detection, no record for a request that does not match), then right again (replay).
        const first = await store.codes.consume(code, { match: right });
        expect(first).toMatchObject({ status: 'consumed', record: { consumedAt: clock.now } });
        for (const match of wrong) {
          expect((await store.codes.consume(code, { match })).status).toBe('not_found');
        }
        const replay = await store.codes.consume(code, { match: { clientId: 'client-a' } });
        expect(replay.status).toBe('already_consumed');
        // An expired code matches nothing.
        const { code: late } = await store.codes.issue(codeData());
        advance(61);
        expect((await store.codes.consume(late, { match: right })).status).toBe('not_found');
      });

      it('RFC 6749 §10.5: 20 concurrent consumes with match, half of them not matching: one matching caller wins, no other spends it', async () => {
        for (let round = 0; round < 5; round++) {
          const { code } = await store.codes.issue(codeData());
          const right = { clientId: 'client-a', redirectUri: 'http://127.0.0.1:9999/callback' };
          const wrong = { clientId: 'client-a', redirectUri: 'http://127.0.0.1:9999/evil' };
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              store.codes.consume(code, { match: i % 2 === 0 ? wrong : right }),
            ),
          );
          const statuses = results.map((result) => result.status);
          expect(statuses.filter((_, i) => i % 2 === 0).every((s) => s === 'not_found')).toBe(true);
          const matching = statuses.filter((_, i) => i % 2 === 1);
          expect(matching.filter((s) => s === 'consumed')).toHaveLength(1);
          expect(matching.filter((s) => s === 'already_consumed')).toHaveLength(9);
        }
      });

      it('RFC 6749 §10.5: 50 concurrent consumes of one refresh token at the adapter, exactly one wins', async () => {
        const { token } = await store.refreshTokens.issue({
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['read'],
        });
        const id = await hashSecret(token);
        const results = await Promise.all(
          Array.from({ length: 50 }, () => backend.adapter.consume('refresh_token', id, clock.now)),
        );
        expect(results.filter((result) => result.status === 'consumed')).toHaveLength(1);
      });
    });

    describe('access tokens', () => {
      it('RFC 6750 §3.1: a valid token validates to its record; default lifetime 1 h', async () => {
        const { token, record } = await store.accessTokens.issue({
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['read'],
          resource: 'http://localhost:8000/mcp',
        });
        expect(token).toMatch(BASE64URL_256);
        expect(record.expiresAt! - record.createdAt).toBe(3_600_000);
        expect(await store.accessTokens.validate(token)).toEqual(record);
        expect(await store.accessTokens.find(token)).toEqual(record);
      });

      it('RFC 6750 §3.1: an unknown or malformed token is invalid_token', async () => {
        await expect(store.accessTokens.validate(generateSecret())).rejects.toBeInstanceOf(
          InvalidTokenError,
        );
        await expect(store.accessTokens.validate('')).rejects.toMatchObject({
          code: 'invalid_token',
        });
        await expect(store.accessTokens.validate('x'.repeat(5000))).rejects.toBeInstanceOf(
          InvalidTokenError,
        );
        expect(await store.accessTokens.find(generateSecret())).toBeUndefined();
      });

      it('RFC 6750 §3.1: a token past its TTL is expired at once and invisible to find', async () => {
        const { token, record } = await store.accessTokens.issue(
          { userId: 'user-1', clientId: 'client-a', scopes: ['read'] },
          { ttlSeconds: 10 },
        );
        advance(9);
        expect((await store.accessTokens.validate(token)).familyId).toBe(record.familyId);
        advance(1);
        const error = await store.accessTokens.validate(token).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TokenExpiredError);
        expect(error).toMatchObject({ code: 'expired', expiredAt: record.expiresAt });
        expect(await store.accessTokens.find(token)).toBeUndefined();
        expect((await store.tokensByUser('user-1')).accessTokens).toHaveLength(0);
      });

      it('RFC 7009 §2.1: a revoked token is invalid at once', async () => {
        const { token } = await store.accessTokens.issue({
          userId: 'user-1',
          clientId: 'client-a',
          scopes: [],
        });
        expect(await store.accessTokens.revoke(token)).toBe(true);
        await expect(store.accessTokens.validate(token)).rejects.toBeInstanceOf(InvalidTokenError);
        expect(await store.accessTokens.revoke(token)).toBe(false);
      });

      it('per-artifact TTLs are configurable on the store and per token', async () => {
        const custom = createTokenStore({
          adapter: backend.adapter,
          now: () => clock.now,
          ttl: { authorizationCode: 30, accessToken: 600, refreshToken: 7200 },
          production: false,
        });
        const code = await custom.codes.issue(codeData());
        const access = await custom.accessTokens.issue({ userId: 'u', clientId: 'c', scopes: [] });
        const refresh = await custom.refreshTokens.issue({
          userId: 'u',
          clientId: 'c',
          scopes: [],
        });
        const short = await custom.accessTokens.issue(
          { userId: 'u', clientId: 'c', scopes: [] },
          { ttlSeconds: 5 },
        );
        expect(code.record.expiresAt! - code.record.createdAt).toBe(30_000);
        expect(access.record.expiresAt! - access.record.createdAt).toBe(600_000);
        expect(refresh.record.expiresAt! - refresh.record.createdAt).toBe(7_200_000);
        expect(short.record.expiresAt! - short.record.createdAt).toBe(5_000);
        expect(store.ttl).toEqual({
          authorizationCode: 60,
          accessToken: 3600,
          refreshToken: 1_209_600,
          grant: 7_776_000,
        });
      });
    });

    describe('refresh tokens', () => {
      async function grant() {
        const code = await store.codes.issue(codeData());
        const { familyId } = code.record;
        const access = await store.accessTokens.issue({
          familyId,
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['read', 'write'],
        });
        const refresh = await store.refreshTokens.issue({
          familyId,
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['read', 'write'],
          resource: 'http://localhost:8000/mcp',
        });
        return { familyId, code: code.code, access: access.token, refresh: refresh.token };
      }

      it('RFC 9700 §4.14.2: rotation returns a new token in the same family and spends the old one', async () => {
        const { familyId, refresh } = await grant();
        expect((await store.refreshTokens.find(refresh))?.expiresAt).toBe(
          clock.now + 1_209_600_000,
        );
        advance(5);
        const rotated = await store.refreshTokens.rotate(refresh);
        expect(rotated.token).toMatch(BASE64URL_256);
        expect(rotated.token).not.toBe(refresh);
        expect(rotated.record).toMatchObject({
          familyId,
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['read', 'write'],
          resource: 'http://localhost:8000/mcp',
        });
        expect(rotated.record.consumedAt).toBeUndefined();
        expect(rotated.previous.consumedAt).toBe(clock.now);
        expect((await store.refreshTokens.find(refresh))?.consumedAt).toBe(clock.now);
      });

      it('RFC 9700 §4.14.2: rotating the same token twice revokes the whole family', async () => {
        const { familyId, code, access, refresh } = await grant();
        const rotated = await store.refreshTokens.rotate(refresh, { graceSeconds: 0 });
        const error = await store.refreshTokens
          .rotate(refresh, { graceSeconds: 0 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RefreshTokenReuseError);
        expect(error).toMatchObject({ code: 'token_reused', familyId });
        // Every other token of the grant is gone, the newest one included.
        await expect(store.refreshTokens.rotate(rotated.token)).rejects.toBeInstanceOf(
          InvalidTokenError,
        );
        expect(await store.refreshTokens.find(rotated.token)).toBeUndefined();
        await expect(store.accessTokens.validate(access)).rejects.toBeInstanceOf(InvalidTokenError);
        expect((await store.codes.consume(code)).status).toBe('not_found');
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('RFC 9700 §4.14.2: within the grace window a replay gets the same successor; after it, reuse revokes', async () => {
        const { familyId, refresh } = await grant();
        const first = await store.refreshTokens.rotate(refresh, { graceSeconds: 10 });
        advance(5);
        const retry = await store.refreshTokens.rotate(refresh, { graceSeconds: 10 });
        expect(retry.record.familyId).toBe(familyId);
        expect(retry.token).toBe(first.token);
        expect(retry.record).toEqual(first.record);
        // The client rotated the successor meanwhile: a late replay gets the head of the chain.
        const second = await store.refreshTokens.rotate(first.token, { graceSeconds: 10 });
        const late = await store.refreshTokens.rotate(refresh, { graceSeconds: 10 });
        expect(late.token).toBe(second.token);
        advance(6);
        await expect(
          store.refreshTokens.rotate(refresh, { graceSeconds: 10 }),
        ).rejects.toBeInstanceOf(RefreshTokenReuseError);
        expect(await store.refreshTokens.find(first.token)).toBeUndefined();
        expect(await store.refreshTokens.find(second.token)).toBeUndefined();
      });

      it('RFC 9700 §4.14.2: the grace window is 30 s by default; 0 turns it off', async () => {
        const { refresh } = await grant();
        const first = await store.refreshTokens.rotate(refresh);
        advance(30);
        expect((await store.refreshTokens.rotate(refresh)).token).toBe(first.token);
        advance(1);
        await expect(store.refreshTokens.rotate(refresh)).rejects.toBeInstanceOf(
          RefreshTokenReuseError,
        );
        const other = await grant();
        await store.refreshTokens.rotate(other.refresh, { graceSeconds: 0 });
        await expect(
          store.refreshTokens.rotate(other.refresh, { graceSeconds: 0 }),
        ).rejects.toBeInstanceOf(RefreshTokenReuseError);
      });

      it('the successor is stored sealed: a dump holds neither it nor anything that opens it', async () => {
        const { refresh } = await grant();
        const rotated = await store.refreshTokens.rotate(refresh);
        const dump = await backend.dump();
        expect(dump).toContain(await hashSecret(rotated.token));
        expect(dump).not.toContain(rotated.token);
        expect(dump).not.toContain(refresh);
      });

      it('RFC 6749 §6: unknown refresh tokens are invalid, expired ones expired', async () => {
        await expect(store.refreshTokens.rotate(generateSecret())).rejects.toBeInstanceOf(
          InvalidTokenError,
        );
        await expect(store.refreshTokens.rotate('short')).rejects.toBeInstanceOf(InvalidTokenError);
        const { token } = await store.refreshTokens.issue(
          { userId: 'user-1', clientId: 'client-a', scopes: [] },
          { ttlSeconds: 60 },
        );
        advance(61);
        await expect(store.refreshTokens.rotate(token)).rejects.toBeInstanceOf(TokenExpiredError);
      });

      it('RFC 7009 §2.1: revoking a refresh token revokes its family', async () => {
        const { access, refresh, familyId } = await grant();
        const other = await grant();
        expect(await store.refreshTokens.revoke(refresh)).toBe(true);
        await expect(store.accessTokens.validate(access)).rejects.toBeInstanceOf(InvalidTokenError);
        expect(await store.refreshTokens.revoke(refresh)).toBe(false);
        expect(await store.revokeFamily(familyId)).toBe(0);
        expect((await store.accessTokens.validate(other.access)).familyId).toBe(other.familyId);
        // code, access token, refresh token of the other grant
        expect(await store.revokeFamily(other.familyId)).toBe(3);
      });
    });

    describe('family revocation is final (RFC 9700 §4.14.2)', () => {
      const tokenData = (familyId: string) => ({
        familyId,
        userId: 'user-1',
        clientId: 'client-a',
        scopes: ['read'],
      });

      it('consume → revoke → store, by hand: the successor of a consumed token is never stored', async () => {
        const { token, record } = await store.refreshTokens.issue(tokenData(generateSecret()));
        const consumed = await backend.adapter.consume(
          'refresh_token',
          await hashSecret(token),
          clock.now,
        );
        expect(consumed.status).toBe('consumed');
        expect(await store.revokeFamily(record.familyId)).toBe(1);
        const successor = generateSecret();
        const { consumedAt: _, ...fresh } = { ...record, createdAt: clock.now };
        expect(await backend.adapter.set('refresh_token', await hashSecret(successor), fresh)).toBe(
          false,
        );
        expect(await store.refreshTokens.find(successor)).toBeUndefined();
        // Through the facade every kind of the family is refused, codes included.
        await expect(store.refreshTokens.issue(tokenData(record.familyId))).rejects.toBeInstanceOf(
          FamilyRevokedError,
        );
        await expect(store.accessTokens.issue(tokenData(record.familyId))).rejects.toMatchObject({
          code: 'family_revoked',
          familyId: record.familyId,
        });
        await expect(
          store.codes.issue(codeData({ familyId: record.familyId })),
        ).rejects.toBeInstanceOf(FamilyRevokedError);
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
        // Other families are untouched.
        expect((await store.refreshTokens.issue(tokenData(generateSecret()))).token).toMatch(
          BASE64URL_256,
        );
      });

      it('code consumed → family revoked → tokens from the code are refused', async () => {
        const { code, record } = await store.codes.issue(codeData());
        expect((await store.codes.find(code))?.consumedAt).toBeUndefined();
        expect((await store.codes.consume(code)).status).toBe('consumed');
        await store.revokeFamily(record.familyId);
        await expect(store.accessTokens.issue(tokenData(record.familyId))).rejects.toBeInstanceOf(
          FamilyRevokedError,
        );
        expect(await store.codes.find(code)).toBeUndefined();
        expect((await store.codes.consume(code)).status).toBe('not_found');
      });

      it('the marker is kept at least as long as the family’s longest-lived token', async () => {
        const familyId = generateSecret();
        const long = await store.refreshTokens.issue(tokenData(familyId), { ttlSeconds: 5000 });
        await store.accessTokens.issue(tokenData(familyId), { ttlSeconds: 60 });
        await store.revokeFamily(familyId);
        const marker = await backend.adapter.find('family', familyId, { now: clock.now });
        expect(marker?.revokedAt).toBe(clock.now);
        expect(marker?.expiresAt).toBeGreaterThanOrEqual(long.record.expiresAt!);
        advance(4999);
        await expect(store.refreshTokens.issue(tokenData(familyId))).rejects.toBeInstanceOf(
          FamilyRevokedError,
        );
      });

      async function assertFamilyDead(tokens: TokenManager, issued: string[], access: string[]) {
        for (const token of issued) {
          await expect(tokens.rotate(token, { graceSeconds: 0 })).rejects.toMatchObject({
            code: expect.stringMatching(/^(invalid_token|token_reused|family_revoked)$/),
          });
          expect(await store.refreshTokens.find(token)).toBeUndefined();
        }
        for (const token of access) expect(await store.accessTokens.find(token)).toBeUndefined();
      }

      it('20 concurrent refreshes of one token, then the original again (10 rounds, no grace): nothing of the family survives', async () => {
        const tokens = new TokenManager(store);
        for (let round = 0; round < 10; round++) {
          const issued = await tokens.issue('user-1', ['read'], {
            clientId: 'client-a',
            refresh: true,
          });
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, () =>
              tokens.rotate(issued.refreshToken!, { graceSeconds: 0 }),
            ),
          );
          const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
          expect(won.length).toBeLessThanOrEqual(1);
          // Found spent (revokes again) or already gone with its family: refused either way.
          await expect(
            tokens.rotate(issued.refreshToken!, { graceSeconds: 0 }),
          ).rejects.toMatchObject({
            code: expect.stringMatching(/^(invalid_token|token_reused)$/),
          });
          await assertFamilyDead(
            tokens,
            won.map((w) => w.refreshToken),
            [issued.accessToken, ...won.map((w) => w.accessToken)],
          );
        }
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('20 concurrent refreshes within the grace window get one successor; the original after it revokes everything (10 rounds)', async () => {
        const tokens = new TokenManager(store);
        for (let round = 0; round < 10; round++) {
          const issued = await tokens.issue('user-1', ['read'], {
            clientId: 'client-a',
            refresh: true,
          });
          const results = await Promise.all(
            Array.from({ length: 20 }, () => tokens.rotate(issued.refreshToken!)),
          );
          expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);
          expect(new Set(results.map((r) => r.familyId))).toEqual(new Set([issued.familyId]));
          advance(31);
          await expect(tokens.rotate(issued.refreshToken!)).rejects.toBeInstanceOf(
            RefreshTokenReuseError,
          );
          await assertFamilyDead(
            tokens,
            [results[0]!.refreshToken],
            [issued.accessToken, ...results.map((r) => r.accessToken)],
          );
        }
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('rotation never extends a token past the grant’s absolute lifetime', async () => {
        const limited = createTokenStore({
          adapter: backend.adapter,
          now: () => clock.now,
          ttl: { refreshToken: 60, accessToken: 30, grant: 100 },
          production: false,
        });
        const born = clock.now;
        const first = await limited.refreshTokens.issue(tokenData(generateSecret()));
        expect(first.record.grantExpiresAt).toBe(born + 100_000);
        advance(50);
        const second = await limited.refreshTokens.rotate(first.token);
        expect(second.record.expiresAt).toBe(born + 100_000);
        expect(second.record.grantExpiresAt).toBe(born + 100_000);
        advance(45);
        const access = await limited.accessTokens.issue({
          ...tokenData(first.record.familyId),
          grantExpiresAt: second.record.grantExpiresAt,
        });
        expect(access.record.expiresAt).toBe(born + 100_000);
        advance(6);
        await expect(limited.refreshTokens.rotate(second.token)).rejects.toBeInstanceOf(
          TokenExpiredError,
        );
      });
    });

    describe('combined operations: one write per grant step', () => {
      const grantData = (familyId?: string) => ({
        ...(familyId === undefined ? {} : { familyId }),
        userId: 'user-1',
        clientId: 'client-a',
        scopes: ['read', 'write'],
        resource: 'http://localhost:8000/mcp',
      });

      /**
       * A store over the backend that counts adapter calls, and can run a step after one;
       * `twoStep` hides the adapter's one-step `rotate`, so the facade consumes, then writes.
       */
      function instrumented(
        after: Partial<Record<string, () => Promise<unknown>>> = {},
        { twoStep = false } = {},
      ) {
        const calls: string[] = [];
        const adapter = new Proxy(backend.adapter, {
          has(target, name) {
            return !(twoStep && name === 'rotate') && Reflect.has(target, name);
          },
          get(target, name, receiver) {
            if (twoStep && name === 'rotate') return undefined;
            const value = Reflect.get(target, name, receiver);
            if (typeof value !== 'function' || typeof name !== 'string') return value;
            return async (...args: unknown[]) => {
              calls.push(name);
              const result = await value.apply(target, args);
              const step = after[name];
              if (step) {
                delete after[name];
                await step();
              }
              return result;
            };
          },
        });
        const counted = createTokenStore({
          adapter,
          now: () => clock.now,
          keyEncryptionSecret: KEY_SECRET,
          production: false,
        });
        return { store: counted, calls };
      }

      it('issueTokens stores a grant’s access and refresh token in one adapter call, same family and grant end', async () => {
        expect(typeof backend.adapter.setMany).toBe('function');
        const { store: counted, calls } = instrumented();
        const issued = await counted.issueTokens(grantData(), {
          accessToken: { ttlSeconds: 600, extra: { format: 'jwt' } },
          refreshToken: { ttlSeconds: 3600 },
          grantTtlSeconds: 7200,
        });
        expect(calls).toEqual(['setMany']);
        const access = await store.accessTokens.validate(issued.accessToken.token);
        const refresh = await store.refreshTokens.find(issued.refreshToken!.token);
        expect(access).toEqual(issued.accessToken.record);
        expect(refresh).toEqual(issued.refreshToken!.record);
        expect(access.extra).toEqual({ format: 'jwt' });
        expect(refresh?.extra).toBeUndefined();
        expect(refresh?.familyId).toBe(access.familyId);
        expect(access.expiresAt).toBe(clock.now + 600_000);
        expect(refresh?.expiresAt).toBe(clock.now + 3_600_000);
        expect(refresh?.grantExpiresAt).toBe(clock.now + 7_200_000);
        expect(access.grantExpiresAt).toBe(clock.now + 7_200_000);
        // Without refreshToken: the access token alone.
        const alone = await counted.issueTokens(grantData());
        expect(alone.refreshToken).toBeUndefined();
        expect((await store.accessTokens.find(alone.accessToken.token))?.familyId).toBe(
          alone.accessToken.record.familyId,
        );
      });

      it('issueTokens into a revoked family stores neither token', async () => {
        const familyId = generateSecret();
        await store.accessTokens.issue(grantData(familyId));
        await store.revokeFamily(familyId);
        await expect(
          store.issueTokens(grantData(familyId), { refreshToken: {} }),
        ).rejects.toBeInstanceOf(FamilyRevokedError);
        expect(await backend.adapter.setMany!([])).toBe(true);
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
        expect(await backend.dump()).not.toContain('"scopes"');
      });

      it('code exchange raced by a replay, by hand: consume → replay revokes → issueTokens is refused', async () => {
        const { code, record } = await store.codes.issue(codeData());
        const { store: racing } = instrumented({
          consume: async () => {
            // The replay lands between the exchange's consume and its write.
            expect((await store.codes.consume(code)).status).toBe('already_consumed');
            await store.revokeFamily(record.familyId);
          },
        });
        expect((await racing.codes.consume(code)).status).toBe('consumed');
        await expect(
          racing.issueTokens(grantData(record.familyId), { refreshToken: {} }),
        ).rejects.toBeInstanceOf(FamilyRevokedError);
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('code exchange raced by a replay, for real (10 rounds): whatever the order, nothing issued survives', async () => {
        for (let round = 0; round < 10; round++) {
          const { code, record } = await store.codes.issue(codeData());
          const redeem = async () => {
            const result = await store.codes.consume(code);
            if (result.status === 'already_consumed') {
              await store.revokeFamily(result.record.familyId);
              return undefined;
            }
            if (result.status !== 'consumed') return undefined;
            return store.issueTokens(grantData(record.familyId), { refreshToken: {} });
          };
          const results = await Promise.allSettled([redeem(), redeem(), redeem()]);
          for (const result of results) {
            if (result.status === 'rejected') {
              expect(result.reason).toBeInstanceOf(FamilyRevokedError);
              continue;
            }
            if (!result.value) continue;
            expect(await store.accessTokens.find(result.value.accessToken.token)).toBeUndefined();
            expect(
              await store.refreshTokens.find(result.value.refreshToken!.token),
            ).toBeUndefined();
          }
        }
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('rotate with accessToken: consume, then successor and access token in one write (two adapter calls)', async () => {
        const issued = await store.issueTokens(grantData(), { refreshToken: {} });
        const { store: counted, calls } = instrumented();
        advance(5);
        const rotated = await counted.refreshTokens.rotate(issued.refreshToken!.token, {
          clientId: 'client-a',
          accessToken: { scopes: ['read'], ttlSeconds: 60, extra: { format: 'opaque' } },
        });
        expect(calls).toEqual(['consume', 'setMany']);
        const access = await store.accessTokens.validate(rotated.accessToken!.token);
        expect(access).toMatchObject({
          familyId: issued.accessToken.record.familyId,
          clientId: 'client-a',
          userId: 'user-1',
          scopes: ['read'],
          resource: 'http://localhost:8000/mcp',
          extra: { format: 'opaque' },
          expiresAt: clock.now + 60_000,
          grantExpiresAt: issued.accessToken.record.grantExpiresAt,
        });
        expect((await store.refreshTokens.find(rotated.token))?.scopes).toEqual(['read', 'write']);
        // A replay within the grace window gets the same successor and an access token of its own.
        const replay = await store.refreshTokens.rotate(issued.refreshToken!.token, {
          clientId: 'client-a',
          accessToken: {},
        });
        expect(replay.token).toBe(rotated.token);
        expect(replay.accessToken!.token).not.toBe(rotated.accessToken!.token);
        expect((await store.accessTokens.find(replay.accessToken!.token))?.scopes).toEqual([
          'read',
          'write',
        ]);
        // Never wider than the grant.
        await expect(
          store.refreshTokens.rotate(rotated.token, { accessToken: { scopes: ['admin'] } }),
        ).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      });

      it('rotate with accessToken, by hand: consume → family revoked → neither successor nor access token is stored', async () => {
        const issued = await store.issueTokens(grantData(), { refreshToken: {} });
        const familyId = issued.accessToken.record.familyId;
        const { store: racing, calls } = instrumented(
          { consume: () => store.revokeFamily(familyId) },
          { twoStep: true },
        );
        await expect(
          racing.refreshTokens.rotate(issued.refreshToken!.token, { accessToken: {} }),
        ).rejects.toBeInstanceOf(FamilyRevokedError);
        expect(calls).toEqual(['consume', 'setMany']);
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('rotate with accessToken racing a revocation, for real (10 rounds): nothing of the family survives', async () => {
        for (let round = 0; round < 10; round++) {
          const issued = await store.issueTokens(grantData(), { refreshToken: {} });
          const familyId = issued.accessToken.record.familyId;
          const results = await Promise.allSettled([
            ...Array.from({ length: 5 }, () =>
              store.refreshTokens.rotate(issued.refreshToken!.token, {
                clientId: 'client-a',
                accessToken: {},
              }),
            ),
            store.revokeFamily(familyId),
          ]);
          for (const result of results.slice(0, 5)) {
            if (result.status === 'rejected') continue;
            const rotation = result.value as Awaited<ReturnType<typeof store.refreshTokens.rotate>>;
            expect(await store.refreshTokens.find(rotation.token)).toBeUndefined();
            expect(await store.accessTokens.find(rotation.accessToken!.token)).toBeUndefined();
          }
        }
        expect(await store.tokensByUser('user-1')).toEqual({ accessTokens: [], refreshTokens: [] });
      });

      it('rotate in one adapter call where the adapter has `rotate`: it stores exactly the records the facade returns', async () => {
        const oneStep = typeof backend.adapter.rotate === 'function';
        const cases = [
          grantData(),
          // No resource, no scopes, an extra with what a re-encoding would change.
          {
            userId: 'user-1',
            clientId: 'client-a',
            scopes: [],
            extra: {
              authTime: 1_765_000_000.1234567,
              list: [],
              nested: { empty: {}, text: 'a/b "q" \\ ü \u2028 {[,]}' },
              nothing: null,
            },
          },
        ];
        for (const data of cases) {
          const issued = await store.issueTokens(data, { refreshToken: {}, grantTtlSeconds: 600 });
          const { store: counted, calls } = instrumented();
          advance(5);
          const rotated = await counted.refreshTokens.rotate(issued.refreshToken!.token, {
            clientId: 'client-a',
            ttlSeconds: 3600,
            accessToken: { ttlSeconds: 60, extra: { format: 'jwt', list: [] } },
          });
          expect(calls).toEqual(oneStep ? ['rotate'] : ['consume', 'setMany']);
          expect(rotated.previous.consumedAt).toBe(clock.now);
          const refresh = await store.refreshTokens.find(rotated.token);
          const access = await store.accessTokens.validate(rotated.accessToken!.token);
          expect(refresh).toEqual(rotated.record);
          expect(access).toEqual(rotated.accessToken!.record);
          expect(refresh).toEqual({
            ...data,
            familyId: issued.accessToken.record.familyId,
            grantExpiresAt: issued.accessToken.record.grantExpiresAt,
            createdAt: clock.now,
            // Cut at the grant's end (600 s from the exchange).
            expiresAt: issued.accessToken.record.grantExpiresAt,
          });
          expect(access).toEqual({
            ...data,
            familyId: issued.accessToken.record.familyId,
            grantExpiresAt: issued.accessToken.record.grantExpiresAt,
            extra: { format: 'jwt', list: [] },
            createdAt: clock.now,
            expiresAt: clock.now + 60_000,
          });
          // Indexed for the account page, as any write of the family is.
          const listed = await store.tokensByUser('user-1');
          expect(listed.refreshTokens).toContainEqual(rotated.record);
          expect(listed.accessTokens).toContainEqual(rotated.accessToken!.record);
          await store.revokeFamily(issued.accessToken.record.familyId);
        }
        // Without an access token, and a record written without grantExpiresAt (an older
        // version's): the grant's end is then counted from the rotation.
        const legacy = generateSecret();
        const { grantExpiresAt: _, ...old } = (
          await store.refreshTokens.issue({ ...grantData(), familyId: generateSecret() })
        ).record;
        expect(await backend.adapter.set('refresh_token', await hashSecret(legacy), old)).toBe(
          true,
        );
        const rotated = await store.refreshTokens.rotate(legacy, { ttlSeconds: 60 });
        expect(rotated.accessToken).toBeUndefined();
        expect(rotated.record.grantExpiresAt).toBe(clock.now + store.ttl.grant * 1000);
        expect(await store.refreshTokens.find(rotated.token)).toEqual(rotated.record);
      });

      it('codes.exchange: consume and both tokens in one adapter call where the adapter has `rotate`, stored as returned', async () => {
        const oneStep = typeof backend.adapter.rotate === 'function';
        const { code, record } = await store.codes.issue(
          codeData({ resource: undefined, extra: { nonce: 'n-1', authTime: 1_765_000_000 } }),
          { grantTtlSeconds: 900 },
        );
        const { store: counted, calls } = instrumented();
        const options = {
          match: { clientId: 'client-a', redirectUri: 'http://127.0.0.1:9999/callback' },
          resource: 'http://localhost:8000/default',
          accessToken: { ttlSeconds: 600, extra: { format: 'jwt' } },
          refreshToken: { ttlSeconds: 3600 },
        };
        // Another client's request, or another redirect URI, spends nothing.
        expect(
          (await counted.codes.exchange(code, { ...options, match: { clientId: 'client-b' } }))
            .status,
        ).toBe('not_found');
        expect((await store.codes.find(code))?.consumedAt).toBeUndefined();
        calls.length = 0;
        advance(2);
        const exchanged = await counted.codes.exchange(code, options);
        expect(calls).toEqual(oneStep ? ['rotate'] : ['consume', 'setMany']);
        if (exchanged.status !== 'consumed') throw new Error(`not consumed: ${exchanged.status}`);
        expect(exchanged.record).toMatchObject({
          familyId: record.familyId,
          consumedAt: clock.now,
        });
        const { accessToken, refreshToken } = exchanged.tokens!;
        expect(await store.accessTokens.validate(accessToken.token)).toEqual(accessToken.record);
        expect(await store.refreshTokens.find(refreshToken!.token)).toEqual(refreshToken!.record);
        const grant = {
          familyId: record.familyId,
          grantExpiresAt: record.grantExpiresAt,
          clientId: 'client-a',
          userId: 'user-1',
          scopes: ['read', 'write'],
          resource: 'http://localhost:8000/default',
          createdAt: clock.now,
        };
        expect(accessToken.record).toEqual({
          ...grant,
          extra: { format: 'jwt' },
          expiresAt: clock.now + 600_000,
        });
        // The code's extra stays with the code; the refresh token is cut at the grant's end.
        expect(refreshToken!.record).toEqual({ ...grant, expiresAt: record.grantExpiresAt });
        // A replay: already consumed, nothing issued.
        const replay = await store.codes.exchange(code, options);
        expect(replay.status).toBe('already_consumed');
        expect(replay.tokens).toBeUndefined();
        expect((await store.tokensByUser('user-1')).accessTokens).toHaveLength(1);
        // The code's own resource wins over the default.
        const own = await store.codes.issue(codeData());
        const withOwn = await store.codes.exchange(own.code, options);
        expect(withOwn.tokens?.accessToken.record.resource).toBe('http://localhost:8000/mcp');
      });

      it('codes.exchange: 20 concurrent exchanges of one code, exactly one gets tokens; racing revokeFamily by hand, nothing survives', async () => {
        const options = { accessToken: {}, refreshToken: {} };
        const { code } = await store.codes.issue(codeData());
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.codes.exchange(code, options)),
        );
        expect(results.filter((r) => r.status === 'consumed')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'already_consumed')).toHaveLength(19);
        expect(results.filter((r) => r.tokens !== undefined)).toHaveLength(1);
        expect((await store.tokensByUser('user-1')).refreshTokens).toHaveLength(1);
        for (const order of ['exchange first', 'revoke first'] as const) {
          const issued = await store.codes.issue(codeData());
          const { store: racing } = instrumented(
            order === 'exchange first'
              ? { rotate: () => store.revokeFamily(issued.record.familyId) }
              : {},
          );
          if (order === 'revoke first') await store.revokeFamily(issued.record.familyId);
          const outcome = await racing.codes.exchange(issued.code, options).catch((e) => e);
          if (order === 'revoke first') expect(outcome).toMatchObject({ status: 'not_found' });
          else if (backend.adapter.rotate) {
            expect(outcome.status).toBe('consumed');
            const { accessToken, refreshToken } = outcome.tokens;
            expect(await store.accessTokens.find(accessToken.token)).toBeUndefined();
            expect(await store.refreshTokens.find(refreshToken.token)).toBeUndefined();
          }
        }
      });

      it('20 concurrent rotations of one token at the adapter: exactly one is consumed and stores its successor', async () => {
        if (!backend.adapter.rotate) return;
        for (const grace of [true, false]) {
          const issued = await store.issueTokens(grantData(), { refreshToken: {} });
          const id = await hashSecret(issued.refreshToken!.token);
          const attempts = await Promise.all(
            Array.from({ length: 20 }, async (_, i) => {
              const next = generateSecret();
              const result = await backend.adapter.rotate!({
                id,
                now: clock.now,
                grantTtlMs: 3_600_000,
                ...(grace ? { successor: `sealed-${i}` } : {}),
                refresh: { id: await hashSecret(next), ttlMs: 60_000 },
                access: { id: await hashSecret(generateSecret()), ttlMs: 60_000 },
              });
              return { next, result };
            }),
          );
          const won = attempts.filter((a) => a.result.status === 'consumed');
          expect(won).toHaveLength(1);
          expect(attempts.filter((a) => a.result.status === 'already_consumed')).toHaveLength(19);
          const stored = await Promise.all(attempts.map((a) => store.refreshTokens.find(a.next)));
          expect(stored.filter(Boolean)).toHaveLength(1);
          expect(await store.refreshTokens.find(won[0]!.next)).toBeDefined();
          // Every loser saw the winner's consumption (and, with grace, its sealed successor).
          const winner = attempts.indexOf(won[0]!);
          for (const { result } of attempts) {
            if (result.status === 'not_found') continue;
            expect(result.record.consumedAt).toBe(clock.now);
            expect((result.record as { successor?: string }).successor).toBe(
              grace ? `sealed-${winner}` : undefined,
            );
          }
          const listed = await store.tokensByUser('user-1');
          expect(listed.accessTokens).toHaveLength(2);
          await store.revokeFamily(issued.accessToken.record.familyId);
        }
      });

      it('rotate racing revokeFamily, by hand, in both orders: nothing of the revoked family survives', async () => {
        for (const order of ['rotate first', 'revoke first'] as const) {
          const issued = await store.issueTokens(grantData(), { refreshToken: {} });
          const familyId = issued.accessToken.record.familyId;
          const { store: racing } = instrumented(
            order === 'rotate first' ? { rotate: () => store.revokeFamily(familyId) } : {},
          );
          if (order === 'revoke first') await store.revokeFamily(familyId);
          const outcome = await racing.refreshTokens
            .rotate(issued.refreshToken!.token, { clientId: 'client-a', accessToken: {} })
            .then(
              (rotation) => rotation,
              (error: unknown) => error,
            );
          if (order === 'revoke first') {
            expect(outcome).toBeInstanceOf(InvalidTokenError);
          } else if (backend.adapter.rotate) {
            // Stored in the one step, then deleted by the revocation.
            const rotation = outcome as Awaited<ReturnType<typeof store.refreshTokens.rotate>>;
            expect(await store.refreshTokens.find(rotation.token)).toBeUndefined();
            expect(await store.accessTokens.find(rotation.accessToken!.token)).toBeUndefined();
          }
          await expect(
            store.refreshTokens.rotate(issued.refreshToken!.token, { graceSeconds: 0 }),
          ).rejects.toMatchObject({
            code: expect.stringMatching(/^(invalid_token|token_reused)$/),
          });
          expect(await store.tokensByUser('user-1')).toEqual({
            accessTokens: [],
            refreshTokens: [],
          });
          expect((await backend.adapter.find('family', familyId))?.revokedAt).toBeDefined();
        }
      });

      it('RFC 6749 §6: rotate with clientId refuses another client’s token in the same step, unspent and unrevoked', async () => {
        const issued = await store.issueTokens(grantData(), { refreshToken: {} });
        const refresh = issued.refreshToken!.token;
        const { store: counted, calls } = instrumented();
        await expect(
          counted.refreshTokens.rotate(refresh, { clientId: 'client-b', graceSeconds: 0 }),
        ).rejects.toBeInstanceOf(InvalidTokenError);
        expect(calls[0]).toBe(backend.adapter.rotate ? 'rotate' : 'consume');
        expect((await store.refreshTokens.find(refresh))?.consumedAt).toBeUndefined();
        // At the adapter: another client's consume is not_found and changes nothing.
        const id = await hashSecret(refresh);
        expect(
          (await backend.adapter.consume('refresh_token', id, clock.now, { clientId: 'client-b' }))
            .status,
        ).toBe('not_found');
        // 10 concurrent attempts by another client beside one by the owner: the owner wins.
        const results = await Promise.allSettled([
          ...Array.from({ length: 10 }, () =>
            store.refreshTokens.rotate(refresh, { clientId: 'client-b', graceSeconds: 0 }),
          ),
          store.refreshTokens.rotate(refresh, { clientId: 'client-a', graceSeconds: 0 }),
        ]);
        expect(results.slice(0, 10).every((r) => r.status === 'rejected')).toBe(true);
        expect(results[10]!.status).toBe('fulfilled');
        const successor = (results[10] as PromiseFulfilledResult<{ token: string }>).value.token;
        // Once spent, another client's replay is refused without revoking the owner's family.
        await expect(
          store.refreshTokens.rotate(refresh, { clientId: 'client-b', graceSeconds: 0 }),
        ).rejects.toBeInstanceOf(InvalidTokenError);
        expect(
          (await backend.adapter.consume('refresh_token', id, clock.now, { clientId: 'client-b' }))
            .status,
        ).toBe('not_found');
        expect(
          (await backend.adapter.consume('refresh_token', id, clock.now, { clientId: 'client-a' }))
            .status,
        ).toBe('already_consumed');
        expect((await store.refreshTokens.find(successor))?.consumedAt).toBeUndefined();
        expect(await store.accessTokens.find(issued.accessToken.token)).toBeDefined();
      });
      it('RFC 9449 §5: rotate with cnfJkt refuses a token bound to another key (or to a key, with none) in the same step: unspent, not a reuse', async () => {
        const bound = { extra: { cnf: { jkt: 'key-1' }, authTime: 1 } };
        for (const twoStep of [false, true]) {
          const issued = await store.issueTokens(
            { ...grantData(), ...bound },
            { refreshToken: {} },
          );
          const refresh = issued.refreshToken!.token;
          const { store: counted, calls } = instrumented({}, { twoStep });
          for (const cnfJkt of [null, 'key-2']) {
            const refused = await counted.refreshTokens
              .rotate(refresh, { clientId: 'client-a', cnfJkt, graceSeconds: 0, accessToken: {} })
              .catch((e: unknown) => e);
            expect(refused).toBeInstanceOf(BindingMismatchError);
            expect(refused).toMatchObject({ code: 'binding_mismatch', presented: cnfJkt });
          }
          // Refused by the step itself (a read follows only to say why).
          expect(calls.filter((c) => c !== 'find')).toEqual(
            Array(2).fill(backend.adapter.rotate && !twoStep ? 'rotate' : 'consume'),
          );
          // A narrowed access token takes the consume path: refused there too.
          await expect(
            store.refreshTokens.rotate(refresh, {
              cnfJkt: 'key-2',
              accessToken: { scopes: ['read'] },
            }),
          ).rejects.toBeInstanceOf(BindingMismatchError);
          expect((await store.refreshTokens.find(refresh))?.consumedAt).toBeUndefined();
          // The key it is bound to rotates it; the successor carries the binding.
          const rotated = await counted.refreshTokens.rotate(refresh, {
            clientId: 'client-a',
            cnfJkt: 'key-1',
            graceSeconds: 0,
            accessToken: {},
          });
          expect(rotated.record.extra).toEqual(bound.extra);
          expect(await store.refreshTokens.find(rotated.token)).toEqual(rotated.record);
          // Once spent: another key's replay (even after the grace window) is refused, not a
          // reuse; the family lives on, and within grace another key gets no successor.
          for (const graceSeconds of [0, 30]) {
            await expect(
              store.refreshTokens.rotate(refresh, { cnfJkt: 'key-2', graceSeconds }),
            ).rejects.toBeInstanceOf(BindingMismatchError);
          }
          expect(await store.refreshTokens.find(rotated.token)).toEqual(rotated.record);
          await expect(
            store.refreshTokens.rotate(rotated.token, { cnfJkt: null }),
          ).rejects.toBeInstanceOf(BindingMismatchError);
          // At the adapter: not_found for another key, whether spent or not.
          const id = await hashSecret(refresh);
          const next = await hashSecret(rotated.token);
          for (const [which, status] of [
            [id, 'already_consumed'],
            [next, 'consumed'],
          ] as const) {
            expect(
              (
                await backend.adapter.consume('refresh_token', which, clock.now, {
                  cnfJkt: 'key-2',
                })
              ).status,
            ).toBe('not_found');
            expect(
              (await backend.adapter.consume('refresh_token', which, clock.now, { cnfJkt: null }))
                .status,
            ).toBe('not_found');
            expect(
              (
                await backend.adapter.consume('refresh_token', which, clock.now, {
                  cnfJkt: 'key-1',
                })
              ).status,
            ).toBe(status);
          }
          await store.revokeFamily(issued.accessToken.record.familyId);
        }
        // An unbound token: any key, or none, rotates it (the client's first proof binds only new tokens).
        for (const cnfJkt of [null, 'key-1']) {
          const issued = await store.issueTokens(grantData(), { refreshToken: {} });
          const rotated = await store.refreshTokens.rotate(issued.refreshToken!.token, { cnfJkt });
          expect(rotated.record.extra).toBeUndefined();
        }
        // A binding that is not a string key binds nothing.
        const odd = await store.issueTokens(
          { ...grantData(), extra: { cnf: { jkt: 7 } } },
          { refreshToken: {} },
        );
        await store.refreshTokens.rotate(odd.refreshToken!.token, { cnfJkt: null });
      });

      it('RFC 9449 §5: a wrong key racing the owner’s rotation, by hand in both orders and for real: the owner wins, nothing revoked', async () => {
        const bound = { extra: { cnf: { jkt: 'key-1' } } };
        const owner = { clientId: 'client-a', cnfJkt: 'key-1', graceSeconds: 0, accessToken: {} };
        const thief = { clientId: 'client-a', cnfJkt: 'key-2', graceSeconds: 0, accessToken: {} };
        for (const twoStep of [false, true]) {
          for (const order of ['thief first', 'owner first'] as const) {
            const issued = await store.issueTokens(
              { ...grantData(), ...bound },
              { refreshToken: {} },
            );
            const refresh = issued.refreshToken!.token;
            const step = backend.adapter.rotate && !twoStep ? 'rotate' : 'consume';
            let other: Promise<unknown> | undefined;
            // The other party's whole rotation runs right after the first one's atomic step.
            const first = order === 'thief first' ? thief : owner;
            const second = order === 'thief first' ? owner : thief;
            const { store: racing } = instrumented(
              {
                [step]: async () => {
                  other = store.refreshTokens.rotate(refresh, second).catch((e: unknown) => e);
                  await other;
                },
              },
              { twoStep },
            );
            const firstOutcome = await racing.refreshTokens
              .rotate(refresh, first)
              .catch((e: unknown) => e);
            const secondOutcome = await other;
            const [won, refused] =
              order === 'thief first'
                ? [secondOutcome, firstOutcome]
                : [firstOutcome, secondOutcome];
            expect(refused).toBeInstanceOf(BindingMismatchError);
            const rotation = won as Awaited<ReturnType<typeof store.refreshTokens.rotate>>;
            expect(await store.refreshTokens.find(rotation.token)).toEqual(rotation.record);
            expect(await store.accessTokens.find(rotation.accessToken!.token)).toBeDefined();
            const family = await backend.adapter.find('family', issued.accessToken.record.familyId);
            expect(family?.revokedAt).toBeUndefined();
          }
        }
        // Real concurrency: 10 attempts with another key or none beside the owner's, 5 rounds.
        for (let round = 0; round < 5; round++) {
          const issued = await store.issueTokens(
            { ...grantData(), ...bound },
            { refreshToken: {} },
          );
          const refresh = issued.refreshToken!.token;
          const results = await Promise.allSettled([
            ...Array.from({ length: 10 }, (_, i) =>
              store.refreshTokens.rotate(refresh, { ...thief, cnfJkt: i % 2 ? null : 'key-2' }),
            ),
            store.refreshTokens.rotate(refresh, owner),
          ]);
          for (const result of results.slice(0, 10)) {
            expect(result.status).toBe('rejected');
            expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BindingMismatchError);
          }
          expect(results[10]!.status).toBe('fulfilled');
          const successor = (results[10] as PromiseFulfilledResult<{ token: string }>).value.token;
          expect((await store.refreshTokens.find(successor))?.consumedAt).toBeUndefined();
          const family = await backend.adapter.find('family', issued.accessToken.record.familyId);
          expect(family?.revokedAt).toBeUndefined();
        }
      });

      it('codes.issue with readConsent: the standing consent of user × client × resource, read with the write in one adapter call where the adapter has setAndFind', async () => {
        const oneCall = typeof backend.adapter.setAndFind === 'function';
        const { store: counted, calls } = instrumented();
        const first = await counted.codes.issue(codeData(), { readConsent: true });
        expect(calls).toEqual(oneCall ? ['setAndFind'] : ['set', 'find']);
        expect('consent' in first && first.consent === undefined).toBe(true);
        expect(await store.codes.find(first.code)).toEqual(first.record);
        const consent = await store.consents.grant('user-1', 'client-a', ['read'], {
          resource: 'http://localhost:8000/mcp',
        });
        await store.consents.grant('user-1', 'client-a', ['write'], { resource: 'http://other' });
        await store.consents.grant('user-1', 'client-b', ['admin'], {
          resource: 'http://localhost:8000/mcp',
        });
        calls.length = 0;
        const second = await counted.codes.issue(codeData(), { readConsent: true });
        expect(calls).toEqual(oneCall ? ['setAndFind'] : ['set', 'find']);
        expect(second.consent).toEqual(consent);
        expect(await store.codes.find(second.code)).toEqual(second.record);
        // Without a resource: the consent without one.
        const bare = await counted.codes.issue(codeData({ resource: undefined }), {
          readConsent: true,
        });
        expect(bare.consent).toBeUndefined();
        // Without readConsent: no consent key, one write.
        calls.length = 0;
        const plain = await counted.codes.issue(codeData());
        expect('consent' in plain).toBe(false);
        expect(calls).toEqual(['set']);
        // A revoked family refuses the code, and the read comes with the refusal.
        await store.revokeFamily(second.record.familyId);
        await expect(
          counted.codes.issue(codeData({ familyId: second.record.familyId }), {
            readConsent: true,
          }),
        ).rejects.toBeInstanceOf(FamilyRevokedError);
        expect((await store.tokensByUser('user-1')).accessTokens).toEqual([]);
      });

      it('codes.exchange with refreshToken.extra: the refresh token carries it (and the access token, without its own), stored as returned', async () => {
        const oneStep = typeof backend.adapter.rotate === 'function';
        const cnf = { cnf: { jkt: 'key-1' } };
        for (const accessExtra of [undefined, { ...cnf, format: 'jwt' }]) {
          const { code } = await store.codes.issue(codeData({ extra: { nonce: 'n-1' } }));
          const { store: counted, calls } = instrumented();
          const exchanged = await counted.codes.exchange(code, {
            accessToken: accessExtra === undefined ? {} : { extra: accessExtra },
            refreshToken: { extra: cnf },
          });
          expect(calls).toEqual(oneStep ? ['rotate'] : ['consume', 'setMany']);
          const { accessToken, refreshToken } = exchanged.tokens!;
          expect(refreshToken!.record.extra).toEqual(cnf);
          expect(accessToken.record.extra).toEqual(accessExtra ?? cnf);
          expect(await store.refreshTokens.find(refreshToken!.token)).toEqual(refreshToken!.record);
          expect(await store.accessTokens.find(accessToken.token)).toEqual(accessToken.record);
          await expect(
            store.refreshTokens.rotate(refreshToken!.token, { cnfJkt: 'key-2' }),
          ).rejects.toBeInstanceOf(BindingMismatchError);
          const rotated = await store.refreshTokens.rotate(refreshToken!.token, {
            cnfJkt: 'key-1',
          });
          expect(rotated.record.extra).toEqual(cnf);
        }
      });
    });

    describe('clients looked up for a grant step, checked in that step (checksClients)', () => {
      /** A second facade over the same backend: another process, with its own memory. */
      const other = () =>
        createTokenStore({ adapter: backend.adapter, now: () => clock.now, production: false });
      const grant = { userId: 'user-1', clientId: 'client-a', scopes: ['read'] };

      it('lookup serves from memory only where the adapter checks clients; a grant step checks it', async () => {
        await store.clients.save(clientRecord('client-a'));
        const first = await store.clients.lookup('client-a');
        const finds: string[] = [];
        const spied = new Proxy(backend.adapter, {
          get(target, name, receiver) {
            const value = Reflect.get(target, name, receiver);
            if (name !== 'find' || typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              finds.push(String(args[0]));
              return value.apply(target, args);
            };
          },
        });
        // The same memory, through a facade over the spied adapter: a store keeps its own.
        const counted = createTokenStore({
          adapter: spied,
          now: () => clock.now,
          production: false,
        });
        await counted.clients.lookup('client-a');
        const second = await counted.clients.lookup('client-a');
        expect(first).toEqual(await store.clients.find('client-a'));
        expect(second).toEqual(first);
        expect(finds).toEqual(backend.adapter.checksClients ? ['client'] : ['client', 'client']);
        expect(await store.clients.lookup('nobody')).toBeUndefined();
        const { code } = await store.codes.issue(codeData());
        const consumed = await store.codes.consume(code, { client: first! });
        expect(consumed.status).toBe('consumed');
      });

      it('a client changed, deleted or expired elsewhere: the grant step refuses, changes nothing, and the next lookup reads it again', async () => {
        if (!backend.adapter.checksClients) return;
        await store.clients.save(clientRecord('client-a'));
        // Changed by another process.
        let stale = await store.clients.lookup('client-a');
        await other().clients.save({
          ...clientRecord('client-a'),
          grantTypes: ['authorization_code'],
        });
        const { code } = await store.codes.issue(codeData());
        await expect(store.codes.consume(code, { client: stale! })).rejects.toBeInstanceOf(
          ClientChangedError,
        );
        await expect(
          store.codes.consume(code, { client: stale!, match: { clientId: 'client-a' } }),
        ).rejects.toMatchObject({ code: 'client_changed', clientId: 'client-a' });
        await expect(
          store.codes.exchange(code, { client: stale!, accessToken: {}, refreshToken: {} }),
        ).rejects.toBeInstanceOf(ClientChangedError);
        expect((await store.codes.find(code))?.consumedAt).toBeUndefined();
        const fresh = await store.clients.lookup('client-a');
        expect(fresh?.grantTypes).toEqual(['authorization_code']);
        expect((await store.codes.consume(code, { client: fresh! })).status).toBe('consumed');

        // Deleted by another process: a rotation, one step or two, spends and stores nothing.
        const issued = await store.issueTokens(grant, { refreshToken: {} });
        const refresh = issued.refreshToken!.token;
        stale = await store.clients.lookup('client-a');
        await other().clients.delete('client-a');
        for (const accessToken of [{}, { scopes: ['read'] }]) {
          await expect(
            store.refreshTokens.rotate(refresh, {
              clientId: 'client-a',
              client: stale!,
              accessToken,
            }),
          ).rejects.toBeInstanceOf(ClientChangedError);
        }
        expect((await store.refreshTokens.find(refresh))?.consumedAt).toBeUndefined();
        expect((await store.tokensByUser('user-1')).refreshTokens).toHaveLength(1);
        expect(await store.clients.lookup('client-a')).toBeUndefined();

        // Expired: judged on the store's clock, in the step.
        await store.clients.save(clientRecord('client-a'), { ttlSeconds: 60 });
        stale = await store.clients.lookup('client-a');
        advance(61);
        await expect(
          store.refreshTokens.rotate(refresh, {
            clientId: 'client-a',
            client: stale!,
            accessToken: {},
          }),
        ).rejects.toBeInstanceOf(ClientChangedError);
        expect((await store.refreshTokens.find(refresh))?.consumedAt).toBeUndefined();
        // A record that lookup did not hand out is not checked (any other object is ignored).
        const rotated = await store.refreshTokens.rotate(refresh, {
          clientId: 'client-a',
          client: { ...stale! },
          accessToken: {},
        });
        expect(await store.refreshTokens.find(rotated.token)).toEqual(rotated.record);
      });

      it('20 rotations with a looked-up client racing a change of it, for real: each either happened before the change or changed nothing', async () => {
        if (!backend.adapter.checksClients) return;
        await store.clients.save(clientRecord('client-a'));
        const client = await store.clients.lookup('client-a');
        const chains = await Promise.all(
          Array.from({ length: 20 }, () => store.issueTokens(grant, { refreshToken: {} })),
        );
        const results = await Promise.allSettled([
          ...chains.map((chain) =>
            store.refreshTokens.rotate(chain.refreshToken!.token, {
              clientId: 'client-a',
              client: client!,
              accessToken: {},
            }),
          ),
          other().clients.save({ ...clientRecord('client-a'), clientName: 'renamed' }),
        ]);
        for (const [i, result] of results.slice(0, 20).entries()) {
          const old = await store.refreshTokens.find(chains[i]!.refreshToken!.token);
          if (result.status === 'fulfilled') {
            expect(old?.consumedAt).toBeDefined();
            const rotation = result.value as Awaited<ReturnType<typeof store.refreshTokens.rotate>>;
            expect(await store.refreshTokens.find(rotation.token)).toEqual(rotation.record);
          } else {
            expect(result.reason).toBeInstanceOf(ClientChangedError);
            expect(old?.consumedAt).toBeUndefined();
          }
        }
        // After the change, the record looked up before it is refused.
        await expect(
          store.refreshTokens.rotate(chains[0]!.refreshToken!.token, {
            clientId: 'client-a',
            client: client!,
            accessToken: {},
          }),
        ).rejects.toBeInstanceOf(ClientChangedError);
      });
    });

    describe('clients, consents, signing keys', () => {
      it('RFC 7591 §3.2.1: a client is stored with its secret hash and verified in constant time', async () => {
        const secret = generateSecret();
        const saved = await store.clients.save(clientRecord('client-s', await hashSecret(secret)));
        await store.clients.save(clientRecord('client-p'));
        expect(await store.clients.find('client-s')).toEqual(saved);
        expect(await store.clients.verifySecret(saved, secret)).toBe(true);
        expect(await store.clients.verifySecret(saved, generateSecret())).toBe(false);
        const publicClient = (await store.clients.find('client-p'))!;
        expect(await store.clients.verifySecret(publicClient, secret)).toBe(false);
        const expired = { ...saved, clientSecretExpiresAt: Math.floor(clock.now / 1000) - 1 };
        expect(await store.clients.verifySecret(expired, secret)).toBe(false);
        expect(
          (await store.clients.list({ limit: 10 })).map((client) => client.clientId).sort(),
        ).toEqual(['client-p', 'client-s']);
        expect(await store.clients.list({ limit: 1 })).toHaveLength(1);
        expect(await store.clients.delete('client-s')).toBe(true);
        expect(await store.clients.find('client-s')).toBeUndefined();
        expect(await store.clients.delete('client-s')).toBe(false);
      });

      it('clients.sweepExpired deletes the clients past their expiry and names each once; kept, unexpired and deleted ones are not named', async () => {
        await store.clients.save(clientRecord('c-kept'));
        await store.clients.save(clientRecord('c-soon'), { ttlSeconds: 10 });
        await store.clients.save(clientRecord('c-later'), { ttlSeconds: 100 });
        // Registered, then approved: kept for good.
        await store.clients.save(clientRecord('c-approved'), { ttlSeconds: 10 });
        await store.clients.save(clientRecord('c-approved'));
        await store.clients.save(clientRecord('c-deleted'), { ttlSeconds: 10 });
        expect(await store.clients.delete('c-deleted')).toBe(true);
        expect(await store.clients.sweepExpired()).toEqual([]);
        advance(11);
        expect(await store.clients.sweepExpired()).toEqual(['c-soon']);
        expect(await store.clients.find('c-soon')).toBeUndefined();
        // Swept once: the next sweep has nothing to name.
        expect(await store.clients.sweepExpired()).toEqual([]);
        advance(100);
        expect(await store.clients.sweepExpired()).toEqual(['c-later']);
        expect(await store.clients.find('c-kept')).toBeDefined();
        expect(await store.clients.find('c-approved')).toBeDefined();
        expect(await store.clients.sweepExpired()).toEqual([]);
      });

      it('setAndFind of a client record behaves exactly as set, then find: expiry honoured, record found, listed and swept the same (the facade’s set, then find, where the adapter has no setAndFind)', async () => {
        const { adapter } = backend;
        const setAndFind: NonNullable<StoreAdapter['setAndFind']> =
          adapter.setAndFind?.bind(adapter) ??
          (async (kind, id, record, read) => ({
            written: await adapter.set(kind, id, record),
            found: await adapter.find(read.kind, read.id, { now: read.now }),
          }));
        const client = (id: string, ttlSeconds: number | null) => ({
          ...clientRecord(id),
          createdAt: clock.now,
          expiresAt: ttlSeconds === null ? null : clock.now + ttlSeconds * 1000,
        });
        const other = client('c-other', null);
        expect(await adapter.set('client', 'c-other', other)).toBe(true);
        // Twins: one through set, one through setAndFind, each with an expiry.
        expect(await adapter.set('client', 'c-set', client('c-set', 10))).toBe(true);
        const written = client('c-both', 10);
        expect(
          await setAndFind('client', 'c-both', written, {
            kind: 'client',
            id: 'c-other',
            now: clock.now,
          }),
        ).toEqual({ written: true, found: other });
        expect(await store.clients.find('c-both')).toEqual(written);
        // Registered with an expiry, then approved (kept for good), each way.
        await adapter.set('client', 'c-set-kept', client('c-set-kept', 10));
        await adapter.set('client', 'c-set-kept', client('c-set-kept', null));
        await setAndFind('client', 'c-both-kept', client('c-both-kept', 10), {
          kind: 'client',
          id: 'c-none',
          now: clock.now,
        });
        const kept = client('c-both-kept', null);
        expect(
          await setAndFind('client', 'c-both-kept', kept, {
            kind: 'client',
            id: 'c-none',
            now: clock.now,
          }),
        ).toEqual({ written: true, found: undefined });
        const listed = async () =>
          (await store.clients.list({ limit: 100 })).map((c) => c.clientId).sort();
        expect(await listed()).toEqual(['c-both', 'c-both-kept', 'c-other', 'c-set', 'c-set-kept']);
        expect(await store.clients.sweepExpired()).toEqual([]);
        advance(11);
        expect(await store.clients.find('c-both')).toBeUndefined();
        expect((await store.clients.sweepExpired()).sort()).toEqual(['c-both', 'c-set']);
        expect(
          await adapter.find('client', 'c-both', { now: clock.now, includeExpired: true }),
        ).toBeUndefined();
        expect(await listed()).toEqual(['c-both-kept', 'c-other', 'c-set-kept']);
        expect(await store.clients.find('c-both-kept')).toEqual(kept);
        expect(await store.clients.sweepExpired()).toEqual([]);
      });

      it('clients.sweepExpired: at most `limit` a call, oldest expiry first; concurrent sweeps name each expired client exactly once', async () => {
        const ids = Array.from({ length: 12 }, (_, i) => `c-${String(i).padStart(2, '0')}`);
        for (const [i, id] of ids.entries()) {
          await store.clients.save(clientRecord(id), { ttlSeconds: 1 + i });
        }
        await store.clients.save(clientRecord('c-live'), { ttlSeconds: 3600 });
        advance(60);
        expect(await store.clients.sweepExpired({ limit: 5 })).toEqual(ids.slice(0, 5));
        const swept = await Promise.all([
          store.clients.sweepExpired({ limit: 3 }),
          store.clients.sweepExpired({ limit: 3 }),
          store.clients.sweepExpired(),
          store.clients.sweepExpired({ limit: 1000 }),
        ]);
        expect(swept.flat().sort()).toEqual(ids.slice(5));
        expect(await store.clients.sweepExpired()).toEqual([]);
        expect((await store.clients.list()).map((c) => c.clientId)).toEqual(['c-live']);
        for (const limit of [0, 1001, 1.5]) {
          await expect(store.clients.sweepExpired({ limit })).rejects.toThrow(TypeError);
        }
      });

      it('a client record holding a clear secret is refused', async () => {
        const record = { ...clientRecord('client-x'), metadata: { client_secret: 'oops' } };
        await expect(store.clients.save(record)).rejects.toMatchObject({
          name: 'TypeError',
          code: 'ERR_INVALID_ARG_VALUE',
        });
      });

      it('consent: user × client × resource; scopes accumulate; revoking ends that client’s grants only, codes included', async () => {
        const A = 'https://a.example/mcp';
        const B = 'https://b.example/mcp';
        await store.consents.grant('user-1', 'client-a', ['read'], { resource: A });
        const both = await store.consents.grant('user-1', 'client-a', ['write', 'read'], {
          resource: A,
        });
        expect(both).toMatchObject({ resource: A, scopes: ['read', 'write'] });
        expect(await store.consents.find('user-1', 'client-a', { resource: A })).toEqual(both);
        expect(await store.consents.find('user-1', 'client-a', { resource: B })).toBeUndefined();
        expect(await store.consents.find('user-1', 'client-a')).toBeUndefined();
        await store.consents.grant('user-1', 'client-a', ['read'], { resource: B });
        await store.consents.grant('user-1', 'client-b', ['read'], { resource: A });
        await store.consents.grant('user-2', 'client-a', ['read'], { resource: A });
        expect(
          (await store.consents.listByUser('user-1'))
            .map((consent) => `${consent.clientId} ${consent.resource}`)
            .sort(),
        ).toEqual([`client-a ${A}`, `client-a ${B}`, `client-b ${A}`]);

        const a = await store.refreshTokens.issue({
          userId: 'user-1',
          clientId: 'client-a',
          scopes: ['read'],
        });
        const code = await store.codes.issue(codeData());
        const b = await store.refreshTokens.issue({
          userId: 'user-1',
          clientId: 'client-b',
          scopes: ['read'],
        });
        expect(await store.consents.revoke('user-1', 'client-a')).toBe(true);
        expect(await store.consents.find('user-1', 'client-a', { resource: A })).toBeUndefined();
        expect(await store.consents.find('user-1', 'client-a', { resource: B })).toBeUndefined();
        expect(await store.refreshTokens.find(a.token)).toBeUndefined();
        // A code issued before the withdrawal can no longer be redeemed.
        expect((await store.codes.consume(code.code)).status).toBe('not_found');
        await expect(
          store.accessTokens.issue({
            familyId: code.record.familyId,
            userId: 'user-1',
            clientId: 'client-a',
            scopes: ['read'],
          }),
        ).rejects.toBeInstanceOf(FamilyRevokedError);
        expect(await store.refreshTokens.find(b.token)).toBeDefined();
        expect(await store.consents.find('user-2', 'client-a', { resource: A })).toBeDefined();
        expect(await store.consents.revoke('user-1', 'client-a')).toBe(false);
      });

      it('grantsByUser lists every live grant: a code not yet redeemed, a rotated chain once', async () => {
        const code = await store.codes.issue(codeData());
        const tokens = new TokenManager(store);
        const issued = await tokens.issue('user-1', ['read'], {
          clientId: 'client-b',
          refresh: true,
        });
        await tokens.rotate(issued.refreshToken!);
        await store.accessTokens.issue({ userId: 'user-2', clientId: 'client-a', scopes: [] });
        const grants = await store.grantsByUser('user-1');
        expect(grants.map((g) => [g.clientId, g.familyId])).toEqual([
          ['client-a', code.record.familyId],
          ['client-b', issued.familyId],
        ]);
        expect(grants[0]).toMatchObject({
          resource: 'http://localhost:8000/mcp',
          scopes: ['read', 'write'],
          grantExpiresAt: clock.now + 7_776_000_000,
        });
        await store.revokeFamily(issued.familyId);
        expect((await store.grantsByUser('user-1')).map((g) => g.clientId)).toEqual(['client-a']);
      });

      it('signing keys are sealed with AES-GCM at rest and opened on read', async () => {
        const key = await signingKey('kid-1');
        await store.signingKeys.save(key);
        expect(await store.signingKeys.list()).toEqual([key]);
        expect(await store.signingKeys.find('kid-1')).toEqual(key);
        const raw = await backend.adapter.find('signing_key', 'kid-1');
        expect(raw?.publicJwk).toEqual(key.publicJwk);
        expect(raw?.privateJwk.d).toBeUndefined();
        expect(raw?.privateJwk['portcullis:sealed']).toBe('A256GCM.v1');
        expect(await backend.dump()).not.toContain(key.privateJwk.d as string);

        const wrongSecret = createTokenStore({
          adapter: backend.adapter,
          keyEncryptionSecret: 'another-secret-entirely-0123456789',
          production: true,
        });
        await expect(wrongSecret.signingKeys.list()).rejects.toBeInstanceOf(KeyDecryptionError);
        const noSecret = createTokenStore({ adapter: backend.adapter, production: false });
        await expect(noSecret.signingKeys.find('kid-1')).rejects.toBeInstanceOf(KeyDecryptionError);
        expect(await store.signingKeys.delete('kid-1')).toBe(true);
        expect(await store.signingKeys.list()).toEqual([]);
      });

      it('without keyEncryptionSecret, signing keys are kept in clear outside production only', async () => {
        expect(() => createTokenStore({ adapter: backend.adapter, production: true })).toThrow(
          /keyEncryptionSecret" is required in production/,
        );
        const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
        const dev = createTokenStore({ adapter: backend.adapter, production: false });
        const key = await signingKey('kid-dev');
        await dev.signingKeys.save(key);
        expect(await dev.signingKeys.find('kid-dev')).toEqual(key);
        expect((await backend.adapter.find('signing_key', 'kid-dev'))?.privateJwk.d).toBe(
          key.privateJwk.d,
        );
        warn.mockRestore();
      });
    });

    describe('users, families, expiry', () => {
      it('tokensByUser lists a user’s live tokens only', async () => {
        const a = await store.accessTokens.issue({ userId: 'user-1', clientId: 'c', scopes: [] });
        await store.accessTokens.issue(
          { userId: 'user-1', clientId: 'c', scopes: [] },
          { ttlSeconds: 5 },
        );
        const r = await store.refreshTokens.issue({ userId: 'user-1', clientId: 'c', scopes: [] });
        await store.accessTokens.issue({ userId: 'user-2', clientId: 'c', scopes: [] });
        advance(6);
        const listed = await store.tokensByUser('user-1');
        expect(listed.accessTokens).toEqual([a.record]);
        expect(listed.refreshTokens).toEqual([r.record]);
      });

      it('an injected clock far from the wall clock still decides expiry', async () => {
        const past = { now: Date.UTC(2001, 0, 1) };
        const old = createTokenStore({
          adapter: backend.adapter,
          now: () => past.now,
          production: false,
        });
        const { token } = await old.accessTokens.issue(
          { userId: 'user-1', clientId: 'c', scopes: [] },
          { ttlSeconds: 60 },
        );
        expect((await old.accessTokens.validate(token)).userId).toBe('user-1');
        past.now += 60_000;
        await expect(old.accessTokens.validate(token)).rejects.toBeInstanceOf(TokenExpiredError);
      });

      it('purgeExpired removes expired records, and only those', async () => {
        const gone = await store.accessTokens.issue(
          { userId: 'user-1', clientId: 'c', scopes: [] },
          { ttlSeconds: 5 },
        );
        const kept = await store.accessTokens.issue({
          userId: 'user-1',
          clientId: 'c',
          scopes: [],
        });
        advance(6);
        expect(await backend.adapter.purgeExpired(clock.now)).toBeGreaterThanOrEqual(1);
        await expect(store.accessTokens.validate(gone.token)).rejects.toBeInstanceOf(
          InvalidTokenError,
        );
        expect((await store.accessTokens.validate(kept.token)).userId).toBe('user-1');
      });
    });

    describe('revocation feed (revoked, unexpired access tokens)', () => {
      const data = (familyId?: string, userId = 'user-1') => ({
        ...(familyId === undefined ? {} : { familyId }),
        userId,
        clientId: 'client-a',
        scopes: ['read'],
      });

      /** Reads the feed from `cursor` until it is caught up; every entry seen, in order. */
      async function drain(
        feed: TokenStore,
        cursor?: string,
        options: { limit?: number; overlapSeconds?: number } = {},
      ) {
        const seen: { id: string; expiresAt: number }[] = [];
        let pages = 0;
        for (;;) {
          const page = await feed.revocations.list({
            ...(cursor === undefined ? {} : { cursor }),
            ...options,
          });
          pages++;
          seen.push(...page.revoked);
          cursor = page.cursor;
          if (!page.more) return { seen, cursor, pages };
          if (pages > 1000) throw new Error('the feed does not progress');
        }
      }
      const ids = (entries: { id: string }[]) => new Set(entries.map((e) => e.id));

      it('revokeFamily lists each live access token of the family (hash and expiry), nothing else', async () => {
        expect(store.revocations.supported).toBe(true);
        const familyId = generateSecret();
        const first = await store.accessTokens.issue(data(familyId), { ttlSeconds: 600 });
        const second = await store.accessTokens.issue(data(familyId));
        const expired = await store.accessTokens.issue(data(familyId), { ttlSeconds: 5 });
        const refresh = await store.refreshTokens.issue(data(familyId));
        const { code } = await store.codes.issue(codeData({ familyId }));
        const other = await store.accessTokens.issue(data());
        advance(6);
        expect((await drain(store)).seen).toEqual([]);
        await store.revokeFamily(familyId);
        const { seen } = await drain(store);
        expect(seen).toHaveLength(2);
        expect(new Map(seen.map((e) => [e.id, e.expiresAt]))).toEqual(
          new Map([
            [await hashSecret(first.token), first.record.expiresAt],
            [await hashSecret(second.token), second.record.expiresAt],
          ]),
        );
        for (const absent of [expired.token, refresh.token, code, other.token]) {
          expect(ids(seen).has(await hashSecret(absent))).toBe(false);
        }
        // Nothing but the hash and the expiry.
        for (const entry of seen) expect(Object.keys(entry).sort()).toEqual(['expiresAt', 'id']);
        // Revoked again: listed once (and nothing is left to list).
        await store.revokeFamily(familyId);
        expect((await drain(store)).seen).toHaveLength(2);
      });

      it('a revoked access token is listed once, in the same step as its delete', async () => {
        const issued = await store.accessTokens.issue(data());
        const kept = await store.accessTokens.issue(data());
        expect(await store.accessTokens.revoke(issued.token)).toBe(true);
        expect(await store.accessTokens.find(issued.token)).toBeUndefined();
        expect(await store.accessTokens.revoke(issued.token)).toBe(false);
        const { seen } = await drain(store);
        expect(seen).toEqual([
          { id: await hashSecret(issued.token), expiresAt: issued.record.expiresAt },
        ]);
        expect(ids(seen).has(await hashSecret(kept.token))).toBe(false);
        // An access token already expired when revoked is not listed.
        const short = await store.accessTokens.issue(data(), { ttlSeconds: 5 });
        advance(6);
        await store.accessTokens.revoke(short.token);
        expect((await drain(store)).seen).toHaveLength(1);
      });

      it('an entry disappears at its token’s expiry, and purgeExpired drops it (bounded)', async () => {
        const short = await store.accessTokens.issue(data(), { ttlSeconds: 60 });
        const long = await store.accessTokens.issue(data(), { ttlSeconds: 600 });
        await store.accessTokens.revoke(short.token);
        await store.revokeFamily(long.record.familyId);
        expect((await drain(store)).seen).toHaveLength(2);
        advance(60);
        expect((await drain(store)).seen).toEqual([
          { id: await hashSecret(long.token), expiresAt: long.record.expiresAt },
        ]);
        advance(540);
        expect((await drain(store)).seen).toEqual([]);
        await backend.adapter.purgeExpired(clock.now);
        // Gone from storage: a read as of before the expiry finds nothing either.
        expect(
          await backend.adapter.listRevokedAccessTokens!({
            after: { revokedAt: 0, id: '' },
            limit: 10,
            now: clock.now - 700_000,
          }),
        ).toEqual([]);
      });

      it('pages in a stable order, bounded, and a reader loses nothing across pages', async () => {
        const revoked: string[] = [];
        for (let i = 0; i < 4; i++) {
          const familyId = generateSecret();
          for (let j = 0; j < 3; j++) {
            revoked.push(await hashSecret((await store.accessTokens.issue(data(familyId))).token));
          }
          await store.revokeFamily(familyId);
          const single = await store.accessTokens.issue(data());
          await store.accessTokens.revoke(single.token);
          revoked.push(await hashSecret(single.token));
          advance(1);
        }
        const raw = await backend.adapter.listRevokedAccessTokens!({
          after: { revokedAt: 0, id: '' },
          limit: 100,
          now: clock.now,
        });
        expect(raw).toHaveLength(16);
        const sorted = [...raw].sort((a, b) =>
          a.revokedAt !== b.revokedAt ? a.revokedAt - b.revokedAt : a.id < b.id ? -1 : 1,
        );
        expect(raw).toEqual(sorted);
        const { seen, pages, cursor } = await drain(store, undefined, { limit: 3 });
        expect(pages).toBe(6);
        expect(ids(seen)).toEqual(new Set(revoked));
        // Later reads from the cursor bring only what is within the overlap again, then nothing.
        advance(11);
        expect((await drain(store, cursor, { limit: 3 })).seen.length).toBeLessThanOrEqual(16);
        const quiet = await drain(store, (await drain(store, cursor, { limit: 3 })).cursor);
        expect(quiet.seen).toEqual([]);
        await expect(store.revocations.list({ limit: 1001 })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARG_VALUE',
        });
        await expect(store.revocations.list({ limit: 0 })).rejects.toBeInstanceOf(TypeError);
      });

      it('a cursor it did not hand out is refused with InvalidCursorError', async () => {
        for (const cursor of [
          '',
          'x',
          '1.a.0.a',
          '1.a.1',
          '99999999999999999.a.99999999999999999.b',
          `0..0.${'a'.repeat(65)}`,
          '0.a b.0.a',
        ]) {
          await expect(store.revocations.list({ cursor })).rejects.toBeInstanceOf(
            InvalidCursorError,
          );
        }
        await expect(store.revocations.list({ cursor: '0..0.' })).resolves.toMatchObject({
          more: false,
        });
      });

      it('deterministic interleaving: a revocation that lands after the reader has read past its position is still seen', async () => {
        // A second instance whose revocation is positioned 2 s before the one the reader saw
        // (its transaction began earlier and commits late, or its clock is behind).
        const late = { now: clock.now - 2000 };
        const lateStore = createTokenStore({
          adapter: backend.adapter,
          now: () => late.now,
          production: false,
        });
        const early = await store.accessTokens.issue(data());
        const slow = await store.accessTokens.issue(data());
        const first = await drain(store);
        await store.revokeFamily(early.record.familyId);
        const read = await drain(store, first.cursor);
        expect(ids(read.seen)).toEqual(new Set([await hashSecret(early.token)]));
        await lateStore.revokeFamily(slow.record.familyId);
        const after = await drain(store, read.cursor);
        expect(ids(after.seen).has(await hashSecret(slow.token))).toBe(true);
        // Without the overlap the same reader would have missed it: the test can fail.
        const other = await store.accessTokens.issue(data());
        const blind = await drain(store, after.cursor, { overlapSeconds: 0 });
        late.now = clock.now - 2000;
        await lateStore.revokeFamily(other.record.familyId);
        const missed = await drain(store, blind.cursor, { overlapSeconds: 0 });
        expect(ids(missed.seen).has(await hashSecret(other.token))).toBe(false);
      });

      it('deterministic interleaving across pages: a late entry behind a full page is read on the next pass', async () => {
        const familyId = generateSecret();
        for (let i = 0; i < 5; i++) await store.accessTokens.issue(data(familyId));
        const slow = await store.accessTokens.issue(data());
        await store.revokeFamily(familyId);
        const pages = await drain(store, undefined, { limit: 2 });
        expect(pages.pages).toBe(3);
        expect(pages.seen).toHaveLength(5);
        const lateStore = createTokenStore({
          adapter: backend.adapter,
          now: () => clock.now - 1000,
          production: false,
        });
        await lateStore.accessTokens.revoke(slow.token);
        const next = await drain(store, pages.cursor, { limit: 2 });
        expect(ids(next.seen).has(await hashSecret(slow.token))).toBe(true);
      });

      it('real concurrency: revocations racing a polling reader are all seen', async () => {
        const families = await Promise.all(
          Array.from({ length: 8 }, async () => {
            const familyId = generateSecret();
            const a = await store.accessTokens.issue(data(familyId));
            const b = await store.accessTokens.issue(data(familyId));
            return { familyId, tokens: [a.token, b.token] };
          }),
        );
        const singles = await Promise.all(
          Array.from({ length: 8 }, () => store.accessTokens.issue(data())),
        );
        const expected = new Set(
          await Promise.all(
            [...families.flatMap((f) => f.tokens), ...singles.map((s) => s.token)].map(hashSecret),
          ),
        );
        const seen = new Set<string>();
        let cursor: string | undefined;
        let done = false;
        const reader = (async () => {
          while (!done) {
            const page = await drain(store, cursor, { limit: 3 });
            for (const entry of page.seen) seen.add(entry.id);
            cursor = page.cursor;
          }
        })();
        await Promise.all([
          ...families.flatMap((f) => [
            store.revokeFamily(f.familyId),
            store.revokeFamily(f.familyId),
          ]),
          ...singles.map((s) => store.accessTokens.revoke(s.token)),
        ]);
        done = true;
        await reader;
        for (const entry of (await drain(store, cursor, { limit: 3 })).seen) seen.add(entry.id);
        expect(seen).toEqual(expected);
        // Each revoked token is stored once, however many revocations raced.
        expect((await drain(store)).seen).toHaveLength(expected.size);
      });
    });

    describe('once-only store (store.replay)', () => {
      const key = () => `jti:${generateSecret()}`;
      const later = () => clock.now + 60_000;

      it('true the first time, false while the key is remembered; keys are independent', async () => {
        expect(store.replay.supported).toBe(true);
        const [a, b] = [key(), key()];
        expect(await store.replay.remember(a, later())).toBe(true);
        expect(await store.replay.remember(a, later())).toBe(false);
        expect(await store.replay.remember(a, later() + 3_600_000)).toBe(false);
        expect(await store.replay.remember(b, later())).toBe(true);
        // A second facade over the same backend sees the same entries.
        const other = createTokenStore({
          adapter: backend.adapter,
          now: () => clock.now,
          production: false,
        });
        expect(await other.replay.remember(a, later())).toBe(false);
      });

      it('held until expiresAtMs by the store’s clock, then new again (and a re-remembered key is held anew)', async () => {
        const k = key();
        const expiresAt = clock.now + 5_000;
        expect(await store.replay.remember(k, expiresAt)).toBe(true);
        clock.now = expiresAt - 1;
        expect(await store.replay.remember(k, later())).toBe(false);
        clock.now = expiresAt;
        expect(await store.replay.remember(k, clock.now + 5_000)).toBe(true);
        expect(await store.replay.remember(k, later())).toBe(false);
      });

      it('an expiry already past stores nothing: true each time, unless the key is held', async () => {
        const k = key();
        expect(await store.replay.remember(k, clock.now - 1)).toBe(true);
        expect(await store.replay.remember(k, clock.now)).toBe(true);
        expect(await store.replay.remember(k, later())).toBe(true);
        expect(await store.replay.remember(k, clock.now - 1)).toBe(false);
      });

      it('a fractional expiry is rounded up, never down', async () => {
        const k = key();
        const start = clock.now;
        expect(await store.replay.remember(k, start + 5_000.5)).toBe(true);
        clock.now = start + 5_000; // held until start + 5001; rounded down it would end now
        expect(await store.replay.remember(k, later())).toBe(false);
      });

      it('of 50 concurrent calls for one key, exactly one gets true; 50 keys at once all get true', async () => {
        const k = key();
        const one = await Promise.all(
          Array.from({ length: 50 }, () => store.replay.remember(k, later())),
        );
        expect(one.filter((won) => won === true)).toHaveLength(1);
        expect(one.filter((won) => won === false)).toHaveLength(49);
        const many = await Promise.all(
          Array.from({ length: 50 }, () => store.replay.remember(key(), later())),
        );
        expect(many.every((won) => won === true)).toBe(true);
      });

      it('keys of 1 to 256 characters, any text (braces, colons, non-ASCII), each its own', async () => {
        const base = generateSecret();
        const keys = [
          'x',
          `${base}{tag}`,
          `{tag}${base}`,
          `${base}:é🔑`,
          `${base}:e🔑`,
          `${base}${'a'.repeat(256 - base.length)}`,
        ];
        for (const k of keys) expect(await store.replay.remember(k, later())).toBe(true);
        for (const k of keys) expect(await store.replay.remember(k, later())).toBe(false);
      });

      it('refuses keys it cannot hold faithfully and expiries that are no time, before the backend', async () => {
        for (const bad of ['', 'a'.repeat(257), 'nul\0byte', 'lone\uD800surrogate', '\uDC00']) {
          await expect(store.replay.remember(bad, later())).rejects.toMatchObject({
            name: 'TypeError',
            code: 'ERR_INVALID_ARG_VALUE',
          });
        }
        for (const bad of [undefined, 42, null, ['a']]) {
          await expect(
            store.replay.remember(bad as unknown as string, later()),
          ).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        }
        // Beyond what a bigint column or a Redis expiry holds: refused, never a backend error.
        for (const bad of [1e20, Number.MAX_VALUE, -1e20]) {
          await expect(store.replay.remember(key(), bad)).rejects.toMatchObject({
            name: 'TypeError',
            code: 'ERR_INVALID_ARG_VALUE',
          });
        }
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '1', undefined]) {
          await expect(
            store.replay.remember(key(), bad as unknown as number),
          ).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        }
      });

      it('entries end at their expiry: after purgeExpired the key is new, a live one still held', async () => {
        const [gone, live] = [key(), key()];
        expect(await store.replay.remember(gone, clock.now + 1_000)).toBe(true);
        expect(await store.replay.remember(live, clock.now + 60_000)).toBe(true);
        advance(2);
        await store.adapter.purgeExpired(clock.now);
        expect(await store.replay.remember(live, later())).toBe(false);
        expect(await store.replay.remember(gone, clock.now + 1_000)).toBe(true);
        expect(await store.replay.remember(gone, clock.now + 1_000)).toBe(false);
      });
    });

    describe('TokenManager (the guide’s API)', () => {
      it('issue → validate → revoke, with typed errors', async () => {
        const tokens = new TokenManager(store);
        const issued = await tokens.issue('user-1', ['read', 'admin'], { clientId: 'client-a' });
        expect(issued.accessToken).toMatch(BASE64URL_256);
        expect(issued.refreshToken).toBeUndefined();
        expect(issued.expiresAt).toBe(clock.now + 3_600_000);
        const record = await tokens.validate(issued.accessToken);
        expect(record).toMatchObject({ userId: 'user-1', scopes: ['read', 'admin'] });
        expect(await tokens.revoke(issued.accessToken)).toBe(true);
        await expect(tokens.validate(issued.accessToken)).rejects.toMatchObject({
          code: 'invalid_token',
        });
        const short = new TokenManager(store, { accessTokenTtlSeconds: 60 });
        const soon = await short.issue('user-1', []);
        advance(60);
        await expect(short.validate(soon.accessToken)).rejects.toMatchObject({ code: 'expired' });
      });

      it('rotate gives a new access and refresh token; reuse revokes the family', async () => {
        const tokens = new TokenManager(store);
        const issued = await tokens.issue('user-1', ['read'], { refresh: true });
        const next = await tokens.rotate(issued.refreshToken!);
        expect(next.familyId).toBe(issued.familyId);
        expect((await tokens.validate(next.accessToken)).familyId).toBe(issued.familyId);
        expect((await tokens.rotate(issued.refreshToken!)).refreshToken).toBe(next.refreshToken);
        advance(31);
        await expect(tokens.rotate(issued.refreshToken!)).rejects.toBeInstanceOf(
          RefreshTokenReuseError,
        );
        await expect(tokens.validate(next.accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
        await expect(tokens.validate(issued.accessToken)).rejects.toBeInstanceOf(InvalidTokenError);
        expect(await tokens.revoke(next.refreshToken)).toBe(false);
      });
    });

    it('no secret at rest: a dump of the backend contains none of the issued secrets', async () => {
      const secrets: string[] = [];
      const tokens = new TokenManager(store);
      for (let i = 0; i < 3; i++) {
        const issued = await tokens.issue(`user-${i}`, ['read'], {
          clientId: 'client-a',
          refresh: true,
        });
        secrets.push(issued.accessToken, issued.refreshToken!);
        const rotated = await tokens.rotate(issued.refreshToken!);
        secrets.push(rotated.accessToken, rotated.refreshToken);
        const { code } = await store.codes.issue(codeData({ userId: `user-${i}` }));
        secrets.push(code);
        // Revoked ones too: the revocation feed holds their hashes only.
        if (i === 1) await tokens.revoke(rotated.accessToken);
        if (i === 2) await store.revokeFamily(rotated.familyId);
        const clientSecret = generateSecret();
        await store.clients.save(clientRecord(`client-${i}`, await hashSecret(clientSecret)));
        secrets.push(clientSecret);
      }
      const key = await signingKey('kid-dump');
      await store.signingKeys.save(key);
      secrets.push(key.privateJwk.d as string);

      const dump = await backend.dump();
      // The dump must be the real contents: hashes of the secrets are there.
      expect(dump).toContain(await hashSecret(secrets[0]!));
      expect(dump).toContain(await hashSecret(secrets[8]!)); // in the revocation feed
      expect(dump).toContain('client-a');
      for (const secret of secrets) expect(dump).not.toContain(secret);
    });
  });
}
