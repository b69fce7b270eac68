/// <reference types="node" />
import { lookup } from 'node:dns/promises';

/**
 * Resolves a host name with the system resolver (every A and AAAA record), for the SSRF check
 * of Client ID Metadata Document fetching. The default on Node.js already; pass it explicitly
 * (`clientIdMetadataDocuments.resolveHost`) when bundling for a Node.js target that strips
 * dynamic imports.
 *
 * @example
 * createAuthorizationServer({ ..., clientIdMetadataDocuments: { resolveHost: nodeResolveHost } });
 */
export async function nodeResolveHost(hostname: string): Promise<string[]> {
  const records = await lookup(hostname, { all: true, verbatim: true });
  return records.map((r) => r.address);
}
