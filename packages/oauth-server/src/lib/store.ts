import type {
  AccessTokenRecord,
  AuthorizationCodeInput,
  AuthorizationCodeRecord,
  ClientRecord,
  CodeExchange,
  ConsentRecord,
  ConsumeCodeOptions,
  ConsumeResult,
  ExchangeCodeOptions,
  GrantSummary,
  GrantTokens,
  IssueTokensOptions,
  RefreshTokenRecord,
  RevocationPage,
  RevocationsListOptions,
  RotateOptions,
  Rotation,
  SigningKeyRecord,
} from '@portcullis/token-store';
import {
  ClientChangedError,
  GRANT_FAILURE_CODES,
  InvalidCursorError,
  isTokenStoreError,
  StoreUnavailableError,
} from '@portcullis/token-store';

/**
 * The part of @portcullis/token-store's `TokenStore` facade the authorization server uses.
 * Written out structurally so that any store keeping the contract (and a test double for a
 * unit test) fits; `createTokenStore()` returns one.
 */
export interface AuthorizationServerStore {
  codes: {
    /** Without `familyId`, the code starts a new grant with an id the store generates. */
    /**
     * With `readConsent`, the result may also carry `consent`: the standing consent of the code's
     * user × client × resource, read with the write (one round trip where the store can). A
     * store without it leaves `consent` out and the server reads it with `consents.find`.
     */
    issue(
      data: AuthorizationCodeInput,
      options?: { ttlSeconds?: number; grantTtlSeconds?: number; readConsent?: boolean },
    ): Promise<{ code: string; record: AuthorizationCodeRecord; consent?: ConsentRecord }>;
    /**
     * With `match`, redeems only a code whose record holds those values, in the same atomic
     * step (see `ConsumeCodeOptions`); a store that ignores it is still safe: the token endpoint
     * validates what it gets back.
     */
    consume(
      code: string,
      options?: ConsumeCodeOptions,
    ): Promise<ConsumeResult<AuthorizationCodeRecord>>;
    find(code: string): Promise<AuthorizationCodeRecord | undefined>;
    /** Consume and issue the grant's tokens in one step where the store can (see `CodeStore`). */
    exchange?(code: string, options?: ExchangeCodeOptions): Promise<CodeExchange>;
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
    /** With `clientId` and `accessToken` (what the token endpoint passes): see `RotateOptions`. */
    rotate(token: string, options?: RotateOptions): Promise<Rotation>;
    revoke(token: string): Promise<boolean>;
  };
  /** A grant's access token and refresh token stored in one write (a code exchange). */
  issueTokens(
    data: Omit<AccessTokenRecord, 'createdAt' | 'expiresAt'>,
    options?: IssueTokensOptions,
  ): Promise<GrantTokens>;
  revokeFamily(familyId: string): Promise<number>;
  /**
   * The revocation feed: access tokens revoked and not yet expired (see `RevocationFeedStore`).
   * Required by the `revocationFeed` option.
   */
  /**
   * A once-only store shared by every instance (`store.replay` of @portcullis/token-store):
   * `remember(key, expiresAtMs)` resolves `true` the first time, `false` while remembered.
   * private_key_jwt needs it (each assertion's `jti` is accepted once); without it the server
   * neither offers nor accepts private_key_jwt.
   */
  replay?: {
    readonly supported?: boolean;
    remember(key: string, expiresAtMs: number): Promise<boolean>;
  };
  revocations?: {
    readonly supported?: boolean;
    list(options?: RevocationsListOptions): Promise<RevocationPage>;
  };
  grantsByUser(userId: string): Promise<GrantSummary[]>;
  clients: {
    save(record: ClientRecord, options?: { ttlSeconds?: number }): Promise<unknown>;
    find(clientId: string): Promise<ClientRecord | undefined>;
    /**
     * A client for a grant step, possibly from the store's memory: the token endpoint passes it
     * as `client` to `codes.consume` and `refreshTokens.rotate`, which check it in the same atomic
     * step (`ClientChangedError` when it changed: nothing done). Without it, `find`.
     */
    lookup?(clientId: string): Promise<ClientRecord | undefined>;
    verifySecret(client: ClientRecord, secret: string): Promise<boolean>;
    /** Deletes clients past their expiry and resolves their ids, each to one caller (`as.clients.sweepExpired`). */
    sweepExpired?(options?: { limit?: number }): Promise<string[]>;
  };
  consents: {
    grant(
      userId: string,
      clientId: string,
      scopes: string[],
      options?: { resource?: string },
    ): Promise<ConsentRecord>;
    find(
      userId: string,
      clientId: string,
      options?: { resource?: string },
    ): Promise<ConsentRecord | undefined>;
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
  GrantSummary,
  RefreshTokenRecord,
  SigningKeyRecord,
};

/** ClientChangedError of @portcullis/token-store: a looked-up client changed; nothing was done. */
export function isClientChanged(error: unknown): boolean {
  return isTokenStoreError(error, ClientChangedError.code);
}

/** InvalidCursorError of @portcullis/token-store: a revocation feed cursor it did not hand out. */
export function isInvalidCursor(error: unknown): boolean {
  return isTokenStoreError(error, InvalidCursorError.code);
}

/**
 * The store's once-only memory (`store.replay`, @portcullis/token-store), when it has one it can
 * use: `supported: false` is an adapter of another package, without it.
 */
export function storeReplay(
  store: AuthorizationServerStore,
): NonNullable<AuthorizationServerStore['replay']> | undefined {
  const replay = store.replay;
  return typeof replay?.remember === 'function' && replay.supported !== false ? replay : undefined;
}

/** StoreUnavailableError of @portcullis/token-store: answered 503. */
export function isStoreUnavailable(error: unknown): boolean {
  return isTokenStoreError(error, StoreUnavailableError.code);
}

/**
 * The store failures that mean "this code or refresh token is no good" (unknown, expired,
 * reused, or its grant revoked): answered `invalid_grant`.
 */
export function isGrantFailure(error: unknown): boolean {
  return isTokenStoreError(error, ...GRANT_FAILURE_CODES);
}
