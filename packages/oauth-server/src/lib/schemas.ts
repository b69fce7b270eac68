import { z } from 'zod';
import {
  InvalidClientMetadataError,
  InvalidRedirectUriError,
  InvalidRequestError,
  type OAuthError,
} from '../errors.js';
import { safeName } from './http.js';
import { ASSERTION_SIGNING_ALGS } from './jwks.js';

/*
 * One schema per endpoint and grant type (STYLE §8): parsed once at the edge with safeParse;
 * a failure names the offending parameter. Lengths are bounded so no field can be abused to
 * make the server do unbounded work.
 */

// RFC 6749 Appendix A: client_id, code, tokens and the like are VSCHAR (%x20-7E). Refusing
// anything else at the edge also keeps control characters out of every store backend.
const VSCHAR = /^[\x20-\x7E]*$/;
const text = (max: number) => z.string().min(1).max(max).regex(VSCHAR);
const optionalText = (max: number) => z.string().max(max).regex(VSCHAR).optional();
/** No C0 control character or DEL: they have no place in any parameter and upset some stores. */
export function hasNoControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}
// Free text that may carry any Unicode (state), without control characters.
const optionalUnicode = (max: number) => z.string().max(max).refine(hasNoControl).optional();

/** RFC 7636 §4.1 verifier syntax; a malformed one is a malformed request, not a grant failure. */
const codeVerifier = z
  .string()
  .regex(/^[A-Za-z0-9\-._~]{43,128}$/, 'must be 43 to 128 unreserved characters (RFC 7636 §4.1)');

const clientCredentials = {
  client_id: optionalText(2048),
  client_secret: optionalText(512),
  // RFC 7523 §2.2: a client assertion (private_key_jwt) and its type.
  client_assertion_type: optionalText(128),
  client_assertion: optionalText(8192),
};

/**
 * What a schema of flat string parameters states of each (the token endpoint's), checked
 * without zod: `parseWith` takes this path first and returns the same output when every rule
 * holds; anything else goes to zod, which says what is wrong.
 */
interface FieldRule {
  optional: boolean;
  min: number;
  max: number;
  pattern: RegExp;
  /** The one value accepted (`z.literal`). */
  literal?: string;
}

const textRule = (max: number): FieldRule => ({ optional: false, min: 1, max, pattern: VSCHAR });
const optionalTextRule = (max: number): FieldRule => ({
  optional: true,
  min: 0,
  max,
  pattern: VSCHAR,
});
const literalRule = (value: string): FieldRule => ({
  optional: false,
  min: 0,
  max: Number.POSITIVE_INFINITY,
  pattern: VSCHAR,
  literal: value,
});
const clientCredentialRules = {
  client_id: optionalTextRule(2048),
  client_secret: optionalTextRule(512),
  client_assertion_type: optionalTextRule(128),
  client_assertion: optionalTextRule(8192),
};

const plainChecks = new WeakMap<z.ZodType, [string, FieldRule][]>();

/** Registers `rules`, the same as `schema`'s, in its order (the output's key order). */
function plainCheck<S extends z.ZodObject>(
  schema: S,
  rules: Record<keyof S['shape'] & string, FieldRule>,
): S {
  plainChecks.set(schema, Object.entries(rules));
  return schema;
}

function checkPlain(
  rules: [string, FieldRule][],
  input: unknown,
): Record<string, string> | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const out: Record<string, string> = {};
  for (const [name, rule] of rules) {
    const value = (input as Record<string, unknown>)[name];
    if (value === undefined) {
      if (rule.optional) continue;
      return undefined;
    }
    if (typeof value !== 'string') return undefined;
    if (
      rule.literal !== undefined
        ? value !== rule.literal
        : value.length < rule.min || value.length > rule.max || !rule.pattern.test(value)
    )
      return undefined;
    out[name] = value;
  }
  return out;
}

export const authorizationCodeGrantSchema = z.object({
  grant_type: z.literal('authorization_code'),
  code: text(512),
  code_verifier: codeVerifier,
  redirect_uri: optionalText(2048),
  resource: optionalText(2048),
  ...clientCredentials,
});

export const refreshTokenGrantSchema = z.object({
  grant_type: z.literal('refresh_token'),
  refresh_token: text(512),
  scope: optionalText(2048),
  resource: optionalText(2048),
  ...clientCredentials,
});

/** RFC 6749 §4.4.2: the client authenticates; `scope` and `resource` (RFC 8707) are optional. */
export const clientCredentialsGrantSchema = z.object({
  grant_type: z.literal('client_credentials'),
  scope: optionalText(2048),
  resource: optionalText(2048),
  ...clientCredentials,
});

