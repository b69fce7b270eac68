import type { DpopAlgorithm } from './algorithms.js';
import { DEFAULT_DPOP_ALGORITHMS } from './algorithms.js';

/** The errors a DPoP challenge carries (RFC 6750 §3.1, RFC 9449 §7.1, §12.2). */
export type DpopChallengeError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

export interface DpopChallengeOptions {
  /** Omit when the request carried no credentials (RFC 6750 §3.1). */
  error?: DpopChallengeError | undefined;
  errorDescription?: string | undefined;
  /** The algorithms accepted for proofs (`algs`), default `DEFAULT_DPOP_ALGORITHMS`. */
  algorithms?: readonly DpopAlgorithm[];
  /** Scopes the resource needs (`scope`). */
  scopes?: readonly string[] | undefined;
  /** RFC 9728 §5.1: the protected resource metadata URL, as MCP clients look for it. */
  resourceMetadata?: string | undefined;
  realm?: string | undefined;
}

/**
 * A quoted-string (RFC 9110 §5.6.4): `"` and `\` escaped, anything outside visible ASCII and
 * space dropped, so no caller-supplied text can end the header or forge another parameter.
 */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The `WWW-Authenticate` challenge of the DPoP scheme a resource server answers with
 * ([RFC 9449 §7.1](https://www.rfc-editor.org/rfc/rfc9449#section-7.1)): `error`,
 * `error_description`, `scope`, `resource_metadata` and `algs` (required). A server that also
 * accepts Bearer tokens sends both challenges.
 *
 * @example
 * dpopChallenge({ error: 'invalid_dpop_proof', errorDescription: error.message, algorithms: ['ES256'] });
 * // 'DPoP error="invalid_dpop_proof", error_description="...", algs="ES256"'
 */
export function dpopChallenge(options: DpopChallengeOptions = {}): string {
  const parts: string[] = [];
  if (options.realm !== undefined) parts.push(`realm=${quote(options.realm)}`);
  if (options.error !== undefined) {
    parts.push(`error=${quote(options.error)}`);
    if (options.errorDescription) {
      parts.push(`error_description=${quote(options.errorDescription)}`);
    }
  }
  if (options.scopes && options.scopes.length > 0) {
    parts.push(`scope=${quote(options.scopes.join(' '))}`);
  }
  if (options.resourceMetadata !== undefined) {
    parts.push(`resource_metadata=${quote(options.resourceMetadata)}`);
  }
  parts.push(`algs=${quote((options.algorithms ?? DEFAULT_DPOP_ALGORITHMS).join(' '))}`);
  return `DPoP ${parts.join(', ')}`;
}
