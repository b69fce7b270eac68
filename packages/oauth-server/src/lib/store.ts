import type {
  AccessTokenRecord,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  ConsumeResult,
  RefreshTokenRecord,
  SigningKeyRecord,
} from '@portcullis/token-store';

/**
 * The part of @portcullis/token-store's `TokenStore` facade the authorization server uses.
 * Written out structurally so that any store keeping the contract (and a test double for a
 * unit test) fits; `createTokenStore()` returns one.
 */
export interface AuthorizationServerStore {
  codes: {
    issue(
      data: Omit<AuthorizationCodeRecord, 'createdAt' | 'expiresAt' | 'consumedAt'>,
      options?: { ttlSeconds?: number },
    ): Promise<{ code: string; record: AuthorizationCodeRecord }>;
    consume(code: string): Promise<ConsumeResult<AuthorizationCodeRecord>>;
  };
  accessTokens: {
    issue(
      data: Omit<AccessTokenRecord, 'createdAt' | 'expiresAt'>,
      options?: { ttlSeconds?: number },
    ): Promise<{ token: string; record: AccessTokenRecord }>;
    find(token: string): Promise<AccessTokenRecord | undefined>;
    revoke(token: string): Promise<boolean>;
  };
  refreshTokens: {
    issue(
      data: Omit<RefreshTokenRecord, 'createdAt' | 'expiresAt' | 'consumedAt'>,
      options?: { ttlSeconds?: number },
    ): Promise<{ token: string; record: RefreshTokenRecord }>;
    find(token: string): Promise<RefreshTokenRecord | undefined>;
    rotate(
      token: string,
      options?: { graceSeconds?: number; ttlSeconds?: number; scopes?: string[] },
    ): Promise<{ token: string; record: RefreshTokenRecord; previous: RefreshTokenRecord }>;
    revoke(token: string): Promise<boolean>;
  };
  revokeFamily(familyId: string): Promise<number>;
  clients: {
    save(record: ClientRecord): Promise<unknown>;
    find(clientId: string): Promise<ClientRecord | undefined>;
    verifySecret(client: ClientRecord, secret: string): Promise<boolean>;
  };
  consents: {
    grant(userId: string, clientId: string, scopes: string[]): Promise<ConsentRecord>;
    find(userId: string, clientId: string): Promise<ConsentRecord | undefined>;
    listByUser(userId: string): Promise<ConsentRecord[]>;
    revoke(userId: string, clientId: string): Promise<boolean>;
  };
  signingKeys: {
    save(record: SigningKeyRecord): Promise<unknown>;
    list(): Promise<SigningKeyRecord[]>;
    delete(kid: string): Promise<boolean>;
  };
}

export type {
  AccessTokenRecord,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
};

/** Store errors are recognised by their stable `code`, so a second copy of the package still matches. */
function storeErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** StoreUnavailableError of @portcullis/token-store (or a limiter's store outage). */
export function isStoreUnavailable(error: unknown): boolean {
  return storeErrorCode(error) === 'store_unavailable';
}

/** The rotate() failures that mean "this refresh token is no good": invalid_grant. */
export function isRefreshGrantFailure(error: unknown): boolean {
  const code = storeErrorCode(error);
  return code === 'invalid_token' || code === 'expired' || code === 'token_reused';
}
