import { hashSecret } from '@portcullis/token-store';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { InvalidClientError, OAuthError } from '../errors.js';
import type { Context } from './context.js';
import { ASSERTION_SIGNING_ALGS } from './jwks.js';
import { type ClientRecord, isStoreUnavailable, storeReplay } from './store.js';

/** RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds. */
const ASSERTION_SKEW_SECONDS = 30;
/** Longest lifetime of an assertion (`exp` after `iat`, or after now), in seconds. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;
/** Longest `jti` accepted. */
const MAX_JTI = 256;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether the server can take private_key_jwt at all: its store has a once-only store. */
export function supportsPrivateKeyJwt(ctx: Context): boolean {
  return storeReplay(ctx.store) !== undefined;
}

/** The methods a client may authenticate with (`metadata.token_endpoint_auth_methods` or its one). */
export function clientAuthMethods(client: ClientRecord): string[] {
  const listed = client.metadata?.token_endpoint_auth_methods;
  return Array.isArray(listed) && listed.every((m) => typeof m === 'string')
    ? (listed as string[])
    : [client.tokenEndpointAuthMethod];
}

/**
 * The client id an assertion names (`sub`, else `iss`), read without verification: only to find
 * the client whose keys then verify it.
 */
export function assertedClientId(assertion: string): string | undefined {
  if (!JWT_SHAPE.test(assertion)) return undefined;
  try {
    const { sub, iss } = decodeJwt(assertion);
    const id = sub ?? iss;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a `private_key_jwt` client assertion (RFC 7523 §3, OpenID Connect Core §9) for
 * `client`: a compact JWS with an asymmetric algorithm (the client's
 * `token_endpoint_auth_signing_alg` when it registered one), signed by a key of its `jwks` or
 * `jwks_uri` (selected by `kid`; an unknown `kid` fetches the set again, at most once a minute),
 * `iss` = `sub` = the client id, `aud` this server's issuer alone (rfc7523bis), `exp` within
 * `MAX_ASSERTION_LIFETIME_SECONDS` of `iat` and of now, `iat`/`nbf` not in the future (with
 * `ASSERTION_SKEW_SECONDS`), and a `jti` not seen before: remembered in the store until the
 * assertion expires, so a replay is refused by every instance (`spent`: this request's own
 * authentication remembered it already). Any failure is `invalid_client`.
 */
export async function verifyClientAssertion(
  ctx: Context,
  client: ClientRecord,
  assertion: string,
  beforeFetch: () => Promise<void>,
  spent = false,
): Promise<void> {
  if (!supportsPrivateKeyJwt(ctx)) {
    throw new InvalidClientError('private_key_jwt is not available on this server');
  }
  if (!JWT_SHAPE.test(assertion)) {
    throw new InvalidClientError('client_assertion is not a signed JWT');
  }
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(assertion).alg;
  } catch {
    throw new InvalidClientError('client_assertion is not a signed JWT');
  }
  const registered = client.metadata?.token_endpoint_auth_signing_alg;
  const algorithms: string[] =
    typeof registered === 'string' ? [registered] : [...ASSERTION_SIGNING_ALGS];
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw new InvalidClientError(
      `client_assertion must be signed with ${typeof registered === 'string' ? registered : 'an asymmetric algorithm'}`,
    );
  }
  const now = ctx.now();
  let payload: JWTPayload;
  try {
    payload = await verifyWithKeys(ctx, client, assertion, alg, now, beforeFetch);
  } catch (error) {
    // A rate limit or a store outage is answered as itself; every other failure is the client's.
    if (error instanceof OAuthError && !(error instanceof InvalidClientError)) throw error;
    if (isStoreUnavailable(error)) throw error;
    throw new InvalidClientError(describeFailure(error), { cause: error });
  }
  // The issuer as the only audience (draft-ietf-oauth-rfc7523bis §2-3): an assertion addressed to
  // anything else, or to others as well, may have been handed to another server that replays it
  // here (the audience-injection attack the update closes); jose checked it is among them.
  if (Array.isArray(payload.aud) && payload.aud.length !== 1) {
    throw new InvalidClientError("client_assertion aud must be this server's issuer alone");
  }
  const nowSeconds = now / 1000;
  const { exp, iat, jti } = payload as { exp: number; iat?: number; jti: unknown };
  if (
    exp - nowSeconds > MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_SKEW_SECONDS ||
    (iat !== undefined && exp - iat > MAX_ASSERTION_LIFETIME_SECONDS)
  ) {
    throw new InvalidClientError(
      `client_assertion lives too long (exp at most ${MAX_ASSERTION_LIFETIME_SECONDS} s after iat and now)`,
    );
  }
  if (iat !== undefined && iat > nowSeconds + ASSERTION_SKEW_SECONDS) {
    throw new InvalidClientError('client_assertion iat is in the future');
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) {
    throw new InvalidClientError(
      `client_assertion jti must be a string of 1 to ${MAX_JTI} characters`,
    );
  }
  if (spent) return;
  // Per client: another client's jti is its own. Hashed: a client id may be 2048 characters.
  const key = `client-assertion:${await hashSecret(`${client.clientId}\n${jti}`)}`;
  const expiresAtMs = (exp + ASSERTION_SKEW_SECONDS) * 1000;
  if (!(await ctx.store.replay!.remember(key, expiresAtMs))) {
    throw new InvalidClientError('client_assertion was used before (jti)');
  }
}

