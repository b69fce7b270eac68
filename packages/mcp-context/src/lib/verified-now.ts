import type { AuthInfo, TokenVerifier } from '../types.js';

/**
 * Where `cachedVerifier` puts its synchronous cache lookup on the verifier it returns: the
 * guard answers a request whose token is already verified without a promise, a microtask turn
 * or an `await` (each of which, under concurrent requests, costs more than the lookup itself).
 * A symbol private to this package, so nothing else reads or replaces it.
 */
export const verifiedNow = Symbol('verifiedNow');

/** A verifier that may answer from memory at once: `undefined` means "ask it the usual way". */
export type MaybeSyncVerifier = TokenVerifier & {
  [verifiedNow]?: (token: string) => AuthInfo | undefined;
};
