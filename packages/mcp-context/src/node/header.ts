/// <reference types="node" />
import type { IncomingHttpHeaders } from 'node:http';

/**
 * One request header as a string: repeated headers joined as HTTP lists are. Takes
 * `req.headers`, which node:http builds on first read: read it once for several headers.
 */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
