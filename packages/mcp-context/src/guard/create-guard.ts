import { dpopChallenge, parseAuthorizationHeader } from '@portcullis/dpop';
import { InvalidTokenError, VerifierUnavailableError } from '../errors.js';
import { isB64Token, NOT_B64TOKEN, readBearer } from '../lib/authorization-header.js';
import { type BearerErrorCode, bearerChallenge } from '../lib/challenge.js';
import { assertObject, assertResourceUrl, assertStringArray, invalidType } from '../lib/errors.js';
import { calledToolNames, singleCalledTool } from '../lib/jsonrpc.js';
import { createOriginCheck, type OriginCheckOptions, refusalBody } from '../lib/origin-check.js';
import { coversScopes, neededScopes } from '../lib/scopes.js';
import {
  endSpan,
  explicitTracer,
  resolveTracer,
  type SpanLike,
  startSpan,
  type TracerLike,
  type TracerProviderLike,
} from '../lib/tracing.js';
import { type MaybeSyncVerifier, verifiedNow } from '../lib/verified-now.js';
import { resourceMetadataUrl } from '../metadata/resource-metadata-url.js';
import type { AuthInfo, TokenVerifier, ToolScopes } from '../types.js';
import { type CorsOptions, corsHeaders } from './cors-headers.js';
import {
  bindingHolds,
  checkProof,
  type DpopOptions,
  isDpopBound,
  type ProofOutcome,
  readDpopOptions,
} from './dpop.js';

export interface BearerAuthOptions {
  /** Checks the token: `jwtVerifier`, `staticTokenVerifier`, `introspectionVerifier`, … */
  verifier: TokenVerifier;
  /** The MCP endpoint URL, as in the protected resource metadata (`http://localhost:8000/mcp`). */
  resource: string;
  /** Scopes every request needs. */
  requiredScopes?: string[];
  /**
   * Scopes to suggest in a 401 challenge when the request itself needs none (an `initialize`,
   * a `tools/list`): what a client without a token should ask for first. MCP clients take the
   * challenge's `scope` before `scopes_supported`. Default: none.
   */
  challengeScopes?: string[];
  /** Scopes per tool, checked on `tools/call` before the tool runs: `{ secure_operation: ['admin'] }`. */
  toolScopes?: ToolScopes;
  /** CORS for browser clients; on by default (`allowedOrigins: '*'`), `false` to leave it to you. */
  cors?: false | CorsOptions;
  /**
   * DNS-rebinding protection: a request whose `Origin` is not allowed or whose `Host` does not
   * name this server gets `403` with a JSON-RPC error. On by default, allowing the resource
   * URL's origin and host (plus loopback names when the resource is on loopback) and the
   * origins listed in `cors.allowedOrigins`; requests without `Origin` pass. `false` turns it
   * off (when a proxy in front already checks).
   */
  originCheck?: false | OriginCheckOptions;
  /** Overrides the `resource_metadata` URL in challenges; defaults to the path-inserted URL. */
  resourceMetadataUrl?: string;
  /** Seconds sent in `Retry-After` when the verifier is unavailable; default 5. */
  retryAfterSeconds?: number;
  /**
   * The OpenTelemetry tracer for the `mcp.bearer_auth` span, or `false` for none. Default:
   * `trace.getTracer('@portcullis/mcp-context')` of `@opentelemetry/api` when that optional
   * peer is installed (a no-op until an SDK registers a provider; loaded in the background,
   * so requests in the first moments after start may go without a span), else none. The span
   * holds the outcome, status, error code, client id, scopes and token-cache hit, never the
   * token or the user.
   */
  tracer?: TracerLike | false;
  /** Where to get the tracer instead of the global provider (ignored when `tracer` is given). */
  tracerProvider?: TracerProviderLike;
  /**
   * Accept DPoP-bound tokens ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)):
   * `Authorization: DPoP <token>` with a `DPoP` proof of the request, whose key must be the
   * token's `cnf.jkt`. `true` for the defaults; `{ required: true }` refuses Bearer tokens.
   * Challenges then offer the DPoP scheme with `algs` (both schemes unless required). A token
   * with `cnf.jkt` is refused as a Bearer token whatever this says (§7.2). `htu` is compared
   * with the resource's origin (the public scheme and host) and the request's path.
   */
  dpop?: boolean | DpopOptions;
}

