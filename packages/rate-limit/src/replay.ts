/**
 * "Accept this once": remembers a key until a time and says whether it was new. The shape of
 * `@portcullis/dpop`'s `ReplayStore` (DPoP proof `jti`s, RFC 9449 §11.1) and what a
 * `private_key_jwt` client assertion's `jti` needs (RFC 7523 §3): structurally the same
 * interface, so neither package depends on the other.
 */
export interface ReplayStore {
  /**
   * Stores `key` until `expiresAtMs` (epoch milliseconds) unless it is already held; `true` if
   * it was new. Rejects with `StoreUnavailableError` when the store cannot answer: a caller
   * must then refuse (503), never accept.
   */
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}

/** Longest key a replay store takes (dpop's keys are 43 characters; a prefix adds some). */
export const MAX_REPLAY_KEY = 512;
