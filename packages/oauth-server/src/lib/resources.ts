import { InvalidTargetError } from '../errors.js';
import type { Context } from './context.js';

/**
 * The resource a request asks for (RFC 8707 §2), compared as an exact string with the
 * resources this server issues tokens for; without `resource`, the only one when there is
 * only one. The one rule for every grant that starts a token's audience: the authorization
 * request and the client credentials grant.
 */
export function resolveResource(
  ctx: Context,
  requested: string | undefined,
): Context['resources'][number] {
  if (requested === undefined) {
    if (ctx.resources.length === 1) return ctx.resources[0]!;
    throw new InvalidTargetError('resource is required (RFC 8707)');
  }
  const resource = ctx.resources.find((r) => r.uri === requested);
  if (!resource)
    throw new InvalidTargetError('resource is not served by this authorization server');
  return resource;
}
