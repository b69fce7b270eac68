import { invalidType } from '../lib/errors.js';

/** Which browser origins may call the MCP endpoint. */
export interface CorsOptions {
  /**
   * `'*'` (the default) or a list of exact origins. Bearer tokens are sent explicitly, never
   * as cookies, so `*` does not let other sites ride on a user's session.
   */
  allowedOrigins?: '*' | readonly string[];
  /** Seconds a browser may cache a preflight answer; default 600. */
  maxAge?: number;
}

export interface CorsRequest {
  /** The request's `Origin` header, if any. */
  origin?: string | null | undefined;
  /** `true` for an `OPTIONS` preflight: adds the allowed methods, headers and max age. */
  preflight?: boolean;
}

/**
 * The headers an MCP client in a browser sends, including on resumption (`Last-Event-ID`) and
 * the 2026-07-28 request headers (`Mcp-Method`, `Mcp-Name`).
 */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'Mcp-Protocol-Version',
  'Mcp-Session-Id',
  'Last-Event-ID',
  'Mcp-Method',
  'Mcp-Name',
  'DPoP',
] as const;

/** A browser script may only read response headers that are exposed. */
export const CORS_EXPOSED_HEADERS = [
  'WWW-Authenticate',
  'Mcp-Session-Id',
  'Mcp-Protocol-Version',
  'DPoP-Nonce',
] as const;

/**
 * CORS response headers for an MCP endpoint (Fetch standard §3.2): `WWW-Authenticate` and
 * `Mcp-Session-Id` exposed so a browser client can read the challenge and the session;
 * `Authorization`, `Mcp-Protocol-Version` and the other MCP headers allowed on preflight.
 * Returns no `Access-Control-Allow-Origin` for an origin outside `allowedOrigins`.
 *
 * @example
 * const headers = corsHeaders({ origin: request.headers.get('origin'), preflight: request.method === 'OPTIONS' });
 * if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers });
 */
export function corsHeaders(
  request: CorsRequest = {},
  options: CorsOptions = {},
): Record<string, string> {
  const allowed = options.allowedOrigins ?? '*';
  if (allowed !== '*' && !Array.isArray(allowed)) {
    throw invalidType('allowedOrigins', "'*' or an array of origins", allowed);
  }
  const origin = request.origin ?? null;
  const headers: Record<string, string> = {};
  if (allowed === '*') {
    headers['Access-Control-Allow-Origin'] = '*';
  } else {
    headers.Vary = 'Origin';
    if (origin === null || !allowed.includes(origin)) return headers;
    headers['Access-Control-Allow-Origin'] = origin;
  }
  headers['Access-Control-Expose-Headers'] = CORS_EXPOSED_HEADERS.join(', ');
  if (request.preflight) {
    headers['Access-Control-Allow-Methods'] = 'GET, POST, DELETE, OPTIONS';
    headers['Access-Control-Allow-Headers'] = CORS_ALLOWED_HEADERS.join(', ');
    headers['Access-Control-Max-Age'] = String(options.maxAge ?? 600);
  }
  return headers;
}
