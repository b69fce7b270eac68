/// <reference types="node" />
import type { ServerResponse } from 'node:http';
import { metadataPaths } from '../lib/metadata-paths.js';
import { createOriginCheck, refusalBody } from '../lib/origin-check.js';
import {
  type MetadataHandlerOptions,
  protectedResourceMetadataHandler,
} from '../metadata/protected-resource-metadata-handler.js';
import type { NodeRequest } from './bearer-auth.js';
import { header } from './header.js';

/**
 * Express (or Connect, or `node:http`) middleware serving the protected resource metadata
 * ([RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)) at the path-inserted URL
 * and at the root, with the DNS-rebinding check of `originCheck` (on by default); every other
 * request goes on to `next()`.
 *
 * @example
 * app.use(protectedResourceMetadataMiddleware({
 *   resource: 'http://localhost:8000/mcp',
 *   authorizationServers: ['http://localhost:3000'],
 *   scopesSupported: ['read', 'write', 'admin'],
 * }));
 */
export function protectedResourceMetadataMiddleware(
  options: MetadataHandlerOptions,
): (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  const handle = protectedResourceMetadataHandler({ ...options, originCheck: false });
  const checkOrigin =
    options.originCheck === false
      ? undefined
      : createOriginCheck(options.resource, options.originCheck ?? {});
  const paths = metadataPaths(options.resource);
  return (req, res, next) => {
    // Every request passes through here: only metadata paths pay for building a Request.
    const target = req.originalUrl ?? req.url ?? '/';
    const query = target.indexOf('?');
    const path = query === -1 ? target : target.slice(0, query);
    // An absolute-form target (`GET http://host/path`) is rare; it takes the full parse below.
    if (path.startsWith('/') && !paths.has(path)) {
      next();
      return;
    }
    const headers = new Headers();
    const origin = req.headers.origin;
    if (typeof origin === 'string') headers.set('origin', origin);
    let response: Response | undefined;
    try {
      response = handle(
        new Request(new URL(target, 'http://localhost'), {
          method: req.method ?? 'GET',
          headers,
        }),
      );
    } catch {
      // A method fetch forbids (CONNECT, TRACE) or an unparsable URL: not a metadata request.
      response = undefined;
    }
    if (!response) {
      next();
      return;
    }
    const refusal = checkOrigin?.(
      header(req.headers.host) ?? header(req.headers[':authority']),
      origin,
    );
    if (refusal) {
      res.statusCode = 403;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'no-store');
      res.end(refusalBody(refusal));
      return;
    }
    res.statusCode = response.status;
    response.headers.forEach((value, name) => {
      res.setHeader(name, value);
    });
    response
      .text()
      .then((text) => res.end(text))
      .catch(next);
  };
}
