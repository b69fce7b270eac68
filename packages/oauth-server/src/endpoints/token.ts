import { createCodeChallenge, isCodeVerifier, verifyCodeChallenge } from '@portcullis/pkce';
import {
  type AuthorizationCodeRecord,
  BindingMismatchError,
  FamilyRevokedError,
  type GrantTokens,
  isTokenStoreError,
  RefreshTokenReuseError,
  TokenExpiredError,
} from '@portcullis/token-store';
import {
  InvalidGrantError,
  InvalidScopeError,
  InvalidTargetError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from '../errors.js';
import { type AuthenticatedClient, authenticateClient, changedClient } from '../lib/clients.js';
import type { Context } from '../lib/context.js';
import {
  checkCodeBinding,
  checkRefreshBinding,
  type TokenRequestProof,
  tokenRequestProof,
  tokenResponseHeaders,
} from '../lib/dpop.js';
import { endpoint, type Handler } from '../lib/endpoint.js';
import { type JsonReply, jsonReply, readForm, readFormNow } from '../lib/http.js';
import { accessTokenUserClaims, claimsForIssue, idTokenFor } from '../lib/openid.js';
import { perClientKey, type RateLimitState } from '../lib/rate-limits.js';
import {
  authorizationCodeGrantSchema,
  clientCredentialsGrantSchema,
  grantTypeSchema,
  parseWith,
  refreshTokenGrantSchema,
} from '../lib/schemas.js';
import { parseScope } from '../lib/scopes.js';
import { isClientChanged, isGrantFailure } from '../lib/store.js';
import { accessTokenFor, accessTokenOptions } from '../lib/tokens.js';
import type { SpanLike } from '../lib/tracing.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';

/** The successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  /** `DPoP` when the access token is bound to the proof's key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  /** OpenID Connect Core §3.1.3.3: when the grant includes `openid`. */
  id_token?: string;
}

async function tokenResponse(ctx: Context, body: TokenResponse): Promise<JsonReply> {
  // §5.1: Cache-Control: no-store and Pragma: no-cache on every response with tokens.
  return jsonReply(body, 200, await tokenResponseHeaders(ctx));
}

/**
 * The token endpoint (RFC 6749 §3.2): `authorization_code` with PKCE (RFC 7636 §4.6) and
 * `refresh_token` with rotation (OAuth 2.1 §4.3.1).
 */
export function createTokenHandler(ctx: Context): Handler {
  const options = { methods: ['POST'], cors: true, span: 'oauth.token' };
  return endpoint(ctx, options, async (request, limits, span) => {
    // The caller's address, worked out once: the limits and the grant's audit event use it.
    const ip = ctx.getClientIp(request);
    const limited = ctx.limits.check(limits, 'token', 'perIp', ip);
    if (limited) await limited;
    const form =
      readFormNow(request, ctx.maxBodyBytes) ?? (await readForm(request, ctx.maxBodyBytes));
    const { grant_type } = parseWith(grantTypeSchema, form);
    // RFC 9449 §5: the key the tokens are bound to, when the client sent a DPoP proof. Its jti
    // is remembered once the client has authenticated (`withClient`).
    const proof = await tokenRequestProof(ctx, request);
    const jkt = proof?.jkt;
    if (grant_type === 'authorization_code') {
      span?.setAttribute('oauth.grant_type', grant_type);
      const params = parseWith(authorizationCodeGrantSchema, form);
      return withClient(ctx, request, params, limits, span, proof, (auth) =>
        authorizationCodeGrant(ctx, auth, params, ip, jkt),
      );
    }
    if (grant_type === 'refresh_token') {
      span?.setAttribute('oauth.grant_type', grant_type);
      const params = parseWith(refreshTokenGrantSchema, form);
      return withClient(ctx, request, params, limits, span, proof, (auth) =>
        refreshTokenGrant(ctx, auth, params, ip, jkt),
      );
    }
    if (grant_type === 'client_credentials' && ctx.clientCredentials.enabled) {
      span?.setAttribute('oauth.grant_type', grant_type);
      const params = parseWith(clientCredentialsGrantSchema, form);
      // A fresh read of the client: this grant has no atomic step that would check a cached one.
      const auth = await authenticated(ctx, request, params, limits, span, false, true);
      await proof?.remember();
      return clientCredentialsGrant(ctx, auth, params, ip, jkt);
    }
    throw new UnsupportedGrantTypeError(
      `grant_type must be authorization_code, refresh_token${ctx.clientCredentials.enabled ? ' or client_credentials' : ''}`,
    );
  });
}

