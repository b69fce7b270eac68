import { errorResponse, toOAuthError } from '../error-response.js';
import type { Context } from './context.js';
import { type JsonReply, MethodNotAllowedError } from './http.js';
import { replyResponse } from './node-bridge.js';
import { RateLimitState } from './rate-limits.js';
import { endSpan, type SpanLike, startSpan } from './tracing.js';

/** A fetch-style handler. */
export type Handler = (request: Request) => Promise<Response>;

interface EndpointOptions {
  methods: readonly string[];
  /** Browser-based clients call it: CORS headers and preflight. */
  cors: boolean;
  /** The name of the span around each request (not preflights), when there is a tracer. */
  span?: string;
}

function corsHeaders(methods: readonly string[]): Record<string, string> {
  return {
    // No cookies are involved: clients authenticate with explicit credentials, so any origin may call.
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': [...methods, 'OPTIONS'].join(', '),
    'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version, DPoP',
    'Access-Control-Expose-Headers':
      'WWW-Authenticate, RateLimit, RateLimit-Policy, Retry-After, DPoP-Nonce',
    'Access-Control-Max-Age': '86400',
  };
}

/**
 * Wraps an endpoint: CORS and preflight, method check (405 + Allow), and the one error
 * mapping, so that no thrown value becomes anything but a JSON OAuth error response.
 */
export function endpoint(
  ctx: Context,
  options: EndpointOptions,
  run: (
    request: Request,
    limits: RateLimitState,
    span: SpanLike | undefined,
  ) => Promise<Response | JsonReply>,
): Handler {
  const cors = ctx.cors && options.cors ? corsHeaders(options.methods) : {};
  const withCors = corsMerger(cors);
  return async (request) => {
    if (request.method === 'OPTIONS' && ctx.cors && options.cors) {
      return new Response(null, { status: 204, headers: cors });
    }
    const span = options.span !== undefined ? startSpan(ctx.tracer, options.span) : undefined;
    const limits = new RateLimitState(ctx.now);
    let response: Response | JsonReply;
    try {
      if (!options.methods.includes(request.method)) {
        throw new MethodNotAllowedError(request.method, options.methods.join(', '));
      }
      response = await run(request, limits, span);
    } catch (error) {
      auditRateLimit(ctx, limits, request);
      const headers = new Headers({ ...cors, ...limits.headers() });
      if (error instanceof MethodNotAllowedError) headers.set('Allow', error.allow);
      const basicAuth = /^basic\s/i.test(request.headers.get('authorization') ?? '');
      const answer = errorResponse(error, { basicAuth, headers });
      if (span) endSpan(span, answer.status, toOAuthError(error).code);
      return answer;
    }
    if (span) endSpan(span, response.status, undefined);
    const limitHeaders = limits.headers();
    if (response instanceof Response) return withHeaders(response, { ...cors, ...limitHeaders });
    return replyResponse(request, {
      status: response.status,
      headers: isEmpty(limitHeaders)
        ? withCors(response.headers)
        : { ...response.headers, ...cors, ...limitHeaders },
      body: response.body,
    });
  };
}

function isEmpty(record: Record<string, string>): boolean {
  for (const _ in record) return false;
  return true;
}

/**
 * `headers` and then `cors` in one record, made once per `headers` record (a reply's headers
 * are shared and never changed, see `jsonReply`): what every answer without RateLimit
 * headers carries.
 */
function corsMerger(
  cors: Record<string, string>,
): (headers: Record<string, string>) => Record<string, string> {
  if (isEmpty(cors)) return (headers) => headers;
  const merged = new WeakMap<Record<string, string>, Record<string, string>>();
  return (headers) => {
    let out = merged.get(headers);
    if (out === undefined) {
      out = Object.freeze({ ...headers, ...cors });
      merged.set(headers, out);
    }
    return out;
  };
}

/** Emits `rate_limit.hit` when one of the request's limits refused it. */
export function auditRateLimit(ctx: Context, limits: RateLimitState, request: Request): void {
  if (!limits.hit) return;
  let ip: string | undefined;
  try {
    ip = ctx.getClientIp(request);
  } catch {
    // A throwing getClientIp already failed the request; the event goes without an address.
  }
  ctx.audit({ event: 'rate_limit.hit', ...limits.hit, ip });
}

export function withHeaders(response: Response, headers: Record<string, string>): Response {
  const entries = Object.entries(headers);
  if (entries.length === 0) return response;
  try {
    for (const [name, value] of entries) response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers (a Response from fetch): copy.
    const copy = new Response(response.body, response);
    for (const [name, value] of entries) copy.headers.set(name, value);
    return copy;
  }
}
