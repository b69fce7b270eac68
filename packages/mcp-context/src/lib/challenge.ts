/**
 * `WWW-Authenticate` for the Bearer scheme (RFC 6750 §3): auth-params as quoted strings.
 * A quoted-string escapes `"` and `\` (RFC 9110 §5.6.4); anything outside visible ASCII and
 * space is dropped, since RFC 6750 §3 limits `error_description` and `scope` to those.
 */
export function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface ChallengeParams {
  resourceMetadata: string;
  error?: BearerErrorCode | undefined;
  errorDescription?: string | undefined;
  scopes?: readonly string[] | undefined;
}

export function bearerChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.error) {
    parts.push(`error=${quote(params.error)}`);
    if (params.errorDescription) parts.push(`error_description=${quote(params.errorDescription)}`);
  }
  if (params.scopes && params.scopes.length > 0)
    parts.push(`scope=${quote(params.scopes.join(' '))}`);
  parts.push(`resource_metadata=${quote(params.resourceMetadata)}`);
  return `Bearer ${parts.join(', ')}`;
}
