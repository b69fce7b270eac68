import {
  checkBinding,
  createMemoryReplayStore,
  createNonceIssuer,
  DEFAULT_DPOP_ALGORITHMS,
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  DpopProofError,
  type NonceIssuer,
  proofWindow,
  type ReplayStore,
  ReplayStoreFullError,
  UseDpopNonceError as UseNonce,
  verifyProof,
} from '@portcullis/dpop';
import { boundJkt } from '@portcullis/token-store';
import { exportJWK, importPKCS8, type JWK } from 'jose';
import {
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidRequestError,
  TemporarilyUnavailableError,
  UseDpopNonceError,
} from '../errors.js';
import type { DpopOptions } from '../options.js';
import { NO_STORE } from './http.js';
import { type AuthorizationServerStore, storeReplay } from './store.js';
import { invalidArg, invalidArgType } from './type-error.js';

/**
 * DPoP (RFC 9449) at the token endpoint: the validated `dpop` option. The logic the token
 * endpoint calls lives here, so that the grants themselves only pass a `jkt` along.
 */
export interface DpopConfig {
  /** Token requests without a proof are refused. */
  required: boolean;
  algorithms: readonly DpopAlgorithm[];
  replay: ReplayStore;
  /** Server nonces (§8), when required; built on first use (the secret may come from a key). */
  nonces: (() => Promise<NonceIssuer>) | undefined;
  maxAgeSeconds: number;
  clockSkewSeconds: number;
}

/** What the token endpoint needs of the context. */
interface DpopContext {
  dpop: DpopConfig | undefined;
  endpoints: { token: string };
  now: () => number;
}

/** The prefix of this server's keys in a shared once-only store (assertions use their own). */
const REPLAY_PREFIX = 'dpop:as:';

/** The store's own once-only memory, under this server's prefix, when it has one. */
function prefixedStoreReplay(store: AuthorizationServerStore): ReplayStore | undefined {
  const replay = storeReplay(store);
  if (replay === undefined) return undefined;
  const { remember } = replay;
  return {
    remember: (key, expiresAtMs) => remember.call(replay, REPLAY_PREFIX + key, expiresAtMs),
  };
}

/** Validates the `dpop` option (a caller's mistake throws TypeError); `undefined` when off. */
export function dpopConfig(
  option: boolean | DpopOptions | undefined,
  store: AuthorizationServerStore,
  signingKey: JWK | string | undefined,
  now: () => number,
): DpopConfig | undefined {
  if (option === false) return undefined;
  if (option !== undefined && option !== true && (typeof option !== 'object' || option === null)) {
    throw invalidArgType('"dpop" must be a boolean or { required?, nonce?, replay?, algorithms? }');
  }
  const given: DpopOptions = option === undefined || option === true ? {} : option;
  if (given.required !== undefined && typeof given.required !== 'boolean') {
    throw invalidArgType('"dpop.required" must be a boolean');
  }
  const algorithms = given.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    algorithms.some((alg) => !(DPOP_ALGORITHMS as readonly unknown[]).includes(alg))
  ) {
    throw invalidArg(`"dpop.algorithms" must be a non-empty list of ${DPOP_ALGORITHMS.join(', ')}`);
  }
  if (given.replay !== undefined && typeof given.replay?.remember !== 'function') {
    throw invalidArgType('"dpop.replay" must be a replay store ({ remember(key, expiresAtMs) })');
  }
  return {
    required: given.required === true,
    algorithms: [...algorithms],
    replay: given.replay ?? prefixedStoreReplay(store) ?? createMemoryReplayStore({ now }),
    nonces: nonceIssuer(given.nonce, signingKey, now),
    ...proofWindow(given, 'dpop.'),
  };
}

/**
 * The nonce issuer of the `dpop.nonce` option: its `secret`, or else one derived from the
 * configured signing key (the same on every instance configured with it). Stateless either way.
 */
function nonceIssuer(
  option: DpopOptions['nonce'],
  signingKey: JWK | string | undefined,
  now: () => number,
): (() => Promise<NonceIssuer>) | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw invalidArgType('"dpop.nonce" must be a boolean or { secret?, windowSeconds? }');
  }
  const { secret, windowSeconds } = option === true ? {} : option;
  if (secret === undefined && signingKey === undefined) {
    throw invalidArg(
      '"dpop.nonce" needs a secret every instance shares: give dpop.nonce.secret (32 bytes or more) or a signingKey',
    );
  }
  // A bad secret or window is a start-up error, not a failing request.
  const check = (bytes: string | Uint8Array) =>
    createNonceIssuer({
      secret: bytes,
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
      now,
    });
  if (secret !== undefined) {
    const issuer = check(secret);
    return () => Promise.resolve(issuer);
  }
  let issuer: Promise<NonceIssuer> | undefined;
  return () => {
    issuer ??= derivedSecret(signingKey!).then(check);
    return issuer;
  };
}

/** SHA-256 of a label and the signing key's private scalar: a secret of 32 bytes. */
async function derivedSecret(signingKey: JWK | string): Promise<Uint8Array> {
  const jwk =
    typeof signingKey === 'string'
      ? await exportJWK(await importPKCS8(signingKey, 'ES256', { extractable: true }))
      : signingKey;
  if (typeof jwk.d !== 'string') throw invalidArg('"signingKey" has no private key');
  const input = new TextEncoder().encode(`portcullis DPoP nonce secret\0${jwk.d}`);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', input));
}

/** A proof's payload has `ath` (a resource request's proof): read without verifying anything. */
function hasAth(proof: string): boolean {
  const payload = proof.split('.')[1];
  if (payload === undefined || payload.length > 8192) return false;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof json === 'object' && json !== null && 'ath' in json;
  } catch {
    return false; // malformed: verifyProof says so
  }
}

