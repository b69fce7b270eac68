import type { ServerResponse } from 'node:http';
import type { NodeRequest } from './bearer-auth.js';
import { metadataPaths } from './lib/metadata-paths.js';
import type { ProtectedResourceMetadataOptions } from './protected-resource-metadata.js';
import { protectedResourceMetadataHandler } from './protected-resource-metadata-handler.js';

/**
 * Express (or Connect, or `node:http`) middleware serving the protected resource metadata
 * ([RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)) at the path-inserted URL
 * and at the root; every other request goes on to `next()`.
 *
 * @example
 * app.use(protectedResourceMetadataMiddleware({
 *   resource: 'http://localhost:8000/mcp',
 *   authorizationServers: ['http://localhost:3000'],
 *   scopesSupported: ['read', 'write', 'admin'],
 * }));
 */
export function protectedResourceMetadataMiddleware(
  options: ProtectedResourceMetadataOptions,
): (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  const handle = protectedResourceMetadataHandler(options);
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
        new Request(new URL(req.originalUrl ?? req.url ?? '/', 'http://localhost'), {
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