plainCheck(clientCredentialsGrantSchema, {
  grant_type: literalRule('client_credentials'),
  scope: optionalTextRule(2048),
  resource: optionalTextRule(2048),
  ...clientCredentialRules,
});
plainCheck(authorizationCodeGrantSchema, {
  grant_type: literalRule('authorization_code'),
  code: textRule(512),
  code_verifier: { optional: false, min: 0, max: 128, pattern: /^[A-Za-z0-9\-._~]{43,128}$/ },
  redirect_uri: optionalTextRule(2048),
  resource: optionalTextRule(2048),
  ...clientCredentialRules,
});
plainCheck(refreshTokenGrantSchema, {
  grant_type: literalRule('refresh_token'),
  refresh_token: textRule(512),
  scope: optionalTextRule(2048),
  resource: optionalTextRule(2048),
  ...clientCredentialRules,
});

export const grantTypeSchema = plainCheck(z.object({ grant_type: text(128) }), {
  grant_type: textRule(128),
});

export const revokeSchema = z.object({
  token: text(8192),
  token_type_hint: optionalText(64),
  ...clientCredentials,
});

export const introspectSchema = revokeSchema;

/** The parameters checked before the redirect URI is trusted (their errors are shown, never redirected). */
export const authorizeClientSchema = z.object({
  client_id: text(2048),
  redirect_uri: optionalText(2048),
});

/** The rest of the authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707 §2). */
export const authorizeRequestSchema = z.object({
  response_type: text(64),
  code_challenge: text(128).optional(),
  code_challenge_method: optionalText(32),
  state: optionalUnicode(4096),
  scope: optionalText(4096),
  resource: optionalText(2048),
});

const str = (max: number, min = 0) => z.string().min(min).max(max).refine(hasNoControl);
const uri = z.string().min(1).max(2048).refine(hasNoControl);

/** RFC 7591 §2 client metadata. */
export const registrationSchema = z.object({
  // Required with authorization_code (checked with grant_types); a client_credentials client has none.
  redirect_uris: z.array(uri).max(20).optional(),
  token_endpoint_auth_method: z
    .enum(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    .optional(),
  // RFC 7591 §2: the keys of a private_key_jwt client, one of the two (checked by the endpoint).
  jwks: z.unknown().optional(),
  jwks_uri: uri.optional(),
  token_endpoint_auth_signing_alg: z.enum(ASSERTION_SIGNING_ALGS).optional(),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
    .min(1)
    .max(3)
    .optional(),
  response_types: z
    .array(z.enum(['code']))
    .max(1)
    .optional(),
  application_type: z.enum(['web', 'native']).optional(),
  client_name: str(256, 1).optional(),
  client_uri: uri.optional(),
  logo_uri: uri.optional(),
  tos_uri: uri.optional(),
  policy_uri: uri.optional(),
  scope: str(2048).optional(),
  contacts: z.array(str(256)).max(10).optional(),
  software_id: str(256).optional(),
  software_version: str(256).optional(),
});

/** A Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document §4). */
export const metadataDocumentSchema = z.looseObject({
  client_id: z.string().min(1).max(2048),
  redirect_uris: z.array(uri).min(1).max(20),
  client_name: z.string().min(1).max(256).optional(),
  client_uri: uri.optional(),
  logo_uri: uri.optional(),
  token_endpoint_auth_method: z.string().max(64).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string().max(64)).max(10).optional(),
  token_endpoint_auth_signing_alg: z.string().max(32).optional(),
  jwks: z.unknown().optional(),
  jwks_uri: z.string().max(2048).optional(),
  grant_types: z.array(z.string().max(64)).max(10).optional(),
  response_types: z.array(z.string().max(64)).max(10).optional(),
  scope: z.string().max(2048).optional(),
  application_type: z.enum(['web', 'native']).optional(),
});

type ErrorFactory = (message: string, parameter: string) => OAuthError;

const requestError: ErrorFactory = (message) => new InvalidRequestError(message);

/** RFC 7591 §3.2.2: redirect URI problems have their own code. */
export const registrationError: ErrorFactory = (message, parameter) =>
  parameter === 'redirect_uris'
    ? new InvalidRedirectUriError(message)
    : new InvalidClientMetadataError(message);

/**
 * Parses `input` with `schema`; on failure throws the endpoint's error naming the first
 * offending parameter (never echoing its value).
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  toError: ErrorFactory = requestError,
): z.output<S> {
  const rules = plainChecks.get(schema);
  if (rules !== undefined) {
    const plain = checkPlain(rules, input);
    if (plain !== undefined) return plain as z.output<S>;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const parameter = safeName(String(issue.path[0] ?? 'request'));
  const detail =
    issue.code === 'invalid_type' && issue.input === undefined
      ? 'is required'
      : issue.code === 'invalid_value' || issue.code === 'invalid_union'
        ? 'has an unsupported value'
        : issue.code === 'too_big'
          ? 'is too long'
          : issue.code === 'too_small'
            ? 'is empty'
            : 'is invalid';
  return throwError(toError(`parameter ${parameter} ${detail}`, parameter));
}

function throwError(error: OAuthError): never {
  throw error;
}
