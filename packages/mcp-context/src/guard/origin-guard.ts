import { assertObject } from '../lib/errors.js';
import { createOriginCheck, type OriginCheckOptions, refusalBody } from '../lib/origin-check.js';

export type { OriginCheckOptions } from '../lib/origin-check.js';

export interface OriginGuardOptions extends OriginCheckOptions {
  /** The MCP endpoint URL, as in the protected resource metadata (`http://localhost:8000/mcp`). */
  resource: string;
}

/**
 * DNS-rebinding protection for fetch-style servers, as the MCP Streamable HTTP transport
 * requires of servers (validate `Origin`; a present, invalid one gets 403): returns the `403`
 * answer — a JSON-RPC error — for a request whose `Origin` is not allowed or whose `Host` does
 * not name this server, and `undefined` for every other request, including those without
 * `Origin` (non-browser clients). Allowed by default: the resource URL's origin and host, plus
 * the loopback names when the resource is on loopback. `authenticate` and
 * `protectedResourceMetadataHandler` run the same check; use this one in front of an endpoint
 * without auth. See [RFC 6454 §7](https://www.rfc-editor.org/rfc/rfc6454#section-7) for `Origin`.
 *
 * @example
 * const guard = originGuard({ resource: 'http://localhost:8000/mcp' });
 * export const fetch = (request) => guard(request) ?? handler.fetch(request);
 */
export function originGuard(
  options: OriginGuardOptions,
): (request: Request) => Response | undefined {
  assertObject(options, 'options');
  const { resource, ...rest } = options;
  const check = createOriginCheck(resource, rest);
  return (request) => {
    const refusal = check(
      request.headers.get('host') ?? new URL(request.url).host,
      request.headers.get('origin'),
    );
    if (!refusal) return undefined;
    return new Response(refusalBody(refusal), {
      status: 403,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    });
  };
}