export interface GuardRequest {
  method: string;
  /** The request target's query string (`?a=b`, or `''`), to refuse tokens sent in it. */
  search: string;
  authorization: string | null | undefined;
  /** The `Host` header (HTTP/1.1) or `:authority` (HTTP/2). */
  host: string | null | undefined;
  origin: string | null | undefined;
  /** The parsed JSON body when it was read already (by a body parser, or the app itself). */
  body?: unknown;
  /** Reads and parses the body when `body` is `undefined`: called only when tool scopes make it matter. */
  readBody?: () => Promise<unknown>;
  /** The request target (`/mcp`, `/mcp?a=b`): its path is the path of the proof's `htu`. */
  target?: string | undefined;
  /** The `DPoP` header (repeated headers joined with `, `, which the proof check refuses). */
  dpop?: string | null | undefined;
}

export type GuardResult =
  | { ok: true; authInfo: AuthInfo; headers: Record<string, string>; body?: unknown }
  | {
      ok: false;
      status: number;
      headers: Record<string, string>;
      body: string | null;
      /** The error code of the body (`invalid_token`, …); none for a missing token or a preflight. */
      error?: string;
    };

/**
 * The decision for one request: at once when nothing has to be waited for (the body already
 * parsed, the token already verified), else a promise.
 */
export type Guard = (request: GuardRequest) => GuardResult | Promise<GuardResult>;

function comparableResource(value: string): string {
  const hash = value.indexOf('#');
  return (hash === -1 ? value : value.slice(0, hash)).replace(/\/$/, '');
}

function isInvalidTokenError(error: unknown): boolean {
  if (error instanceof InvalidTokenError) return true;
  // The MCP SDK's own verifiers throw its InvalidTokenError (an OAuthError with errorCode).
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { errorCode?: unknown }).errorCode === 'invalid_token'
  );
}

/**
 * The decision shared by `bearerAuth` (Node) and `authenticate` (fetch): who may pass, and
 * the RFC 6750 §3 answer for everyone else.
 */