type ClientParams = {
  client_id?: string | undefined;
  client_secret?: string | undefined;
  grant_type: string;
};

/**
 * Authenticates the client, then spends the request's DPoP proof (a client that fails to
 * authenticate spends no replay entry), and runs the grant with it. Where the store can check a
 * client in the grant's own atomic step (`clients.lookup`), the client comes from its memory: a
 * refusal decided on that record, and a grant step that finds the client changed (and so did
 * nothing), are decided again on a fresh read. The request counts against the per-client limit
 * once.
 */
async function withClient(
  ctx: Context,
  request: Request,
  params: ClientParams,
  limits: RateLimitState,
  span: SpanLike | undefined,
  proof: TokenRequestProof | undefined,
  grant: (auth: AuthenticatedClient) => Promise<JsonReply>,
): Promise<JsonReply> {
  const lookup = ctx.store.clients.lookup !== undefined;
  const auth = await authenticated(ctx, request, params, limits, span, lookup, true);
  await proof?.remember();
  if (!lookup) return grant(auth);
  try {
    return await grant(auth);
  } catch (error) {
    if (!isClientChanged(error)) throw error;
    return grant(await authenticated(ctx, request, params, limits, span, false, false, true));
  }
}

async function authenticated(
  ctx: Context,
  request: Request,
  params: ClientParams,
  limits: RateLimitState,
  span: SpanLike | undefined,
  lookup: boolean,
  count: boolean,
  /** Authenticated once already in this request: decided again on a fresh read. */
  again = false,
): Promise<AuthenticatedClient> {
  // With `lookup`, an invalid_client decided on the store's memory is decided again on a fresh
  // read (authenticateClient).
  const auth = await authenticateClient(ctx, request, params, { lookup, again });
  // Only an authenticated client's id: what a request merely claims could be anything.
  span?.setAttribute('oauth.client_id', auth.client.clientId);
  // Counted only once authenticated; a public client is named by anyone, so per caller address.
  if (count) {
    const limited = ctx.limits.check(
      limits,
      'token',
      'perClient',
      perClientKey(auth.client.clientId, auth.method !== 'none', ctx.getClientIp(request)),
      auth.client.clientId,
    );
    if (limited) await limited;
  }
  if (!auth.client.grantTypes.includes(params.grant_type)) {
    // Decided on the store's memory: decided again only when a fresh read differs (the grant
    // type may have been added elsewhere); the same record keeps the refusal, and the client's
    // secret or assertion is not checked a second time.
    if (lookup && (await changedClient(ctx, auth.client.clientId, auth.client, request, limits)))
      return authenticated(ctx, request, params, limits, span, false, false, true);
    throw new UnauthorizedClientError(
      `this client is not registered for grant_type ${params.grant_type}`,
    );
  }
  return auth;
}

/** The access token's `jti` for an audit event: in opaque mode the handle is the token itself. */
function auditJti(ctx: Context, handle: string): string | undefined {
  return ctx.accessTokenFormat === 'jwt' ? handle : undefined;
}

/** The `invalid_grant` a store failure stands for, saying what actually happened. */
function grantFailure(error: unknown, subject: 'authorization code' | 'refresh token'): never {
  if (!isGrantFailure(error)) throw error;
  const code = (error as { code: string }).code;
  const description =
    code === RefreshTokenReuseError.code
      ? 'the refresh token was already used; its grant is revoked'
      : code === FamilyRevokedError.code
        ? 'the grant has been revoked'
        : code === TokenExpiredError.code
          ? `the ${subject} has expired`
          : `the ${subject} is invalid, expired or revoked`;
  throw new InvalidGrantError(description, { cause: error });
}

