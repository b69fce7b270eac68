import { toOAuthError } from '../error-response.js';
import {
  AccessDeniedError,
  InvalidClientError,
  InvalidRequestError,
  InvalidScopeError,
  type OAuthError,
  ServerError,
  UnauthorizedClientError,
  UnsupportedResponseTypeError,
} from '../errors.js';
import { findClient } from '../lib/clients.js';
import type { Context } from '../lib/context.js';
import { parseDpopJkt } from '../lib/dpop.js';
import { type Handler, withHeaders } from '../lib/endpoint.js';
import { shownError } from '../lib/error-page.js';
import { paramsToRecord, readForm } from '../lib/http.js';
import { standardRequest } from '../lib/node-bridge.js';
import { isOpenIdScope, MAX_NONCE_LENGTH, OPENID_SCOPE_DESCRIPTIONS } from '../lib/openid.js';
import { perClientKey, RateLimitState } from '../lib/rate-limits.js';
import { buildRedirect, isLoopbackHost, matchRedirectUri } from '../lib/redirect-uri.js';
import { resolveResource } from '../lib/resources.js';
import { authorizeClientSchema, authorizeRequestSchema, parseWith } from '../lib/schemas.js';
import { parseScope, TOLERATED_SCOPES } from '../lib/scopes.js';
import type { ClientRecord } from '../lib/store.js';
import { endSpan, type SpanLike, startSpan } from '../lib/tracing.js';
import { CodedTypeError, invalidArg, invalidArgType } from '../lib/type-error.js';
import type { AuthorizationParseResult, PendingAuthorization } from '../pending-authorization.js';

const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function wantsHtml(request: Request | undefined): boolean {
  if (!request) return true;
  const accept = request.headers.get('accept') ?? '';
  return accept.includes('text/html') || !accept.includes('json');
}

/** A redirect to the client (RFC 6749 §4.1.2), always with `iss` (RFC 9207 §2). */
function redirectTo(uri: string, params: Record<string, string | undefined>): Response {
  return new Response(null, {
    status: 302,
    headers: {
      Location: buildRedirect(uri, params),
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    },
  });
}

function errorRedirect(
  ctx: Context,
  uri: string,
  error: OAuthError,
  state: string | undefined,
): Response {
  const body = error.toResponseObject();
  return redirectTo(uri, {
    error: body.error,
    error_description: body.error_description,
    state,
    iss: ctx.issuer,
  });
}

/**
 * Validates an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2,
 * RFC 8252 §7.3). Client and redirect URI problems are shown (never redirected: no open
 * redirect, §4.1.2.1); everything after is redirected with `error`, `state` and `iss`.
 */