/** A jose key set per key list (its imported keys are cached with it). */
const keySets = new WeakMap<JWK[], ReturnType<typeof createLocalJWKSet>>();

function keySet(keys: JWK[]): ReturnType<typeof createLocalJWKSet> {
  let set = keySets.get(keys);
  if (!set) {
    set = createLocalJWKSet({ keys });
    keySets.set(keys, set);
  }
  return set;
}

async function verifyWithKeys(
  ctx: Context,
  client: ClientRecord,
  assertion: string,
  alg: string,
  now: number,
  beforeFetch: () => Promise<void>,
): Promise<JWTPayload> {
  const options = {
    algorithms: [alg],
    issuer: client.clientId,
    subject: client.clientId,
    audience: ctx.issuer,
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
    clockTolerance: ASSERTION_SKEW_SECONDS,
    currentDate: new Date(now),
  };
  const verify = async (keys: JWK[]): Promise<JWTPayload> => {
    try {
      return (await jwtVerify(assertion, keySet(keys), options)).payload;
    } catch (error) {
      // No kid and several keys of the algorithm's kind (at most MAX_FETCHED_KEYS): each in turn.
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      for await (const key of error as AsyncIterable<CryptoKey>) {
        try {
          return (await jwtVerify(assertion, key, options)).payload;
        } catch (failure) {
          if (!(failure instanceof errors.JWSSignatureVerificationFailed)) throw failure;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  };
  const inline = (client.metadata?.jwks as { keys?: JWK[] } | undefined)?.keys;
  if (Array.isArray(inline)) return verify(inline);
  const uri = client.metadata?.jwks_uri;
  if (typeof uri !== 'string') {
    throw new InvalidClientError('the client has no keys (jwks or jwks_uri)');
  }
  try {
    return await verify(await ctx.cimd.jwks(uri, { beforeFetch }));
  } catch (error) {
    // A key the cached set does not hold: the client may have rotated it in.
    if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    return verify(await ctx.cimd.jwks(uri, { refresh: true, beforeFetch }));
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof InvalidClientError) return error.message;
  if (error instanceof errors.JWTExpired) return 'client_assertion has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `client_assertion ${error.claim} is missing or invalid`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'no key of the client matches the client_assertion (kid, alg)';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'the client_assertion signature does not verify';
  }
  return 'client_assertion is invalid';
}