/** The request against the code's record: client, PKCE verifier, redirect_uri, resource, DPoP key. */
async function validateCode(
  code: AuthorizationCodeRecord,
  client: AuthenticatedClient['client'],
  params: ReturnType<typeof authorizationCodeGrantSchema.parse>,
  jkt: string | undefined,
): Promise<void> {
  if (code.clientId !== client.clientId) {
    throw new InvalidGrantError('the authorization code was issued to another client');
  }
  if (
    !(await verifyCodeChallenge(params.code_verifier, code.codeChallenge, code.codeChallengeMethod))
  ) {
    throw new InvalidGrantError('code_verifier does not match the code_challenge');
  }
  // OAuth 2.1 §4.1.3: redirect_uri is required if it was in the authorization request, and must match.
  const redirectUriSent = code.extra?.redirectUriSent !== false;
  if (
    params.redirect_uri !== undefined ? params.redirect_uri !== code.redirectUri : redirectUriSent
  ) {
    throw new InvalidGrantError('redirect_uri does not match the authorization request');
  }
  if (params.resource !== undefined && params.resource !== code.resource) {
    throw new InvalidTargetError('resource does not match the authorization request');
  }
  checkCodeBinding(code.extra, jkt);
}

/**
 * RFC 6749 §4.1.3 in node-oidc-provider's order: the code is found without being spent, the
 * whole request is validated against it (client, PKCE verifier, redirect_uri, resource), and
 * only then is it consumed. A failed attempt leaves the code usable by its rightful client; a
 * second successful redemption revokes everything issued from it (RFC 6749 §4.1.2). When the
 * request names its redirect_uri (as OAuth 2.1 clients do), the store checks those values in the
 * same atomic step as the consume (one round trip); a request it refuses takes the full path,
 * which says what is wrong.
 */