export async function parseAuthorizationRequest(
  ctx: Context,
  params: URLSearchParams,
  request?: Request,
): Promise<AuthorizationParseResult> {
  const html = wantsHtml(request);
  const limits = new RateLimitState(ctx.now);
  let client: ClientRecord;
  let redirectUri: string;
  let redirectUriSent: boolean;
  let record: Record<string, string>;
  let ip: string | undefined;
  try {
    if (!(params instanceof URLSearchParams))
      throw invalidArgType('params must be URLSearchParams');
    ip = request ? ctx.getClientIp(request) : undefined;
    if (request) await ctx.limits.check(limits, 'authorize', 'perIp', ip);
    record = paramsToRecord(params);
    const first = parseWith(authorizeClientSchema, record);
    const found = await findClient(ctx, first.client_id, request, limits);
    if (!found) throw new InvalidClientError('client_id is not a registered client');
    client = found;
    // Nobody has authenticated yet: a client's limit is counted per caller address, so a
    // stranger cannot spend the sign-ins of a client that thousands of users share.
    await ctx.limits.check(
      limits,
      'authorize',
      'perClient',
      perClientKey(client.clientId, false, ip),
      client.clientId,
    );
    redirectUriSent = first.redirect_uri !== undefined;
    if (first.redirect_uri !== undefined) {
      if (!matchRedirectUri(first.redirect_uri, client.redirectUris)) {
        throw new InvalidRequestError('redirect_uri is not registered for this client');
      }
      redirectUri = first.redirect_uri;
    } else if (client.redirectUris.length === 1) {
      redirectUri = client.redirectUris[0]!;
    } else {
      throw new InvalidRequestError('redirect_uri is required: the client has several');
    }
  } catch (error) {
    if (error instanceof CodedTypeError) throw error;
    if (limits.hit) ctx.audit({ event: 'rate_limit.hit', ...limits.hit, ip });
    return {
      ok: false,
      response: shownError(error, html, limits.headers()),
      error: toOAuthError(error).code,
    };
  }

  // From here the redirect URI is trusted: errors go back to the client.
  const rawState =
    record.state !== undefined && record.state.length <= 4096 ? record.state : undefined;
  try {
    const p = parseWith(authorizeRequestSchema, record);
    if (p.response_type !== 'code')
      throw new UnsupportedResponseTypeError('response_type must be code');
    if (
      !client.responseTypes.includes('code') ||
      !client.grantTypes.includes('authorization_code')
    ) {
      throw new UnauthorizedClientError(
        'this client is not registered for the authorization code flow',
      );
    }
    if (p.code_challenge === undefined) {
      throw new InvalidRequestError('code_challenge is required (PKCE, RFC 7636)');
    }
    if (p.code_challenge_method !== 'S256') {
      throw new InvalidRequestError(
        p.code_challenge_method === undefined || p.code_challenge_method === 'plain'
          ? 'code_challenge_method must be S256; plain is not supported'
          : 'code_challenge_method must be S256',
      );
    }
    if (!S256_CHALLENGE.test(p.code_challenge)) {
      throw new InvalidRequestError('code_challenge must be 43 base64url characters (S256)');
    }
    const resource = resolveResource(ctx, p.resource);
    const scopes = resolveScopes(ctx, client, resource, p.scope);
    const nonce = ctx.openid && scopes.includes('openid') ? parseNonce(record.nonce) : undefined;
    // RFC 9449 §10: the code is bound to this DPoP key; the token request's proof must use it.
    const dpopJkt = ctx.dpop ? parseDpopJkt(record.dpop_jkt) : undefined;
    const pending = createPending(ctx, {
      client,
      redirectUri,
      redirectUriSent,
      scopes,
      resource: resource.uri,
      state: p.state,
      codeChallenge: p.code_challenge,
      nonce,
      dpopJkt,
      ip,
    });
    return { ok: true, pending };
  } catch (error) {
    const oauth = toOAuthError(error);
    const response = errorRedirect(ctx, redirectUri, oauth, rawState);
    return {
      ok: false,
      response: withHeaders(response, limits.headers()),
      error: oauth.code,
      clientId: client.clientId,
    };
  }
}

/** OpenID Connect Core §3.1.2.1 `nonce`: echoed in the ID token, so bounded and printable. */
function parseNonce(nonce: string | undefined): string | undefined {
  if (nonce === undefined || nonce === '') return undefined;
  if (nonce.length > MAX_NONCE_LENGTH) {
    throw new InvalidRequestError(`nonce is longer than ${MAX_NONCE_LENGTH} characters`);
  }
  if (!/^[\x20-\x7E]+$/.test(nonce)) {
    throw new InvalidRequestError('nonce must be printable ASCII');
  }
  return nonce;
}

/**
 * The scopes of an authorization request. A client's registered `scope` (RFC 7591 §2) is what
 * it gets when it asks for none, not a ceiling: a client registers itself, so a ceiling it chose
 * protects nothing, and MCP clients register with the first challenge's scope and must be able
 * to step up later (MCP authorization, scope challenge handling). The user consents to every
 * scope either way.
 */
function resolveScopes(
  ctx: Context,
  client: ClientRecord,
  resource: { scopes: string[] },
  scope: string | undefined,
): string[] {
  // With `openid` configured, its scopes are the server's own and valid at every resource.
  const offered = (s: string) => resource.scopes.includes(s) || isOpenIdScope(ctx, s);
  // OpenID Connect scopes this server does not define are dropped, as at registration.
  const requested =
    scope === undefined
      ? []
      : parseScope(scope).filter(
          (s) =>
            Object.hasOwn(ctx.scopes, s) || isOpenIdScope(ctx, s) || !TOLERATED_SCOPES.includes(s),
        );
  if (requested.length === 0) {
    const registered = client.scope ? client.scope.split(' ').filter(Boolean) : [];
    const fallback = registered.length > 0 ? registered : (ctx.defaultScopes ?? resource.scopes);
    const defaults = fallback.filter(offered);
    if (defaults.length === 0)
      throw new InvalidScopeError('scope is required: no default scope applies');
    return defaults;
  }
  for (const s of requested) {
    if (!Object.hasOwn(ctx.scopes, s) && !isOpenIdScope(ctx, s))
      throw new InvalidScopeError('scope contains an unknown scope');
    if (!offered(s))
      throw new InvalidScopeError('scope contains a scope this resource does not offer');
  }
  return requested;
}

