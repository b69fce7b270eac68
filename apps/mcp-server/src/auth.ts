import {
  introspectionVerifier,
  jwtVerifier,
  staticTokenVerifier,
  type TokenVerifier,
} from '@portcullis/mcp-context';
import type { Config } from './config.js';

const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * The token verifier for the configured mode: JWT access tokens from the authorization server
 * (checked against its JWKS, `iss`, `aud` = this server's resource URL, `exp`), optionally RFC 7662
 * introspection for opaque tokens; or the guide's static token table. `none` has no verifier.
 */
export function createVerifier(config: Config): TokenVerifier | undefined {
  switch (config.authMode) {
    case 'none':
      return undefined;
    case 'static':
      return staticTokenVerifier(config.staticTokens);
    case 'oauth': {
      const jwt = jwtVerifier({
        issuer: config.issuer,
        audience: config.resource.href,
        // Our authorization server issues RFC 9068 tokens: typ at+jwt, sub, client_id, iat.
        profile: 'rfc9068',
        ...(config.jwksUri ? { jwksUri: config.jwksUri } : {}),
      });
      const opaque = config.introspection
        ? introspectionVerifier({ ...config.introspection, audience: config.resource.href })
        : undefined;
      if (!opaque) return jwt;
      return (token) => (looksLikeJwt(token) ? jwt(token) : opaque(token));
    }
  }
}