async function authorizationCodeGrant(
  ctx: Context,
  { client, method }: AuthenticatedClient,
  params: ReturnType<typeof authorizationCodeGrantSchema.parse>,
  ip: string | undefined,
  jkt: string | undefined,
): Promise<JsonReply> {
  let code: AuthorizationCodeRecord | undefined;
  let result: Awaited<ReturnType<Context['store']['codes']['consume']>> | undefined;
  let issued: GrantTokens | undefined;
  // RFC 9449 §5: a public client's refresh token is bound to its DPoP key too.
  const refreshJkt = method === 'none' ? jkt : undefined;
  const accessToken = accessTokenOptions(ctx, jkt);
  const refreshTtl = { ttlSeconds: ctx.ttl.refreshToken };
  const tokens = client.grantTypes.includes('refresh_token')
    ? { accessToken, refreshToken: refreshTtl }
    : { accessToken };
  if (params.redirect_uri !== undefined && isCodeVerifier(params.code_verifier)) {
    const options = {
      client,
      match: {
        clientId: client.clientId,
        codeChallenge: await createCodeChallenge(params.code_verifier),
        redirectUri: params.redirect_uri,
        ...(params.resource !== undefined ? { resource: params.resource } : {}),
      },
    };
    // Without OpenID Connect the tokens take nothing from the code beyond the grant: the store
    // consumes it and stores them in one step (one round trip where it can). A public client's
    // DPoP key rides on the refresh token as its `extra` (§5), as the two-step path stores it.
    if (ctx.store.codes.exchange && ctx.openid === undefined) {
      let exchanged: Awaited<ReturnType<NonNullable<Context['store']['codes']['exchange']>>>;
      try {
        exchanged = await ctx.store.codes.exchange(params.code, {
          client,
          match: options.match,
          accessToken,
          ...(tokens.refreshToken === undefined
            ? {}
            : {
                refreshToken:
                  refreshJkt === undefined
                    ? refreshTtl
                    : { ttlSeconds: refreshTtl.ttlSeconds, extra: { cnf: { jkt: refreshJkt } } },
              }),
          resource: ctx.resources[0]!.uri,
        });
      } catch (error) {
        grantFailure(error, 'authorization code');
      }
      result = exchanged;
      issued = exchanged.tokens;
    } else {
      result = await ctx.store.codes.consume(params.code, options);
    }
    if (result.status === 'not_found') result = undefined;
    else {
      code = result.record;
      // The store matched; the checks below run again on what it returned (defence in depth).
      try {
        await validateCode(code, client, params, jkt);
      } catch (error) {
        if (issued !== undefined) await ctx.store.revokeFamily(code.familyId);
        throw error;
      }
    }
  }
  if (code === undefined || result === undefined) {
    code = await ctx.store.codes.find(params.code);
    if (!code) throw new InvalidGrantError('the authorization code is invalid, expired or revoked');
    await validateCode(code, client, params, jkt);
    result = await ctx.store.codes.consume(params.code, { client });
  }
  if (result.status === 'not_found') {
    throw new InvalidGrantError('the authorization code is invalid, expired or revoked');
  }
  if (result.status === 'already_consumed') {
    // RFC 6749 §4.1.2 / RFC 9700 §4.14: a replayed code revokes what was issued from it.
    await ctx.store.revokeFamily(code.familyId);
    ctx.audit({
      event: 'token.reuse_detected',
      grantType: 'authorization_code',
      clientId: client.clientId,
      sub: code.userId,
      familyId: code.familyId,
      ip,
    });
    throw new InvalidGrantError(
      'the authorization code was already redeemed; the tokens issued from it are revoked',
    );
  }
  // A replay that raced this exchange revokes the family; the store then refuses every token of
  // it (the family's revocation marker), so nothing issued here survives. Both tokens are
  // stored in one write (one round trip), refused together when the family is revoked.
  // OpenID Connect: the sign-in time rides with the grant (the refresh tokens' `extra`), so a
  // refresh's ID token carries it too.
  const openid = ctx.openid !== undefined && code.scopes.includes('openid');
  const authTime = openid ? code.extra?.authTime : undefined;
  try {
    issued ??= await ctx.store.issueTokens(
      {
        familyId: code.familyId,
        grantExpiresAt: code.grantExpiresAt,
        clientId: client.clientId,
        userId: code.userId,
        scopes: code.scopes,
        resource: code.resource ?? ctx.resources[0]!.uri,
        ...grantExtra(typeof authTime === 'number' ? authTime : undefined, refreshJkt),
      },
      tokens,
    );
  } catch (error) {
    grantFailure(error, 'authorization code');
  }
  // One call of the claims callback for both tokens (none unless one of them wants a claim).
  const claims = await claimsForIssue(ctx, code.userId, code.scopes, openid);
  const access = await accessTokenFor(
    ctx,
    issued.accessToken.token,
    issued.accessToken.record,
    accessTokenUserClaims(ctx, issued.accessToken.record.scopes, claims),
  );
  ctx.audit({
    event: 'token.issued',
    clientId: client.clientId,
    sub: code.userId,
    familyId: code.familyId,
    scopes: issued.accessToken.record.scopes,
    resource: issued.accessToken.record.resource ?? ctx.resources[0]!.uri,
    jti: auditJti(ctx, issued.accessToken.token),
    refreshToken: issued.refreshToken !== undefined,
    ip,
  });
  return tokenResponse(ctx, {
    access_token: access.token,
    token_type: jkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: access.expiresIn,
    ...(issued.refreshToken ? { refresh_token: issued.refreshToken.token } : {}),
    scope: code.scopes.join(' '),
    ...(openid
      ? {
          id_token: await idTokenFor(ctx, {
            userId: code.userId,
            clientId: client.clientId,
            scopes: code.scopes,
            accessToken: access.token,
            authTime,
            nonce: code.extra?.nonce,
            claims,
          }),
        }
      : {}),
  });
}

/**
 * RFC 6749 §6 with rotation (OAuth 2.1 §4.3.1): the token is rotated only if it was issued to
 * this client, checked in the same atomic step (another client can neither use nor burn it),
 * and the new access token is stored with the successor in one write. A request that narrows
 * the scope or names a resource reads the grant first, so that a refused request spends nothing.
 */
