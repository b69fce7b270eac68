/** Every `code` a `PkceError` can carry. */
export type PkceErrorCode = 'ERR_PKCE_METHOD_UNSUPPORTED';

/** Base class of the protocol failures this package throws; callers' mistakes are `TypeError`s. */
export class PkceError extends Error {
  static code: PkceErrorCode | 'ERR_PKCE' = 'ERR_PKCE';
  code: PkceErrorCode | 'ERR_PKCE' = 'ERR_PKCE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * Thrown for any `code_challenge_method` other than `S256`, `plain` included: OAuth 2.1
 * (draft §4.1.1) and the MCP authorization specification require S256.
 */
export class UnsupportedChallengeMethodError extends PkceError {
  static override code = 'ERR_PKCE_METHOD_UNSUPPORTED' as const;
  override code = 'ERR_PKCE_METHOD_UNSUPPORTED' as const;
  /** The method that was asked for. */
  readonly method: string;

  constructor(method: string) {
    super(
      method === 'plain'
        ? 'code_challenge_method "plain" is refused: OAuth 2.1 and MCP require "S256"'
        : `code_challenge_method "${method}" is not supported: use "S256"`,
    );
    this.method = method;
  }
}
