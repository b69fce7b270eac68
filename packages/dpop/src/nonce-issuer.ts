import { base64url } from './lib/base64url.js';
import { constantTimeEqual } from './lib/constant-time.js';
import { CodedTypeError, invalidType } from './lib/errors.js';

const encoder = new TextEncoder();
const MIN_SECRET_BYTES = 32;
/** A nonce is base64url of an HMAC-SHA-256: 43 characters. */
const NONCE_LENGTH = 43;

export interface NonceIssuerOptions {
  /** At least 32 bytes (a string is taken as UTF-8), shared by every instance that checks. */
  secret: string | Uint8Array;
  /** How long one nonce is issued for (default 300); each is accepted for one more window. */
  windowSeconds?: number;
  /** The clock, in epoch milliseconds (default `Date.now`); tests inject one. */
  now?: () => number;
}

/** Server nonces for DPoP proofs, with no storage. */
export interface NonceIssuer {
  /** The nonce to send in `DPoP-Nonce` now. */
  issue(): Promise<string>;
  /** Whether a proof's `nonce` is one issued in this window or the previous one. Never throws. */
  check(nonce: unknown): Promise<boolean>;
}

/**
 * Stateless server nonces ([RFC 9449 §8](https://www.rfc-editor.org/rfc/rfc9449#section-8),
 * §9): the nonce of a time window is `base64url(HMAC-SHA-256(secret, "DPoP-Nonce:" + window))`,
 * unpredictable without the secret, the same on every instance that shares it, and nothing to
 * store. `check` accepts the current and the previous window's nonce (compared in constant
 * time), so a nonce lives between one and two windows. Instances' clocks must agree to well
 * within a window. All clients share a window's nonce, which §8 allows: it limits how long a
 * proof made in advance stays usable; the `jti` replay store still makes each proof single-use.
 *
 * @example
 * const nonces = createNonceIssuer({ secret: process.env.DPOP_NONCE_SECRET });
 * response.headers.set('DPoP-Nonce', await nonces.issue());
 * await verifyProof(proof, { method, url, nonce: nonces, replay });
 */
export function createNonceIssuer(options: NonceIssuerOptions): NonceIssuer {
  if (typeof options !== 'object' || options === null) {
    throw invalidType('options', 'an object', options);
  }
  const { secret, windowSeconds = 300, now = Date.now } = options;
  const secretBytes = typeof secret === 'string' ? encoder.encode(secret) : secret;
  if (!(secretBytes instanceof Uint8Array)) {
    throw invalidType('secret', 'a string or a Uint8Array', secret);
  }
  if (secretBytes.length < MIN_SECRET_BYTES) {
    throw new CodedTypeError(
      `"secret" must be at least ${MIN_SECRET_BYTES} bytes, received ${secretBytes.length}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (typeof windowSeconds !== 'number' || !Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new CodedTypeError(
      `"windowSeconds" must be a positive integer, received ${String(windowSeconds)}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (typeof now !== 'function') throw invalidType('now', 'a function', now);

  const key = crypto.subtle.importKey(
    'raw',
    new Uint8Array(secretBytes),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  // The last two windows' nonces: each is computed once, then every issue and check is a lookup.
  const cache = new Map<number, Promise<string>>();

  function nonceOf(window: number): Promise<string> {
    let nonce = cache.get(window);
    if (nonce === undefined) {
      nonce = key.then(async (k) =>
        base64url(
          new Uint8Array(
            await crypto.subtle.sign('HMAC', k, encoder.encode(`DPoP-Nonce:${window}`)),
          ),
        ),
      );
      cache.set(window, nonce);
      for (const held of cache.keys()) {
        if (held < window - 1 || held > window + 1) cache.delete(held); // bounded if the clock steps back
      }
    }
    return nonce;
  }

  const currentWindow = () => Math.floor(now() / 1000 / windowSeconds);

  return {
    issue: () => nonceOf(currentWindow()),
    async check(nonce: unknown): Promise<boolean> {
      if (typeof nonce !== 'string' || nonce.length !== NONCE_LENGTH) return false;
      const window = currentWindow();
      const [current, previous] = await Promise.all([nonceOf(window), nonceOf(window - 1)]);
      // Both compared, always: the time taken does not say which window matched.
      const matchesCurrent = constantTimeEqual(nonce, current);
      const matchesPrevious = constantTimeEqual(nonce, previous);
      return matchesCurrent || matchesPrevious;
    },
  };
}