async function refreshTokenGrant(
  ctx: Context,
  { client, method }: AuthenticatedClient,
  params: ReturnType<typeof refreshTokenGrantSchema.parse>,
  ip: string | undefined,
  jkt: string | undefined,
): Promise<JsonReply> {
  let scopes: string[] | undefined;
  const narrowing = params.scope !== undefined && params.scope.trim() !== '';
  // A public client's token may be bound to a DPoP key (RFC 9449 §5): the store checks the
  // binding in the rotation's own atomic step (`cnfJkt`), so a refused request spends nothing.
  const cnfJkt = method === 'none' && ctx.dpop ? (jkt ?? null) : undefined;
  if (narrowing || params.resource !== undefined) {
    const current = await ctx.store.refreshTokens.find(params.refresh_token);
    if (!current) throw new InvalidGrantError('the refresh token is invalid, expired or revoked');
    if (current.clientId !== client.clientId) {
      throw new InvalidGrantError('the refresh token was issued to another client');
    }
    if (cnfJkt !== undefined) checkRefreshBinding(current.extra, jkt);
    if (params.resource !== undefined && params.resource !== current.resource) {
      throw new InvalidTargetError('resource does not match the grant');
    }
    // RFC 6749 §6 scope narrowing: the one place it is decided. The grant keeps its scope; a
    // narrower one applies to the new access token only.
    if (narrowing) {
      scopes = parseScope(params.scope!);
      const extra = scopes.filter((s) => !current.scopes.includes(s));
      if (extra.length > 0) {
        throw new InvalidScopeError('scope exceeds the scope originally granted (RFC 6749 §6)');
      }
    }
  }
  let rotated: Awaited<ReturnType<Context['store']['refreshTokens']['rotate']>>;
  try {
    rotated = await ctx.store.refreshTokens.rotate(params.refresh_token, {
      graceSeconds: ctx.refreshGraceSeconds,
      ttlSeconds: ctx.ttl.refreshToken,
      clientId: client.clientId,
      client,
      ...(cnfJkt === undefined ? {} : { cnfJkt }),
      accessToken: { ...accessTokenOptions(ctx, jkt), ...(scopes ? { scopes } : {}) },
    });
  } catch (error) {
    if (isTokenStoreError(error, BindingMismatchError.code)) {
      // Nothing spent: the same answers as checkRefreshBinding's.
      throw new InvalidGrantError(
        jkt === undefined
          ? 'the refresh token is bound to a DPoP key: send a DPoP proof'
          : 'the refresh token is bound to another DPoP key',
        { cause: error },
      );
    }
    if (isTokenStoreError(error, RefreshTokenReuseError.code)) {
      ctx.audit({
        event: 'token.reuse_detected',
        grantType: 'refresh_token',
        clientId: client.clientId,
        familyId: (error as RefreshTokenReuseError).familyId,
        ip,
      });
    }
    grantFailure(error, 'refresh token');
  }
  // A store that ignores `cnfJkt` spent it all the same; the successor is not handed out.
  if (cnfJkt !== undefined) checkRefreshBinding(rotated.previous.extra, jkt);
  const stored = rotated.accessToken!;
  const openid = ctx.openid !== undefined && stored.record.scopes.includes('openid');
  // Read again at each refresh: the new tokens carry the user's current claims.
  const claims = await claimsForIssue(ctx, stored.record.userId, stored.record.scopes, openid);
  const access = await accessTokenFor(
    ctx,
    stored.token,
    stored.record,
    accessTokenUserClaims(ctx, stored.record.scopes, claims),
  );
  ctx.audit({
    event: 'token.refreshed',
    clientId: client.clientId,
    sub: stored.record.userId,
    familyId: stored.record.familyId,
    scopes: stored.record.scopes,
    resource: stored.record.resource ?? ctx.resources[0]!.uri,
    jti: auditJti(ctx, stored.token),
    refreshToken: true,
    ip,
  });
  return tokenResponse(ctx, {
    access_token: access.token,
    token_type: jkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: access.expiresIn,
    refresh_token: rotated.token,
    scope: stored.record.scopes.join(' '),
    // OpenID Connect Core §12.2: a new ID token, without `nonce`, while the scope keeps `openid`.
    ...(openid
      ? {
          id_token: await idTokenFor(ctx, {
            userId: stored.record.userId,
            clientId: client.clientId,
            scopes: stored.record.scopes,
            accessToken: access.token,
            authTime: rotated.record.extra?.authTime,
            claims,
          }),
        }
      : {}),
  });
}

/** The grant data a code exchange's refresh token carries: sign-in time, DPoP key (§5). */
function grantExtra(
  authTime: number | undefined,
  jkt: string | undefined,
): { extra?: Record<string, unknown> } {
  if (authTime === undefined && jkt === undefined) return {};
  return {
    extra: {
      ...(authTime === undefined ? {} : { authTime }),
      ...(jkt === undefined ? {} : { cnf: { jkt } }),
    },
  };
}
