import {
  createRemoteJWKSet,
  customFetch,
  type FetchImplementation,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { InvalidTokenError, VerifierUnavailableError } from '../errors.js';
import { discoverJwksUri } from '../lib/discover-jwks.js';
import {
  assertNonEmptyString,
  assertObject,
  assertResourceUrl,
  assertStringArray,
  invalidType,
  invalidValue,
} from '../lib/errors.js';
import { scopesFromClaims } from '../lib/scopes.js';
import { sha256Base64url } from '../lib/sha256.js';
import type { AuthInfo, TokenVerifier } from '../types.js';
import { type CacheOptions, cachedVerifier } from './cached-verifier.js';
import { assertRevocations, type RevocationFeed } from './revocation-feed.js';

/** Asymmetric algorithms accepted by default: what authorization servers sign access tokens with. */
export const DEFAULT_JWT_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as const;
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
/** RFC 9068 §4 `typ` values, plus the plain `JWT` many identity providers still send. */
const ACCEPTED_TYP = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt']);

/**
 * How strictly a token must follow RFC 9068. `tolerant` (the default) accepts what common
 * identity providers issue as access tokens: `typ` `at+jwt`, `JWT` or none, `sub`,
 * `client_id` and `iat` optional. `rfc9068` is [RFC 9068 §4](https://www.rfc-editor.org/rfc/rfc9068#section-4)
 * to the letter: `typ` `at+jwt`, `sub` and `client_id` present, `iat` present and not in the
 * future beyond `clockTolerance`. Choose `rfc9068` when the authorization server is yours (or
 * any that issues RFC 9068 tokens): it refuses ID tokens and other JWTs signed by the same key.
 */
export type JwtProfile = 'tolerant' | 'rfc9068';

export interface JwtVerifierOptions {
  /** The authorization server's issuer identifier; `iss` must equal it exactly. */
  issuer: string;
  /** This server's resource URL (RFC 8707); `aud` must contain it. */
  audience: string | string[];
  /**
   * The issuer's JWKS, fetched once and cached; an unknown `kid` triggers one refetch. Without
   * `jwksUri`, `key` or `secret`, it is discovered on first use from the issuer's RFC 8414 (or
   * OpenID Connect) metadata, whose `issuer` must equal `issuer`; a failed discovery is retried
   * on the next token.
   */
  jwksUri?: string;
  /** A single public key (JWK or CryptoKey) instead of a JWKS. */
  key?: JWK | CryptoKey;
  /**
   * A shared secret: only this turns on HS256/384/512, so a token signed with HMAC over a
   * public key (algorithm confusion) is refused otherwise.
   */
  secret?: string | Uint8Array;
  /** Accepted `alg` values; default the asymmetric ES256, ES384, RS256, PS256, EdDSA. `none` is never accepted. */
  algorithms?: string[];
  /** Seconds of clock skew allowed on `exp`/`nbf`/`iat`; default 5. */
  clockTolerance?: number;
  /** Refuse tokens whose `typ` is not `at+jwt` (RFC 9068 §4 strictly); default false. */
  requireAccessTokenType?: boolean;
  /** `tolerant` (default) for third-party identity providers, `rfc9068` to require RFC 9068 §4 in full. */
  profile?: JwtProfile;
  /** JWKS fetching: cooldown between refetches on unknown `kid` (default 30 000 ms), cache max age (600 000 ms), timeout (5 000 ms). */
  jwks?: {
    cooldownMs?: number;
    cacheMaxAgeMs?: number;
    timeoutMs?: number;
    fetch?: FetchImplementation;
  };
  /** Verified-token cache; on by default (`{ maxEntries: 10000, ttlSeconds: 300 }`), `false` to verify every time. */
  cache?: false | CacheOptions;
  /**
   * The authorization server's revoked tokens (`revocationFeed`): a token whose `jti` it lists
   * is refused (401 `invalid_token`) at verification and on every cache hit, and with it every
   * token has to carry a `jti`. Past the feed's `maxStalenessSeconds`, tokens get 503.
   */
  revocations?: RevocationFeed;
}

type KeyInput = CryptoKey | Uint8Array | JWK;
type KeyResolver = (header: JWTHeaderParameters) => Promise<KeyInput>;

/** jose errors that say the key source, not the token, is at fault. */
function isKeySourceFailure(error: unknown): boolean {
  if (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return false;
  }
  return (
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    // fetch() rejects with a TypeError carrying the network failure as its cause.
    (error instanceof TypeError && error.cause !== undefined) ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) ||
    (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
  );
}

function isCryptoKey(key: JWK | CryptoKey): key is CryptoKey {
  return typeof CryptoKey === 'function' && key instanceof CryptoKey;
}

/**
 * A configured JWK as a resolver: imported once per algorithm a token names (jose has already
 * checked that algorithm against the allowlist, so there are at most as many imports as
 * allowed algorithms), not normalised and looked up by jose on every token. A key that does
 * not fit the algorithm is the token's fault.
 */
function importedJwk(jwk: JWK, onImported: (key: CryptoKey) => void): KeyResolver {
  const imported = new Map<string, Promise<CryptoKey>>();
  return (header) => {
    let key = imported.get(header.alg);
    if (!key) {
      // What jose checks of a JWK before using it (RFC 7517 §4.2-4.4): meant for signatures,
      // for verification, and for this algorithm when it names one.
      if (
        (jwk.use !== undefined && jwk.use !== 'sig') ||
        (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) ||
        (jwk.alg !== undefined && jwk.alg !== header.alg)
      ) {
        return Promise.reject(new InvalidTokenError('The token algorithm does not fit the key'));
      }
      key = importJWK(jwk, header.alg).then(
        (result) => {
          const cryptoKey = result as CryptoKey;
          if (header.alg === jwk.alg) onImported(cryptoKey);
          return cryptoKey;
        },
        (error: unknown) => {
          throw new InvalidTokenError('The token algorithm does not fit the key', { cause: error });
        },
      );
      imported.set(header.alg, key);
    }
    return key;
  };
}

function toAuthInfo(token: string, payload: JWTPayload, resource: string): AuthInfo {
  const claims = payload as Record<string, unknown>;
  const clientId =
    typeof claims.client_id === 'string'
      ? claims.client_id
      : typeof claims.azp === 'string'
        ? claims.azp
        : '';
  const info: AuthInfo = {
    token,
    clientId,
    scopes: scopesFromClaims(claims),
    expiresAt: payload.exp,
    resource: new URL(resource),
    extra: { claims },
  };
  if (typeof payload.sub === 'string') info.userId = payload.sub;
  return info;
}

/**
 * Verifies JWT access tokens ([RFC 9068](https://www.rfc-editor.org/rfc/rfc9068#section-4))
 * with jose: signature by a key from the issuer's JWKS (cached; a new `kid` triggers one
 * refetch, then a cooldown), `iss` exactly the issuer, `aud` containing this server's resource
 * URL ([RFC 8707](https://www.rfc-editor.org/rfc/rfc8707)), `exp` required, the algorithm on an
 * allowlist (asymmetric only unless a `secret` is configured; `none` never), `typ` `at+jwt` or
 * plain `JWT`. Claims map to `AuthInfo`: `client_id` (or `azp`) → `clientId`, `sub` →
 * `userId`, `scope` (space-separated) or `scp` → `scopes`, `exp` → `expiresAt`; all claims
 * under `extra.claims`.
 *
 * @example
 * const verifier = jwtVerifier({
 *   issuer: 'http://localhost:3000',
 *   audience: 'http://localhost:8000/mcp',
 *   jwksUri: 'http://localhost:3000/jwks.json',
 * });
 */
export function jwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  assertObject(options, 'options');
  assertNonEmptyString(options.issuer, 'issuer');
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  assertStringArray(audiences, 'audience');
  if (audiences.length === 0) throw invalidValue('audience', 'must name this resource server');
  for (const [i, aud] of audiences.entries()) assertResourceUrl(aud, `audience[${i}]`);

  const discover =
    options.jwksUri === undefined && options.key === undefined && options.secret === undefined;
  const hasPublicKeys = options.jwksUri !== undefined || options.key !== undefined || discover;
  const algorithms = options.algorithms ?? [
    ...(hasPublicKeys ? DEFAULT_JWT_ALGORITHMS : []),
    ...(options.secret !== undefined ? ['HS256'] : []),
  ];
  assertStringArray(algorithms, 'algorithms');
  if (algorithms.length === 0) throw invalidValue('algorithms', 'must not be empty');
  if (algorithms.some((alg) => alg.toLowerCase() === 'none')) {
    throw invalidValue('algorithms', 'must not contain "none": unsigned tokens are never accepted');
  }
  const hmac = algorithms.filter((alg) => alg.startsWith('HS'));
  if (hmac.length > 0 && options.secret === undefined) {
    throw invalidValue('algorithms', `lists ${hmac.join(', ')} but no "secret" is configured`);
  }
  if (hmac.some((alg) => !HMAC_ALGORITHMS.includes(alg)))
    throw invalidValue('algorithms', 'has an unknown HS algorithm');

  let secret: Uint8Array | undefined;
  if (options.secret !== undefined) {
    if (typeof options.secret === 'string') secret = new TextEncoder().encode(options.secret);
    else if (options.secret instanceof Uint8Array) secret = options.secret;
    else throw invalidType('secret', 'a string or Uint8Array', options.secret);
    // RFC 7518 §3.2: a key of the same size as the hash output or larger.
    if (secret.length < 32)
      throw invalidValue('secret', 'must be at least 32 bytes (RFC 7518 §3.2)');
  }

  let asymmetric: KeyResolver | undefined;
  // A configured public key, as a CryptoKey: handed to jose as it is, with no resolver call,
  // no JWK copy and no key-cache lookup per token.
  let directKey: CryptoKey | undefined;
  if (options.jwksUri !== undefined && options.key !== undefined) {
    throw invalidValue('options', 'takes "jwksUri" or "key", not both');
  }
  const remoteJwks = (url: URL) => {
    const jwks = createRemoteJWKSet(url, {
      cooldownDuration: options.jwks?.cooldownMs ?? 30_000,
      cacheMaxAge: options.jwks?.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: options.jwks?.timeoutMs ?? 5_000,
      ...(options.jwks?.fetch ? { [customFetch]: options.jwks.fetch } : {}),
    });
    return (header: JWTHeaderParameters) => jwks(header);
  };
  if (options.jwksUri !== undefined) {
    asymmetric = remoteJwks(assertResourceUrl(options.jwksUri, 'jwksUri'));
  } else if (discover) {
    let discovered: Promise<KeyResolver> | undefined;
    asymmetric = async (header) => {
      discovered ??= discoverJwksUri(options.issuer, {
        ...(options.jwks?.fetch ? { fetch: options.jwks.fetch } : {}),
        ...(options.jwks?.timeoutMs ? { timeoutMs: options.jwks.timeoutMs } : {}),
      }).then(remoteJwks);
      const pending = discovered;
      try {
        return await (await pending)(header);
      } catch (error) {
        // Not cached: the authorization server may simply not be up yet.
        if (error instanceof VerifierUnavailableError && discovered === pending)
          discovered = undefined;
        throw error;
      }
    };
  } else if (options.key !== undefined) {
    const key = options.key;
    if (typeof key !== 'object' || key === null)
      throw invalidType('key', 'a JWK or CryptoKey', key);
    if ('kty' in key && key.kty === 'oct')
      throw invalidValue('key', 'must be a public key; use "secret" for HMAC');
    if ('d' in key && key.d !== undefined)
      throw invalidValue('key', 'must be a public key, not a private one');
    if (isCryptoKey(key)) {
      if (secret) asymmetric = () => Promise.resolve(key);
      else directKey = key;
    } else if (typeof key.kty !== 'string') {
      // Not a JWK (a Node KeyObject, say): left to jose, as it is.
      asymmetric = () => Promise.resolve(key);
    } else {
      asymmetric = importedJwk(key, (imported) => {
        // A JWK that names its algorithm has one CryptoKey: from now on it goes to jose as it is.
        if (!secret && typeof key.alg === 'string') directKey = imported;
      });
    }
  }
  const clockTolerance = options.clockTolerance ?? 5;
  if (typeof clockTolerance !== 'number' || clockTolerance < 0 || clockTolerance > 300) {
    throw invalidValue('clockTolerance', 'must be a number of seconds between 0 and 300');
  }
  const profile = options.profile ?? 'tolerant';
  if (profile !== 'tolerant' && profile !== 'rfc9068') {
    throw invalidValue('profile', `must be "tolerant" or "rfc9068", received "${String(profile)}"`);
  }
  const strict = profile === 'rfc9068';
  const requireAtJwt = options.requireAccessTokenType === true || strict;
  const requiredClaims = strict ? ['exp', 'iat', 'sub', 'client_id'] : ['exp'];
  const issuer = options.issuer;

  const fetchKey = async (resolve: KeyResolver, header: JWTHeaderParameters): Promise<KeyInput> => {
    try {
      return await resolve(header);
    } catch (error) {
      if (error instanceof VerifierUnavailableError || error instanceof InvalidTokenError)
        throw error;
      if (isKeySourceFailure(error)) {
        throw new VerifierUnavailableError('The issuer JWKS could not be fetched', {
          cause: error,
        });
      }
      throw new InvalidTokenError('The token is signed with an unknown key', { cause: error });
    }
  };
  const resolveKey = (header: JWTHeaderParameters): KeyInput | Promise<KeyInput> => {
    // The allowlist is checked again by jose; choosing the key by family here means an HS*
    // header can never be verified against a public key.
    if (header.alg.startsWith('HS')) {
      if (!secret) throw new InvalidTokenError('The token algorithm is not accepted');
      return secret;
    }
    if (!asymmetric) throw new InvalidTokenError('The token algorithm is not accepted');
    return fetchKey(asymmetric, header);
  };
  // One options object for every token: jose reads it, never keeps or changes it.
  const joseOptions = { issuer, audience: audiences, algorithms, clockTolerance, requiredClaims };

  const accept = (token: string, result: Awaited<ReturnType<typeof jwtVerify>>): AuthInfo => {
    const header: { typ?: unknown } = result.protectedHeader;
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : header.typ;
    if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYP.has(typ))) {
      throw new InvalidTokenError('The token is not an access token (typ)');
    }
    if (requireAtJwt && typ !== 'at+jwt' && typ !== 'application/at+jwt') {
      throw new InvalidTokenError('The token is not an RFC 9068 access token (typ at+jwt)');
    }
    if (strict) {
      const { iat, sub, client_id: clientId } = result.payload;
      // jose checks `iat` only against a maximum age; RFC 9068 §4 wants it not in the future.
      if (typeof iat !== 'number' || iat > Date.now() / 1000 + clockTolerance) {
        throw new InvalidTokenError('The access token\'s "iat" claim is in the future');
      }
      if (
        typeof sub !== 'string' ||
        sub === '' ||
        typeof clientId !== 'string' ||
        clientId === ''
      ) {
        throw new InvalidTokenError('The access token needs string "sub" and "client_id" claims');
      }
    }
    const aud = result.payload.aud;
    const matched =
      audiences.length === 1
        ? audiences[0]!
        : (audiences.find((a) => (Array.isArray(aud) ? aud.includes(a) : aud === a)) ??
          audiences[0]!);
    return toAuthInfo(token, result.payload, matched);
  };

  const refuse = (error: unknown): never => {
    if (error instanceof InvalidTokenError || error instanceof VerifierUnavailableError)
      throw error;
    if (error instanceof joseErrors.JWTExpired) {
      throw new InvalidTokenError('The access token has expired', { cause: error });
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.reason === 'missing') {
      throw new InvalidTokenError(`The access token has no "${error.claim}" claim`, {
        cause: error,
      });
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw new InvalidTokenError(`The access token's "${error.claim}" claim is not accepted`, {
        cause: error,
      });
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed) {
      throw new InvalidTokenError('The token algorithm is not accepted', { cause: error });
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new InvalidTokenError('The token signature is invalid', { cause: error });
    }
    throw new InvalidTokenError('The access token is not a valid JWT', { cause: error });
  };

  const { revocations } = options;
  if (revocations !== undefined) assertRevocations(revocations);
  /** The revocation check of a token verified otherwise: listed, or the list too old. */
  const notRevoked = (info: AuthInfo): AuthInfo | Promise<AuthInfo> => {
    if (revocations === undefined) return info;
    const jti = (info.extra as { claims: JWTPayload }).claims.jti;
    if (typeof jti !== 'string' || jti === '') {
      throw new InvalidTokenError(
        'The access token has no "jti" claim, so its revocation cannot be checked',
      );
    }
    const check = (hash: string) => {
      if (revocations.isRevoked(hash)) throw new InvalidTokenError('The access token was revoked');
      if (revocations.isStale()) {
        throw new VerifierUnavailableError('The list of revoked tokens is out of date');
      }
      return info;
    };
    const digest = sha256Base64url(jti);
    return typeof digest === 'string' ? check(digest) : digest.then(check);
  };

  const verify: TokenVerifier = (token) => {
    if (typeof token !== 'string') return Promise.reject(invalidType('token', 'a string', token));
    const verified = jwtVerify(token, directKey ?? resolveKey, joseOptions).then(
      (result) => accept(token, result),
      refuse,
    );
    return revocations === undefined ? verified : verified.then(notRevoked);
  };

  if (options.cache === false) return verify;
  return cachedVerifier(verify, {
    ...options.cache,
    ...(revocations !== undefined ? { revocations } : {}),
  });
}
