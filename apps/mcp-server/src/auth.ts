import {
  introspectionVerifier,
  jwtVerifier,
  type RevocationFeed,
  revocationFeed,
  staticTokenVerifier,
  type TokenVerifier,
} from '@portcullis/mcp-context';
import type { Config } from './config.js';

const looksLikeJwt = (token: string) => token.split('.').length === 3;

export interface Verification {
  /** `undefined` with `AUTH_MODE=none`. */
  verifier: TokenVerifier | undefined;
  /** Stops polling the revocation feed, when there is one. */
  close(): void;
}

/**
 * The token verifier for the configured mode: JWT access tokens from the authorization server
 * (checked against its JWKS, `iss`, `aud` = this server's resource URL, `exp`), refused once the
 * authorization server lists them as revoked when `REVOCATION_FEED_URL` is set, optionally
 * RFC 7662 introspection for opaque tokens; or the guide's static token table. `none` has no
 * verifier. `warn` gets the feed's outages (once each, never a token).
 */
export function createVerifier(config: Config, warn: (message: string) => void): Verification {
  switch (config.authMode) {
    case 'none':
      return { verifier: undefined, close: () => {} };
    case 'static':
      return { verifier: staticTokenVerifier(config.staticTokens), close: () => {} };
    case 'oauth': {
      const revocations: RevocationFeed | undefined = config.revocationFeed
        ? revocationFeed({ ...config.revocationFeed, log: warn })
        : undefined;
      const jwt = jwtVerifier({
        issuer: config.issuer,
        audience: config.resource.href,
        // Our authorization server issues RFC 9068 tokens: typ at+jwt, sub, client_id, iat.
        profile: 'rfc9068',
        ...(config.jwksUri ? { jwksUri: config.jwksUri } : {}),
        ...(revocations ? { revocations } : {}),
      });
      const opaque = config.introspection
        ? introspectionVerifier({ ...config.introspection, audience: config.resource.href })
        : undefined;
      return {
        verifier: opaque ? (token) => (looksLikeJwt(token) ? jwt(token) : opaque(token)) : jwt,
        close: () => revocations?.close(),
      };
    }
  }
}
