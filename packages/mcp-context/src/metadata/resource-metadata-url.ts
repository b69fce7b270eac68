import { assertResourceUrl } from '../lib/errors.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * Where a resource's protected resource metadata lives: the well-known suffix inserted
 * between the host and the path ([RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)),
 * a terminating slash removed, the query kept. For `http://host:8000/mcp` that is
 * `http://host:8000/.well-known/oauth-protected-resource/mcp`.
 *
 * @example
 * resourceMetadataUrl('https://mcp.example.com/mcp').href;
 * // 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
 */
export function resourceMetadataUrl(resource: string | URL): URL {
  const url = assertResourceUrl(resource, 'resource');
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return new URL(`${url.origin}${WELL_KNOWN}${path}${url.search}`);
}
