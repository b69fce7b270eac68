import type { FetchImplementation } from 'jose';
import { VerifierUnavailableError } from '../errors.js';

/**
 * Finds an issuer's `jwks_uri` from its metadata: RFC 8414 §3 (path-inserted well-known URL)
 * first, then OpenID Connect Discovery. The metadata's `issuer` must equal the configured one
 * exactly (RFC 8414 §3.3), or a server could hand us another issuer's keys.
 */
export async function discoverJwksUri(
  issuer: string,
  {
    fetch: fetchImpl = fetch,
    timeoutMs = 5_000,
  }: { fetch?: FetchImplementation; timeoutMs?: number } = {},
): Promise<URL> {
  const base = new URL(issuer);
  const path = base.pathname.replace(/\/$/, '');
  const candidates = [
    new URL(`/.well-known/oauth-authorization-server${path}`, base.origin),
    new URL(`${path}/.well-known/openid-configuration`, base.origin),
  ];
  let lastProblem = 'no metadata';
  for (const url of candidates) {
    let metadata: unknown;
    try {
      const response = await (fetchImpl as typeof fetch)(url.href, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        lastProblem = `${url.href} answered ${response.status}`;
        continue;
      }
      metadata = await response.json();
    } catch (error) {
      lastProblem = `${url.href}: ${error instanceof Error ? error.message : String(error)}`;
      continue;
    }
    const { issuer: published, jwks_uri: jwksUri } = (metadata ?? {}) as Record<string, unknown>;
    if (published !== issuer) {
      throw new VerifierUnavailableError(
        `The metadata at ${url.href} names issuer ${JSON.stringify(published)}, not ${JSON.stringify(issuer)}`,
      );
    }
    if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
      throw new VerifierUnavailableError(`The metadata at ${url.href} has no valid jwks_uri`);
    }
    return new URL(jwksUri);
  }
  throw new VerifierUnavailableError(
    `The JWKS of ${issuer} could not be discovered (${lastProblem})`,
  );
}
