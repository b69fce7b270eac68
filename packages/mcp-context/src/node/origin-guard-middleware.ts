/// <reference types="node" />
import type { ServerResponse } from 'node:http';
import type { OriginGuardOptions } from '../guard/origin-guard.js';
import { assertObject } from '../lib/errors.js';
import { createOriginCheck, refusalBody } from '../lib/origin-check.js';
import type { NodeRequest } from './bearer-auth.js';
import { header } from './header.js';

/**
 * `originGuard` as Express (or Connect, or `node:http`) middleware: DNS-rebinding protection
 * for an endpoint without `bearerAuth` (which runs the same check itself). A request whose
 * `Origin` is not allowed or whose `Host` does not name this server gets `403` with a
 * JSON-RPC error; every other request, including those without `Origin`, goes on to `next()`.
 *
 * @example
 * app.use('/mcp', originGuardMiddleware({ resource: 'http://localhost:8000/mcp' }));
 */
export function originGuardMiddleware(
  options: OriginGuardOptions,
): (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  assertObject(options, 'options');
  const { resource, ...rest } = options;
  const check = createOriginCheck(resource, rest);
  return (req, res, next) => {
    const { headers } = req;
    const refusal = check(
      header(headers.host) ?? header(headers[':authority']),
      header(headers.origin),
    );
    if (!refusal) {
      next();
      return;
    }
    res.statusCode = 403;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-store');
    res.end(refusalBody(refusal));
  };
}
