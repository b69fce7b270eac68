import type { OpenIdClaims, OpenIdOptions, UserClaimName } from '../options.js';
import type { Context } from './context.js';
import { SIGNING_ALG } from './keys.js';
import { signEs256Jwt } from './sign-jwt.js';
import { invalidArg, invalidArgType } from './type-error.js';

/** The OpenID Connect scopes this server understands when `openid` is configured (Core §5.4). */
export const OPENID_SCOPES: readonly string[] = ['openid', 'profile', 'email'];

/** What the consent screen shows for them unless the server's `scopes` describe them itself. */
export const OPENID_SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: 'Confirm who you are to the app',
  profile: 'See your name',
  email: 'See your email address',
};

/** The user claims each scope releases (OpenID Connect Core §5.4), of those this server knows. */
const SCOPE_CLAIMS: Readonly<Record<string, readonly UserClaimName[]>> = {
  profile: ['name', 'given_name', 'family_name', 'picture', 'updated_at'],
  email: ['email', 'email_verified'],
};

/** The user claims `openid.accessTokenClaims` may list (those some scope releases). */
export const USER_CLAIM_NAMES: readonly UserClaimName[] = Object.values(SCOPE_CLAIMS).flat();

/**
 * Claims the server sets itself or that mean something else to a verifier (RFC 7519 §4.1,
 * RFC 9068 §2.2, RFC 8693 §4, RFC 7800, OpenID Connect Core §2): never taken from a user.
 */
const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'cnf',
  'act',
  'may_act',
  'auth_time',
  'acr',
  'amr',
  'azp',
  'nonce',
  'at_hash',
  'c_hash',
  'sid',
  'typ',
  'active',
  'token_type',
]);

/** Every claim an ID token or userinfo answer may carry (Discovery `claims_supported`). */
export const CLAIMS_SUPPORTED: readonly string[] = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'at_hash',
  'azp',
  ...Object.values(SCOPE_CLAIMS).flat(),
];

/** Longest `nonce` accepted at /authorize; it is stored with the code and echoed in the ID token. */
export const MAX_NONCE_LENGTH = 512;

/** The validated `openid` option. */
export interface OpenIdConfig {
  claims: OpenIdOptions['claims'];
  idTokenTtlSeconds: number;
  /** User claims access tokens carry (when their scopes release them); empty by default. */
  accessTokenClaims: readonly UserClaimName[];
}

export function openIdConfig(options: OpenIdOptions | undefined): OpenIdConfig | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || typeof options.claims !== 'function') {
    throw invalidArgType('"openid" must be an object { claims: (sub) => Promise<claims> }');
  }
  const ttl = options.idTokenTtlSeconds ?? 600;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > 86_400) {
    throw invalidArg('"openid.idTokenTtlSeconds" must be a number of seconds, 1 to 86400');
  }
  return {
    claims: options.claims,
    idTokenTtlSeconds: ttl,
    accessTokenClaims: accessTokenClaimsOf(options.accessTokenClaims),
  };
}

function accessTokenClaimsOf(names: unknown): readonly UserClaimName[] {
  if (names === undefined) return [];
  if (!Array.isArray(names)) {
    throw invalidArgType('"openid.accessTokenClaims" must be an array of claim names');
  }
  for (const name of names) {
    if (typeof name !== 'string') {
      throw invalidArgType('"openid.accessTokenClaims" must be an array of claim names');
    }
    if (RESERVED_CLAIMS.has(name)) {
      throw invalidArg(
        `"openid.accessTokenClaims" cannot list "${name}": the server sets it (or it means something else to a verifier)`,
      );
    }
    if (!(USER_CLAIM_NAMES as readonly string[]).includes(name)) {
      throw invalidArg(
        `"openid.accessTokenClaims" lists an unknown claim "${name.slice(0, 40)}"; known: ${USER_CLAIM_NAMES.join(', ')}`,
      );
    }
  }
  return [...new Set(names as UserClaimName[])];
}

/** Whether `scope` is an OpenID Connect scope this server handles itself. */
export function isOpenIdScope(ctx: Context, scope: string): boolean {
  return ctx.openid !== undefined && OPENID_SCOPES.includes(scope);
}

/** Whether the scopes release any claim beyond `sub` (so the claims callback is worth calling). */
export function wantsUserClaims(scopes: readonly string[]): boolean {
  return scopes.some((s) => Object.hasOwn(SCOPE_CLAIMS, s));
}