interface PendingInput {
  client: ClientRecord;
  redirectUri: string;
  redirectUriSent: boolean;
  scopes: string[];
  resource: string;
  state: string | undefined;
  codeChallenge: string;
  /** OpenID Connect `nonce`, when `openid` was requested. */
  nonce: string | undefined;
  /** RFC 9449 §10 `dpop_jkt`: the DPoP key the code is bound to. */
  dpopJkt: string | undefined;
  /** The caller's address at /authorize, for audit events. */
  ip: string | undefined;
}

function createPending(ctx: Context, input: PendingInput): PendingAuthorization {
  const { client, redirectUri, scopes, state, ip } = input;
  const url = new URL(redirectUri);
  const assertUser = (userId: unknown) => {
    if (typeof userId !== 'string' || userId === '')
      throw invalidArgType('"userId" must be a non-empty string');
  };
  return {
    clientId: client.clientId,
    clientIdHost: ctx.cimd.isClientIdUrl(client.clientId)
      ? new URL(client.clientId).host
      : undefined,
    clientName: client.clientName,
    clientUri: client.clientUri,
    logoUri: client.logoUri,
    redirectUri,
    redirectHost: url.host,
    localhostOnly: url.protocol === 'http:' && isLoopbackHost(url.hostname),
    scopes: [...scopes],
    scopeDescriptions: scopes.map((scope) => ({
      scope,
      description: ctx.scopes[scope] ?? OPENID_SCOPE_DESCRIPTIONS[scope] ?? scope,
    })),
    resource: input.resource,
    state,
    async needsConsent(userId) {
      assertUser(userId);
      // A consent covers user × client × resource: approving one MCP server is not approving another.
      const consent = await ctx.store.consents.find(userId, client.clientId, {
        resource: input.resource,
      });
      return !consent || scopes.some((s) => !consent.scopes.includes(s));
    },
    async approve(userId, options = {}) {
      assertUser(userId);
      let granted = scopes;
      if (options.scopes !== undefined) {
        if (!Array.isArray(options.scopes) || options.scopes.length === 0) {
          throw invalidArg('"scopes" must be a non-empty array of requested scopes');
        }
        if (options.scopes.some((s) => !scopes.includes(s))) {
          throw invalidArg('"scopes" may only narrow the requested scopes');
        }
        granted = [...new Set(options.scopes)];
      }
      const { authTime } = options;
      if (
        authTime !== undefined &&
        (typeof authTime !== 'number' ||
          !Number.isInteger(authTime) ||
          authTime < 0 ||
          authTime > ctx.now() / 1000 + 60)
      ) {
        throw invalidArg('"authTime" must be the sign-in time in whole seconds since the epoch');
      }
      const openid = ctx.openid !== undefined && granted.includes('openid');
      try {
        // A dynamically registered client is used from now on: it no longer expires unused.
        if (client.expiresAt !== null && !ctx.cimd.isClientIdUrl(client.clientId)) {
          await ctx.store.clients.save({ ...client, expiresAt: null });
        }
        // The grant (family) is born here, with its absolute lifetime (and an id from the store);
        // the user's standing consent is read with it (one round trip where the store can). The
        // code reaches the client only once the consent below is written.
        const issued = await ctx.store.codes.issue(
          {
            clientId: client.clientId,
            userId,
            redirectUri,
            codeChallenge: input.codeChallenge,
            codeChallengeMethod: 'S256',
            scopes: granted,
            resource: input.resource,
            extra: {
              redirectUriSent: input.redirectUriSent,
              ...(openid && input.nonce !== undefined ? { nonce: input.nonce } : {}),
              ...(openid && authTime !== undefined ? { authTime } : {}),
              ...(input.dpopJkt !== undefined ? { dpopJkt: input.dpopJkt } : {}),
            },
          },
          {
            ttlSeconds: ctx.ttl.authorizationCode,
            grantTtlSeconds: ctx.ttl.grant,
            readConsent: true,
          },
        );
        const { code, record } = issued;
        const standing =
          'consent' in issued
            ? issued.consent
            : await ctx.store.consents.find(userId, client.clientId, { resource: input.resource });
        // Written and announced only when it adds something: an automatic approval of what the
        // user already consented to grants nothing new.
        if (!standing || granted.some((s) => !standing.scopes.includes(s))) {
          await ctx.store.consents.grant(userId, client.clientId, granted, {
            resource: input.resource,
          });
          ctx.audit({
            event: 'consent.granted',
            clientId: client.clientId,
            sub: userId,
            scopes: granted,
            resource: input.resource,
            ip,
          });
        }
        ctx.audit({
          event: 'code.issued',
          clientId: client.clientId,
          sub: userId,
          familyId: record.familyId,
          scopes: granted,
          resource: input.resource,
          ip,
        });
        return redirectTo(redirectUri, { code, state, iss: ctx.issuer });
      } catch (error) {
        const oauth = toOAuthError(error);
        return errorRedirect(
          ctx,
          redirectUri,
          oauth.status === 503 ? oauth : new ServerError('internal error'),
          state,
        );
      }
    },
    deny() {
      ctx.audit({
        event: 'authorization.denied',
        clientId: client.clientId,
        scopes: [...scopes],
        resource: input.resource,
        ip,
      });
      return errorRedirect(
        ctx,
        redirectUri,
        new AccessDeniedError('the user denied the request'),
        state,
      );
    },
  };
}