export function createGuard(options: BearerAuthOptions): Guard {
  assertObject(options, 'options');
  if (typeof options.verifier !== 'function') {
    throw invalidType('verifier', 'a TokenVerifier function', options.verifier);
  }
  const resource = comparableResource(assertResourceUrl(options.resource, 'resource').href);
  const metadataUrl = options.resourceMetadataUrl ?? resourceMetadataUrl(options.resource).href;
  const required = options.requiredScopes ?? [];
  assertStringArray(required, 'requiredScopes');
  const suggested = options.challengeScopes ?? [];
  assertStringArray(suggested, 'challengeScopes');
  const hint = (needed: readonly string[]) => (needed.length > 0 ? needed : suggested);
  const toolScopes = options.toolScopes;
  if (toolScopes !== undefined) {
    assertObject(toolScopes, 'toolScopes');
    for (const [name, scopes] of Object.entries(toolScopes))
      assertStringArray(scopes, `toolScopes.${name}`);
  }
  const inspectBody = toolScopes !== undefined && Object.keys(toolScopes).length > 0;
  // What a call of each listed tool needs, worked out once (a single tools/call is the usual body).
  const toolNeeds = new Map<string, readonly string[]>();
  if (toolScopes !== undefined) {
    for (const name of Object.keys(toolScopes))
      toolNeeds.set(name, neededScopes(required, toolScopes, [name]));
  }
  // A token's resource, compared once per URL object, not per request: a cached token's
  // AuthInfo copies share their URL object, so a hit is one lookup. Remembered per object (not
  // just the last one), so requests alternating between tokens don't reformat URLs each time.
  const resourceMatches = new WeakMap<object, boolean>();
  const isThisResource = (value: unknown) => {
    if (typeof value !== 'object' || value === null)
      return comparableResource(String(value)) === resource;
    let matches = resourceMatches.get(value);
    if (matches === undefined) {
      matches = comparableResource(String(value)) === resource;
      resourceMatches.set(value, matches);
    }
    return matches;
  };
  const cors = options.cors === false ? false : (options.cors ?? {});
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const corsList = cors && Array.isArray(cors.allowedOrigins) ? cors.allowedOrigins : undefined;
  const checkOrigin =
    options.originCheck === false
      ? undefined
      : createOriginCheck(options.resource, {
          // Origins listed for CORS are trusted browser callers: let them through as well.
          ...(corsList ? { allowedOrigins: corsList } : {}),
          ...options.originCheck,
        });

  const { verifier } = options;
  const verifyNow = (verifier as MaybeSyncVerifier)[verifiedNow];
  const dpop = readDpopOptions(options.dpop);
  const resourceOrigin = new URL(options.resource).origin;

  /**
   * RFC 6750 §3 and RFC 9449 §7.1: one challenge per scheme accepted, the error on the scheme
   * the client used (on DPoP's alone when Bearer is not accepted).
   */
  const challenge = (
    scheme: 'Bearer' | 'DPoP',
    error: GuardErrorCode | undefined,
    description: string,
    scopes: readonly string[] | undefined,
  ): string => {
    const onDpop = scheme === 'DPoP' || dpop?.required === true;
    const errorDescription = error ? description : undefined;
    const bearer =
      dpop?.required === true
        ? undefined
        : bearerChallenge({
            resourceMetadata: metadataUrl,
            ...(onDpop ? {} : { error: error as BearerErrorCode | undefined, errorDescription }),
            scopes,
          });
    if (dpop === undefined) return bearer as string;
    const proof = dpopChallenge({
      ...(onDpop ? { error, errorDescription } : {}),
      scopes,
      resourceMetadata: metadataUrl,
      algorithms: dpop.algorithms,
    });
    return bearer === undefined ? proof : `${bearer}, ${proof}`;
  };

  const deny = (
    headers: Record<string, string>,
    status: number,
    error: GuardErrorCode | undefined,
    description: string,
    scopes?: readonly string[],
    scheme: 'Bearer' | 'DPoP' = 'Bearer',
  ): GuardResult => ({
    ok: false,
    status,
    headers: {
      ...headers,
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'WWW-Authenticate': challenge(scheme, error, description, scopes),
    },
    body: JSON.stringify({ error: error ?? 'unauthorized', error_description: description }),
    ...(error !== undefined ? { error } : {}),
  });

  /** What a verifier's failure means for the client. */
  const unavailable = (
    headers: Record<string, string>,
    description: string,
    seconds = retryAfter,
  ): GuardResult => ({
    ok: false,
    status: 503,
    headers: { ...headers, 'Content-Type': 'application/json', 'Retry-After': seconds },
    body: JSON.stringify({ error: 'temporarily_unavailable', error_description: description }),
    error: 'temporarily_unavailable',
  });

  const refused = (
    headers: Record<string, string>,
    needed: readonly string[],
    error: unknown,
    scheme: 'Bearer' | 'DPoP' = 'Bearer',
  ): GuardResult => {
    if (isInvalidTokenError(error)) {
      const message =
        error instanceof InvalidTokenError ? error.message : 'The access token is invalid';
      return deny(headers, 401, 'invalid_token', message, hint(needed), scheme);
    }
    if (error instanceof VerifierUnavailableError) {
      return unavailable(headers, 'The access token cannot be checked right now');
    }
    // A verifier bug: a 500 that leaks no internals to the caller.
    return {
      ok: false,
      status: 500,
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ error: 'server_error', error_description: 'Internal Server Error' }),
      error: 'server_error',
    };
  };

  /** The checks after verification: expiry, audience, scopes. */
  const admit = (
    headers: Record<string, string>,
    needed: readonly string[],
    body: unknown,
    authInfo: AuthInfo,
    span: SpanLike | undefined,
    /** From the token cache, which keeps an entry only until the token's `exp`: not expired. */
    cached = false,
    /** The scheme the token came with; a DPoP one has had its proof and binding checked. */
    scheme: 'Bearer' | 'DPoP' = 'Bearer',
  ): GuardResult => {
    if (span) verifiedAttributes(span, authInfo);
    if (
      !cached &&
      typeof authInfo.expiresAt === 'number' &&
      authInfo.expiresAt * 1000 <= Date.now()
    ) {
      return deny(
        headers,
        401,
        'invalid_token',
        'The access token has expired',
        hint(needed),
        scheme,
      );
    }
    // RFC 9449 §7.2: a DPoP-bound token is worth nothing without its key's proof.
    if (scheme === 'Bearer' && isDpopBound(authInfo)) {
      return deny(
        headers,
        401,
        'invalid_token',
        'The access token is DPoP-bound: send it with the DPoP scheme and a proof',
        hint(needed),
      );
    }
    if (authInfo.resource !== undefined && !isThisResource(authInfo.resource)) {
      return deny(
        headers,
        401,
        'invalid_token',
        'The access token was not issued for this resource',
        needed,
        scheme,
      );
    }
    if (!coversScopes(authInfo.scopes, needed)) {
      // The challenge names what the token already has as well: a client that asks for
      // exactly the challenged scopes gets a token that still does everything it did before.
      return deny(
        headers,
        403,
        'insufficient_scope',
        `This request requires the scopes: ${needed.join(' ')}`,
        [...new Set([...authInfo.scopes, ...needed])],
        scheme,
      );
    }
    // SDK 2.x builds its own scope challenges from this (RFC 9728 §5.1).
    if (authInfo.resourceMetadataUrl === undefined) authInfo.resourceMetadataUrl = metadataUrl;
    return { ok: true, authInfo, headers, body };
  };

  /** From the body on: the scopes it needs, the credentials, the verification. */
  const decide = (
    request: GuardRequest,
    headers: Record<string, string>,
    body: unknown,
    span: SpanLike | undefined,
  ): GuardResult | Promise<GuardResult> => {
    let needed: readonly string[] = required;
    if (inspectBody && request.method === 'POST') {
      const tool = singleCalledTool(body);
      needed =
        tool !== undefined
          ? (toolNeeds.get(tool) ?? required)
          : neededScopes(required, toolScopes, calledToolNames(body));
    }

    const credentials = readBearer(request.authorization);
    if (credentials.kind === 'none') {
      if (dpop !== undefined) {
        const read = parseAuthorizationHeader(request.authorization);
        if (read.scheme === 'dpop')
          return decideDpop(request, headers, needed, body, read.token, span);
        if (read.scheme === 'malformed')
          return deny(headers, 400, 'invalid_request', read.reason, hint(needed), 'DPoP');
      }
      return deny(headers, 401, undefined, 'An access token is required', hint(needed));
    }
    if (credentials.kind === 'malformed')
      return deny(headers, 400, 'invalid_request', credentials.reason, hint(needed));
    if (dpop?.required === true) {
      return deny(
        headers,
        401,
        'invalid_token',
        'This resource accepts only DPoP-bound access tokens, with the DPoP scheme and a proof',
        hint(needed),
      );
    }

    // A token verified before is answered from memory without a promise; anything else
    // (a first sight, a verifier without such memory) is awaited. The token cache holds only
    // b64tokens, so a token found there needs no syntax check; any other gets it first.
    const known = verifyNow?.(credentials.token);
    span?.setAttribute('mcp.auth.token_cache', known !== undefined ? 'hit' : 'miss');
    if (known !== undefined) return admit(headers, needed, body, known, span, true);
    if (!isB64Token(credentials.token))
      return deny(headers, 400, 'invalid_request', NOT_B64TOKEN, hint(needed));
    let verification: Promise<AuthInfo>;
    try {
      verification = Promise.resolve(verifier(credentials.token));
    } catch (error) {
      return refused(headers, needed, error);
    }
    return verification.then(
      (authInfo) => admit(headers, needed, body, authInfo, span),
      (error: unknown) => refused(headers, needed, error),
    );
  };

  /** The URL the client addressed: the resource's public origin and the request's path. */
  const requestUrl = (target: string | undefined): string => {
    let path = target ?? '/';
    const end = path.search(/[?#]/);
    if (end !== -1) path = path.slice(0, end);
    if (!path.startsWith('/')) {
      // An absolute-form target (`POST http://host/mcp`): its path; anything else names no path.
      try {
        path = new URL(path).pathname;
      } catch {
        path = '/';
      }
    }
    return resourceOrigin + path;
  };

  /**
   * `Authorization: DPoP`: the proof of this request first (no verifier call for a bad or
   * stale proof), then the token, then the binding of one to the other. A token found in the
   * cache is no exception: the proof is per request and is checked every time.
   */
  const decideDpop = async (
    request: GuardRequest,
    base: Record<string, string>,
    needed: readonly string[],
    body: unknown,
    token: string,
    span: SpanLike | undefined,
  ): Promise<GuardResult> => {
    const settings = dpop as NonNullable<typeof dpop>;
    span?.setAttribute('mcp.auth.scheme', 'dpop');
    const headers = settings.nonce ? { ...base, 'DPoP-Nonce': await settings.nonce.issue() } : base;
    const outcome: ProofOutcome = await checkProof(
      settings,
      request.dpop,
      request.method,
      requestUrl(request.target),
      token,
    );
    if (!outcome.ok) {
      if (outcome.kind === 'unavailable') {
        return unavailable(
          headers,
          'The DPoP proof cannot be checked right now',
          outcome.retryAfter === undefined ? retryAfter : String(outcome.retryAfter),
        );
      }
      return deny(headers, 401, outcome.kind, outcome.description, hint(needed), 'DPoP');
    }
    let authInfo = verifyNow?.(token);
    const cached = authInfo !== undefined;
    span?.setAttribute('mcp.auth.token_cache', cached ? 'hit' : 'miss');
    if (authInfo === undefined) {
      try {
        authInfo = await verifier(token);
      } catch (error) {
        return refused(headers, needed, error, 'DPoP');
      }
    }
    if (!bindingHolds(authInfo, outcome.proof)) {
      return deny(headers, 401, 'invalid_token', 'Invalid DPoP key binding', hint(needed), 'DPoP');
    }
    // The tools' view (`authContext(extra).dpopJkt`); a new `extra`, never the cache's own.
    authInfo.extra = { ...authInfo.extra, dpopJkt: outcome.proof.jkt };
    return admit(headers, needed, body, authInfo, span, cached, 'DPoP');
  };

  // The tracer: named in the options, else the api's global one once its import resolves.
  const named = explicitTracer(TRACER_NAME, options);
  let tracer: TracerLike | undefined = named ?? undefined;
  if (named === null) {
    void resolveTracer(TRACER_NAME, options).then((found) => {
      tracer = found;
    });
  }

  const guard = (
    request: GuardRequest,
    span: SpanLike | undefined,
  ): GuardResult | Promise<GuardResult> => {
    const refusal = checkOrigin?.(request.host, request.origin);
    if (refusal) {
      return {
        ok: false,
        status: 403,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
        body: refusalBody(refusal),
      };
    }
    const headers = cors ? corsHeaders({ origin: request.origin }, cors) : {};
    if (cors && request.method === 'OPTIONS') {
      return {
        ok: false,
        status: 204,
        headers: corsHeaders({ origin: request.origin, preflight: true }, cors),
        body: null,
      };
    }

    // MCP authorization: access tokens MUST NOT be sent in the URI query (RFC 6750 §2.3 is off).
    if (
      request.search.includes('access_token') &&
      new URLSearchParams(request.search).has('access_token')
    ) {
      return deny(
        headers,
        400,
        'invalid_request',
        'Access tokens are not accepted in the URI query',
      );
    }

    if (!(inspectBody && request.method === 'POST'))
      return decide(request, headers, undefined, span);
    if (request.body !== undefined || request.readBody === undefined)
      return decide(request, headers, request.body, span);
    return request.readBody().then((value) => decide(request, headers, value, span));
  };

  return (request) => {
    const span = startSpan(tracer, 'mcp.bearer_auth');
    if (!span) return guard(request, undefined);
    let result: GuardResult | Promise<GuardResult>;
    try {
      result = guard(request, span);
    } catch (error) {
      endSpan(span, 500, 'server_error');
      throw error;
    }
    if (!(result instanceof Promise)) return endGuardSpan(span, result);
    return result.then(
      (value) => endGuardSpan(span, value),
      (error: unknown) => {
        endSpan(span, 500, 'server_error');
        throw error;
      },
    );
  };
}

const TRACER_NAME = '@portcullis/mcp-context';

/** The errors a challenge can carry: RFC 6750 §3.1's and RFC 9449 §7.1's. */
type GuardErrorCode = BearerErrorCode | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** The client and scopes of a verified token (not its subject: that is the user). */
function verifiedAttributes(span: SpanLike, authInfo: AuthInfo): void {
  if (typeof authInfo.clientId === 'string' && authInfo.clientId !== '')
    span.setAttribute('oauth.client_id', authInfo.clientId);
  if (Array.isArray(authInfo.scopes)) span.setAttribute('oauth.scopes', [...authInfo.scopes]);
}

function endGuardSpan(span: SpanLike, result: GuardResult): GuardResult {
  if (result.ok) {
    span.setAttribute('mcp.auth.outcome', 'allowed');
    span.end();
  } else {
    span.setAttribute('mcp.auth.outcome', result.status === 204 ? 'preflight' : 'refused');
    endSpan(span, result.status, result.error);
  }
  return result;
}
