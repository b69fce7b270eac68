/// <reference types="node" />
import type { IncomingMessage } from 'node:http';

/** One request header as a string: repeated headers joined as HTTP lists are. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
