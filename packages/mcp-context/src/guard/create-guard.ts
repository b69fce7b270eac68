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
  // The resource of the last token checked, compared once per distinct value, not per request;
  // a cached token's AuthInfo copies share their URL object, so a hit is one identity check.
  let lastResource: { of: unknown; matches: boolean } | undefined;
  const isThisResource = (value: unknown) => {
    if (lastResource !== undefined && lastResource.of === value) return lastResource.matches;
    lastResource = { of: value, matches: comparableResource(String(value)) === resource };
    return lastResource.matches;
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

  const deny = (
    headers: Record<string, string>,
    status: number,
    error: BearerErrorCode | undefined,
    description: string,
    scopes?: readonly string[],
  ): GuardResult => ({
    ok: false,
    status,
    headers: {
      ...headers,
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'WWW-Authenticate': bearerChallenge({
        resourceMetadata: metadataUrl,
        error,
        errorDescription: error ? description : undefined,
        scopes,
      }),
    },
    body: JSON.stringify({ error: error ?? 'unauthorized', error_description: description }),
    ...(error !== undefined ? { error } : {}),
  });

  /** What a verifier's failure means for the client. */
  const refused = (
    headers: Record<string, string>,
    needed: readonly string[],
    error: unknown,
  ): GuardResult => {
    if (isInvalidTokenError(error)) {
      const message =
        error instanceof InvalidTokenError ? error.message : 'The access token is invalid';
      return deny(headers, 401, 'invalid_token', message, hint(needed));
    }
    if (error instanceof VerifierUnavailableError) {
      return {
        ok: false,
        status: 503,
        headers: { ...headers, 'Content-Type': 'application/json', 'Retry-After': retryAfter },
        body: JSON.stringify({
          error: 'temporarily_unavailable',
          error_description: 'The access token cannot be checked right now',
        }),
        error: 'temporarily_unavailable',
      };
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
  ): GuardResult => {
    if (span) verifiedAttributes(span, authInfo);
    if (
      !cached &&
      typeof authInfo.expiresAt === 'number' &&
      authInfo.expiresAt * 1000 <= Date.now()
    ) {
      return deny(headers, 401, 'invalid_token', 'The access token has expired', hint(needed));
    }
    if (authInfo.resource !== undefined && !isThisResource(authInfo.resource)) {
      return deny(
        headers,
        401,
        'invalid_token',
        'The access token was not issued for this resource',
        needed,
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
    if (credentials.kind === 'none')
      return deny(headers, 401, undefined, 'An access token is required', hint(needed));
    if (credentials.kind === 'malformed')
      return deny(headers, 400, 'invalid_request', credentials.reason, hint(needed));

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
