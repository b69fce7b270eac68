import { corsHeaders } from '../guard/cors-headers.js';
import { metadataPaths } from '../lib/metadata-paths.js';
import { createOriginCheck, type OriginCheckOptions, refusalBody } from '../lib/origin-check.js';
import {
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
} from './protected-resource-metadata.js';

/** Answers metadata requests; `undefined` for any other path, so handlers can be chained. */
export type MetadataHandler = (request: Request) => Response | undefined;

export interface MetadataHandlerOptions extends ProtectedResourceMetadataOptions {
  /**
   * DNS-rebinding protection, as for `/mcp` (see `BearerAuthOptions.originCheck`): on by
   * default, allowing the resource URL's origin and host (plus loopback names when the
   * resource is on loopback); `false` turns it off.
   */
  originCheck?: false | OriginCheckOptions;
}

/**
 * A fetch-style handler serving the protected resource metadata
 * ([RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)) at the path-inserted URL
 * (`/.well-known/oauth-protected-resource/mcp`) and at the root
 * (`/.well-known/oauth-protected-resource`), for clients that only try the root. CORS is open:
 * the document is public and browser clients must read it; the DNS-rebinding check
 * (`originCheck`) still refuses other sites' pages unless you allow their origins.
 *
 * @example
 * const metadata = protectedResourceMetadataHandler({ resource, authorizationServers: [issuer] });
 * export default { fetch: (request) => metadata(request) ?? mcp(request) };
 */
export function protectedResourceMetadataHandler(options: MetadataHandlerOptions): MetadataHandler {
  const { originCheck, ...metadataOptions } = options;
  const document = JSON.stringify(protectedResourceMetadata(metadataOptions));
  const paths = metadataPaths(options.resource);
  const checkOrigin =
    originCheck === false ? undefined : createOriginCheck(options.resource, originCheck ?? {});
  return (request) => {
    const url = new URL(request.url);
    if (!paths.has(url.pathname)) return undefined;
    const origin = request.headers.get('origin');
    const refusal = checkOrigin?.(request.headers.get('host') ?? url.host, origin);
    if (refusal) {
      return new Response(refusalBody(refusal), {
        status: 403,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      });
    }
    if (request.method === 'OPTIONS') {
      return new Response(null, { status: 204, headers: corsHeaders({ origin, preflight: true }) });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(null, {
        status: 405,
        headers: { Allow: 'GET, HEAD, OPTIONS', ...corsHeaders({ origin }) },
      });
    }
    return new Response(request.method === 'HEAD' ? null : document, {
      status: 200,
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': 'public, max-age=3600',
        ...corsHeaders({ origin }),
      },
    });
  };
}
