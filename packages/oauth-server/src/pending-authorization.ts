import type { OAuthErrorCode } from './errors.js';
/**
 * A validated authorization request (RFC 6749 §4.1.1) waiting for the user: the app shows
 * login and consent, then calls `approve()` or `deny()`.
 */
export interface PendingAuthorization {
  clientId: string;
  /**
   * For a client identified by a Client ID Metadata Document URL: the URL's host, the one
   * identity that was verified (the document's `client_name` is self-declared). Show it beside
   * the name on the consent screen.
   */
  clientIdHost?: string | undefined;
  clientName?: string | undefined;
  clientUri?: string | undefined;
  logoUri?: string | undefined;
  /** The exact redirect URI the response goes to. */
  redirectUri: string;
  /** Its host (with port), for the consent screen: "You will be sent to …". */
  redirectHost: string;
  /** The redirect goes to this machine (a native or CLI client on loopback, RFC 8252 §7.3). */
  localhostOnly: boolean;
  /** The scopes requested (or the defaults when the request named none). */
  scopes: string[];
  scopeDescriptions: { scope: string; description: string }[];
  /** The RFC 8707 resource the token will be for; the consent screen names it. */
  resource: string;
  state?: string | undefined;
  /** Whether the user has not yet granted this client every requested scope at this resource. */
  needsConsent(userId: string): Promise<boolean>;
  /**
   * Records the user's consent (user × client × resource × scopes), stores a single-use code
   * (hashed, 60 s) that starts a grant of `ttl.grant` seconds at most, and returns the 302 to
   * the client with `code`, `state` and `iss` (RFC 9207). `scopes` may narrow the request;
   * `authTime` is when the user signed in (seconds since the epoch), the ID token's `auth_time`
   * (OpenID Connect Core §2).
   */
  approve(userId: string, options?: { scopes?: string[]; authTime?: number }): Promise<Response>;
  /** The 302 to the client with `error=access_denied`, `state` and `iss`. */
  deny(): Response;
}

/** What `authorization.parse()` returns. */
export type AuthorizationParseResult =
  | { ok: true; pending: PendingAuthorization }
  | {
      ok: false;
      response: Response;
      /** The OAuth error code the response carries (shown or redirected). */
      error?: OAuthErrorCode;
      /** The client, when the error is redirected to it (its redirect URI was trusted). */
      clientId?: string;
    };
