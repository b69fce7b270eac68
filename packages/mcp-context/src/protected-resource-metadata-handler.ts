import { corsHeaders } from './cors-headers.js';
import { metadataPaths } from './lib/metadata-paths.js';
import {
  type ProtectedResourceMetadataOptions,
  protectedResourceMetadata,
} from './protected-resource-metadata.js';

/** Answers metadata requests; `undefined` for any other path, so handlers can be chained. */
export type MetadataHandler = (request: Request) => Response | undefined;

/**
 * A fetch-style handler serving the protected resource metadata
 * ([RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)) at the path-inserted URL
 * (`/.well-known/oauth-protected-resource/mcp`) and at the root
 * (`/.well-known/oauth-protected-resource`), for clients that only try the root. CORS is open:
 * the document is public and browser clients must read it.
 *
 * @example
 * const metadata = protectedResourceMetadataHandler({ resource, authorizationServers: [issuer] });
 * export default { fetch: (request) => metadata(request) ?? mcp(request) };
 */
export function protectedResourceMetadataHandler(
  options: ProtectedResourceMetadataOptions,
): MetadataHandler {
  const document = JSON.stringify(protectedResourceMetadata(options));
  const paths = metadataPaths(options.resource);
  return (request) => {
    const { pathname } = new URL(request.url);
    if (!paths.has(pathname)) return undefined;
    const origin = request.headers.get('origin');
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