/** The claims of `claims` that `scopes` release (Core §5.4); values of the wrong type are left out. */
export function releasedClaims(
  scopes: readonly string[],
  claims: OpenIdClaims | undefined,
): Partial<OpenIdClaims> {
  const out: Record<string, unknown> = {};
  if (!claims) return out;
  for (const scope of scopes) {
    for (const name of SCOPE_CLAIMS[scope] ?? []) {
      const value = claims[name];
      const expected =
        name === 'email_verified' ? 'boolean' : name === 'updated_at' ? 'number' : 'string';
      if (typeof value === expected) out[name] = value;
    }
  }
  return out as Partial<OpenIdClaims>;
}

/**
 * The user's claims for a token being issued, from the `openid.claims` callback: called only
 * when an ID token or the access token wants a claim the scopes release. If it fails, the
 * tokens go without them (Core §5.4: claims are requested, not required); the grant is already
 * spent, so failing the response would lose it.
 */
export async function claimsForIssue(
  ctx: Context,
  userId: string,
  scopes: readonly string[],
  idToken: boolean,
): Promise<OpenIdClaims | undefined> {
  const openid = ctx.openid;
  if (!openid) return undefined;
  const wanted =
    (idToken && wantsUserClaims(scopes)) ||
    (ctx.accessTokenFormat === 'jwt' && releasesListed(openid, scopes));
  if (!wanted) return undefined;
  try {
    return await openid.claims(userId);
  } catch {
    return undefined;
  }
}

/** Whether `scopes` release any claim of `openid.accessTokenClaims`. */
export function releasesListed(openid: OpenIdConfig, scopes: readonly string[]): boolean {
  return scopes.some((s) => SCOPE_CLAIMS[s]?.some((c) => openid.accessTokenClaims.includes(c)));
}

/** The claims of `claims` an access token with `scopes` carries (`openid.accessTokenClaims`). */
export function accessTokenUserClaims(
  ctx: Context,
  scopes: readonly string[],
  claims: OpenIdClaims | undefined,
): Partial<OpenIdClaims> {
  const listed = ctx.openid?.accessTokenClaims;
  if (!listed || listed.length === 0 || !claims) return {};
  const released = releasedClaims(scopes, claims);
  const out: Record<string, unknown> = {};
  for (const name of listed) if (released[name] !== undefined) out[name] = released[name];
  return out as Partial<OpenIdClaims>;
}

const encoder = new TextEncoder();

/** OpenID Connect Core §3.1.3.6: the left half of SHA-256 of the access token, base64url. */
export async function atHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken)));
  let binary = '';
  for (const byte of digest.subarray(0, 16)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The claims of an ID token this server issues (OpenID Connect Core §2). */
export interface IdTokenClaims extends Partial<OpenIdClaims> {
  iss: string;
  sub: string;
  aud: string;
  azp: string;
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  at_hash: string;
}

/**
 * An ID token (OpenID Connect Core §2, §3.1.3.6) for a grant that includes `openid`, signed
 * with the access tokens' key (`typ: JWT`). The user's claims come from the `openid.claims`
 * callback, only those the granted scopes release; if the callback fails, the ID token goes
 * without them (Core §5.4: they are requested, not required) and userinfo answers later.
 */
export async function idTokenFor(
  ctx: Context,
  grant: {
    userId: string;
    clientId: string;
    scopes: readonly string[];
    accessToken: string;
    authTime?: unknown;
    nonce?: unknown;
    /** The user's claims, from {@link claimsForIssue}. */
    claims: OpenIdClaims | undefined;
  },
): Promise<string> {
  const openid = ctx.openid!;
  const claims = grant.claims;
  const { kid, key } = await ctx.keys.signingKey();
  const iat = Math.floor(ctx.now() / 1000);
  const payload: IdTokenClaims = {
    ...releasedClaims(grant.scopes, claims),
    iss: ctx.issuer,
    sub: grant.userId,
    aud: grant.clientId,
    azp: grant.clientId,
    exp: iat + openid.idTokenTtlSeconds,
    iat,
    ...(typeof grant.authTime === 'number' ? { auth_time: grant.authTime } : {}),
    ...(typeof grant.nonce === 'string' ? { nonce: grant.nonce } : {}),
    at_hash: await atHash(grant.accessToken),
  };
  return signEs256Jwt({ alg: SIGNING_ALG, typ: 'JWT', kid }, { ...payload }, key);
}