/**
 * GET (or POST form, OAuth 2.1 §4.1.1) /authorize: validates, then hands over to `interaction`,
 * in an `oauth.authorize` span when there is a tracer.
 */
export function createAuthorizeHandler(ctx: Context): Handler {
  return async (request) => {
    const span = startSpan(ctx.tracer, 'oauth.authorize');
    if (!span) return authorize(ctx, request, undefined);
    let outcome: AuthorizeOutcome = { step: 'error', error: 'server_error' };
    try {
      const response = await authorize(ctx, request, (value) => {
        outcome = value;
      });
      endAuthorizeSpan(span, response.status, outcome);
      return response;
    } catch (error) {
      endAuthorizeSpan(span, 500, { step: 'error', error: 'server_error' });
      throw error;
    }
  };
}

/** What became of an /authorize request, for its span. */
type AuthorizeOutcome =
  | { step: 'interaction'; clientId: string }
  | { step: 'error' | 'error_redirect'; error: string; clientId?: string | undefined };

function endAuthorizeSpan(span: SpanLike, status: number, outcome: AuthorizeOutcome): void {
  span.setAttribute('oauth.authorize.outcome', outcome.step);
  if (outcome.clientId !== undefined) span.setAttribute('oauth.client_id', outcome.clientId);
  endSpan(span, status, outcome.step === 'interaction' ? undefined : outcome.error);
}

async function authorize(
  ctx: Context,
  request: Request,
  report: ((outcome: AuthorizeOutcome) => void) | undefined,
): Promise<Response> {
  let params: URLSearchParams;
  try {
    if (request.method === 'GET' || request.method === 'HEAD') {
      params = new URL(request.url).searchParams;
    } else if (request.method === 'POST') {
      params = new URLSearchParams(await readForm(request, ctx.maxBodyBytes));
    } else {
      const response = shownError(new InvalidRequestError('use GET or POST'), wantsHtml(request), {
        Allow: 'GET, POST',
      });
      report?.({ step: 'error', error: 'invalid_request' });
      return new Response(response.body, { status: 405, headers: response.headers });
    }
  } catch (error) {
    report?.({ step: 'error', error: toOAuthError(error).code });
    return shownError(error, wantsHtml(request), {});
  }
  const result = await parseAuthorizationRequest(ctx, params, request);
  if (!result.ok) {
    report?.({
      step: result.clientId !== undefined ? 'error_redirect' : 'error',
      error: result.error ?? 'server_error',
      clientId: result.clientId,
    });
    return result.response;
  }
  if (!ctx.interaction) {
    report?.({ step: 'error', error: 'server_error' });
    return shownError(
      new ServerError('no interaction handler is configured for /authorize'),
      wantsHtml(request),
      {},
    );
  }
  report?.({ step: 'interaction', clientId: result.pending.clientId });
  try {
    return await ctx.interaction(result.pending, standardRequest(request));
  } catch {
    report?.({ step: 'error', error: 'server_error', clientId: result.pending.clientId });
    return shownError(new ServerError('internal error'), wantsHtml(request), {});
  }
}
