import type { OpenIdClaims, OpenIdOptions } from '../options.js';
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
const SCOPE_CLAIMS: Readonly<Record<string, readonly (keyof OpenIdClaims)[]>> = {
  profile: ['name', 'given_name', 'family_name', 'picture', 'updated_at'],
  email: ['email', 'email_verified'],
};

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
  return { claims: options.claims, idTokenTtlSeconds: ttl };
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
  },
): Promise<string> {
  const openid = ctx.openid!;
  let claims: OpenIdClaims | undefined;
  if (wantsUserClaims(grant.scopes)) {
    try {
      claims = await openid.claims(grant.userId);
    } catch {
      claims = undefined;
    }
  }
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
