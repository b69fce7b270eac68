import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  TemporarilyUnavailableError,
} from '../errors.js';
import { findAccessToken } from '../lib/access-token-record.js';
import type { Context } from '../lib/context.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { jsonReply, NO_STORE, readForm } from '../lib/http.js';
import { releasedClaims, wantsUserClaims } from '../lib/openid.js';
import { isStoreUnavailable } from '../lib/store.js';
import type { OpenIdClaims } from '../options.js';

/** The userinfo answer (OpenID Connect Core §5.3.2): `sub` and the claims the scopes release. */
export interface UserinfoResponse extends Partial<OpenIdClaims> {
  sub: string;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i; // RFC 6750 §2.1 b64token

/** The access token of a userinfo request: the header (RFC 6750 §2.1) or a POST form (§2.2). */
async function bearerToken(ctx: Context, request: Request): Promise<string | undefined> {
  const header = request.headers.get('authorization');
  const fromBody =
    request.method === 'POST' &&
    (request.headers.get('content-type') ?? '')
      .toLowerCase()
      .startsWith('application/x-www-form-urlencoded')
      ? (await readForm(request, ctx.maxBodyBytes)).access_token
      : undefined;
  if (header !== null) {
    // §2: a client uses one method only.
    if (fromBody !== undefined) throw new InvalidRequestError('send the access token only once');
    const match = BEARER.exec(header);
    if (!match) throw new InvalidTokenError('the Authorization header is not a Bearer token');
    return match[1];
  }
  return fromBody === '' ? undefined : fromBody;
}

/**
 * The UserInfo endpoint (OpenID Connect Core §5.3), GET or POST with an access token of a grant
 * that includes `openid`, issued by this server for any resource it serves (its `aud` is the
 * resource, RFC 8707; the grant's `openid` scope is what admits it here). Errors as RFC 6750
 * §3.1: no token → 401 with a bare `Bearer` challenge; a bad, expired or revoked one → 401
 * `invalid_token`; one without `openid` → 403 `insufficient_scope`.
 */
export function createUserinfoHandler(ctx: Context): Handler {
  return endpoint(ctx, { methods: ['GET', 'POST'], cors: true }, async (request) => {
    const token = await bearerToken(ctx, request);
    if (token === undefined) {
      return new Response(null, {
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer', 'Cache-Control': 'no-store' },
      });
    }
    const found = token.length <= 4096 ? await findAccessToken(ctx, token) : undefined;
    const record = found?.record;
    if (!record || (record.expiresAt !== null && record.expiresAt <= ctx.now())) {
      throw new InvalidTokenError('the access token is invalid, expired or revoked');
    }
    if (!record.scopes.includes('openid')) {
      throw new InsufficientScopeError('the access token was not issued with the openid scope');
    }
    let claims: OpenIdClaims | undefined;
    try {
      claims = await ctx.openid!.claims(record.userId);
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      throw new TemporarilyUnavailableError('the user directory is unavailable, retry later', {
        cause: error,
      });
    }
    if (!claims) throw new InvalidTokenError('the user of this access token no longer exists');
    const body: UserinfoResponse = {
      ...(wantsUserClaims(record.scopes) ? releasedClaims(record.scopes, claims) : {}),
      sub: record.userId,
    };
    return jsonReply(body, 200, NO_STORE);
  });
}
