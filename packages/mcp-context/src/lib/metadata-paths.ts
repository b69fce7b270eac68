import { resourceMetadataUrl } from '../metadata/resource-metadata-url.js';

/**
 * The paths protected resource metadata is served at: the path-inserted URL of RFC 9728 §3.1
 * and the root, for clients that only try the root.
 */
export function metadataPaths(resource: string | URL): ReadonlySet<string> {
  return new Set([resourceMetadataUrl(resource).pathname, '/.well-known/oauth-protected-resource']);
}