/** A token request's DPoP proof, verified, its `jti` not yet remembered. */
export interface TokenRequestProof {
  /** The thumbprint of the proof's key: what the tokens are bound to. */
  jkt: string;
  /**
   * Remembers the proof's `jti` in the replay store, once the client is authenticated: a stranger
   * whose authentication fails spends no write. `InvalidDpopProofError` for a replay.
   */
  remember(): Promise<void>;
}

/**
 * The DPoP proof of a token request (RFC 9449 §5), verified: `undefined` when there is none and
 * none is required (a Bearer token then). Every check of §4.3 with `htm` POST and `htu` the token
 * endpoint's URL, no `ath`, and the server nonce when required, before the client authenticates
 * (so a client told `use_dpop_nonce` has spent nothing, its assertion included); its `jti` is
 * remembered after (`remember`). Throws `InvalidDpopProofError` or `UseDpopNonceError` for
 * anything the client sent; a full or failing replay store is a 503 (`temporarily_unavailable`).
 */
export async function tokenRequestProof(
  ctx: DpopContext,
  request: Request,
): Promise<TokenRequestProof | undefined> {
  const config = ctx.dpop;
  if (config === undefined) return undefined;
  const proof = request.headers.get('dpop');
  if (proof === null) {
    if (config.required) throw new InvalidDpopProofError('this server requires a DPoP proof');
    return undefined;
  }
  if (hasAth(proof)) {
    throw new InvalidDpopProofError('a DPoP proof for the token endpoint has no "ath" claim');
  }
  const nonces = config.nonces && (await config.nonces());
  // verifyProof's last step, the replay store, taken down and made later (`remember`).
  let entry: [key: string, expiresAtMs: number] | undefined;
  const later: ReplayStore = {
    remember: (key, expiresAtMs) => {
      entry = [key, expiresAtMs];
      return Promise.resolve(true);
    },
  };
  let jkt: string;
  try {
    const verified = await verifyProof(proof, {
      method: 'POST',
      url: ctx.endpoints.token,
      nonce: nonces,
      replay: later,
      algorithms: config.algorithms,
      maxAgeSeconds: config.maxAgeSeconds,
      clockSkewSeconds: config.clockSkewSeconds,
      now: ctx.now,
    });
    jkt = verified.jkt;
  } catch (error) {
    if (error instanceof UseNonce) {
      throw new UseDpopNonceError(error.message, await nonces!.issue(), { cause: error });
    }
    if (error instanceof DpopProofError) {
      throw new InvalidDpopProofError(error.message, { cause: error });
    }
    throw unavailable(error);
  }
  const [key, expiresAtMs] = entry!;
  return {
    jkt,
    remember: async () => {
      let first: boolean;
      try {
        first = await config.replay.remember(key, expiresAtMs);
      } catch (error) {
        throw unavailable(error);
      }
      if (!first) throw new InvalidDpopProofError('The DPoP proof has been used before');
    },
  };
}

/**
 * The replay store's (or nonce issuer's) failure: the proof is not accepted, and the answer says
 * the server is at fault, for now.
 */
function unavailable(error: unknown): TemporarilyUnavailableError {
  return new TemporarilyUnavailableError(
    error instanceof ReplayStoreFullError
      ? 'too many DPoP proofs to remember, retry later'
      : 'the DPoP replay store is unavailable, retry later',
    { cause: error },
  );
}

/**
 * A refresh of a token bound to a key (a public client's, §5): the proof must be made with
 * that key. An unbound token needs nothing.
 */
export function checkRefreshBinding(
  extra: Record<string, unknown> | undefined,
  jkt: string | undefined,
): void {
  const bound = boundJkt({ extra });
  if (bound === undefined) return;
  if (jkt === undefined) {
    throw new InvalidGrantError('the refresh token is bound to a DPoP key: send a DPoP proof');
  }
  if (!checkBinding(bound, jkt)) {
    throw new InvalidGrantError('the refresh token is bound to another DPoP key');
  }
}

/**
 * A code whose authorization request named `dpop_jkt` (§10): the token request's proof must
 * be made with that key.
 */
export function checkCodeBinding(
  extra: Record<string, unknown> | undefined,
  jkt: string | undefined,
): void {
  const wanted = extra?.dpopJkt;
  if (typeof wanted !== 'string') return;
  if (jkt === undefined || !checkBinding(wanted, jkt)) {
    throw new InvalidGrantError(
      'the authorization request named a DPoP key (dpop_jkt): the proof must be made with it',
    );
  }
}

/** `dpop_jkt` of an authorization request (§10): a SHA-256 thumbprint, 43 base64url characters. */
export function parseDpopJkt(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) {
    throw new InvalidRequestError(
      'dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters)',
    );
  }
  return value;
}

/** The headers of a token response: with a nonce when nonces are required (§8.2). */
const withNonce = new Map<string, Record<string, string>>();

export async function tokenResponseHeaders(ctx: DpopContext): Promise<Record<string, string>> {
  const nonces = ctx.dpop?.nonces;
  if (nonces === undefined) return NO_STORE;
  const nonce = await (await nonces()).issue();
  let headers = withNonce.get(nonce);
  if (headers === undefined) {
    // One record per nonce (a window's), shared and frozen: jsonReply caches by it.
    if (withNonce.size > 4) withNonce.clear();
    headers = Object.freeze({ ...NO_STORE, 'DPoP-Nonce': nonce });
    withNonce.set(nonce, headers);
  }
  return headers;
}
