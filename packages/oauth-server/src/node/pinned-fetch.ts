/// <reference types="node" />
import http from 'node:http';
import https from 'node:https';
import { isIPv6, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Fetches `url` over a connection to exactly `address` (already checked to be public), never
 * resolving the host name again: a DNS-rebinding host that answered a public address to the
 * check cannot send the connection to a private one. TLS still verifies the certificate for
 * the URL's host name (SNI and hostname check). No redirect is followed. The default connector
 * of Client ID Metadata Document fetching on Node.js.
 *
 * @example
 * createAuthorizationServer({ ..., clientIdMetadataDocuments: { connect: nodePinnedFetch } });
 */
export function nodePinnedFetch(
  url: string,
  address: string,
  init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<Response> {
  const target = new URL(url);
  const family = isIPv6(address) ? 6 : 4;
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      { method: 'GET', headers: init.headers, signal: init.signal, lookup },
      (response) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (Array.isArray(value)) for (const v of value) headers.append(name, v);
          else if (value !== undefined) headers.set(name, String(value));
        }
        const status = response.statusCode ?? 502;
        const empty = status === 204 || status === 304;
        if (empty) response.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
            status,
            headers,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}
