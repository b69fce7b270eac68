import {
  ASSERTION_SIGNING_ALGS,
  jwksUriProblem,
  registeredKeys,
  USER_SCOPES,
} from '@portcullis/oauth-server';
import { ConfigError } from './config-error';
import { SCOPES } from './scopes';

/** An operator's machine client (`MACHINE_CLIENTS`): client credentials, no user. */
export type MachineClient = {
  clientId: string;
  scopes: string[];
} & (
  | { clientSecret: string }
  | {
      /** private_key_jwt (RFC 7523): the client record's metadata, checked as /register checks it. */
      privateKeyJwt: {
        jwks?: { keys: object[] };
        jwks_uri?: string;
        token_endpoint_auth_signing_alg?: string;
      };
    }
);

/** The client credentials grant's configuration (`MACHINE_CLIENTS`, `DCR_CLIENT_CREDENTIALS_SCOPES`). */
export interface ClientCredentialsConfig {
  machineClients: MachineClient[];
  /** Scopes a client that registers itself at /register may get by client credentials; none by default. */
  dcrScopes: string[];
}

type Env = Record<string, string | undefined>;

/** The shape of this app's user subjects (`u_` + 128 random bits): a client id must never look like one. */
const USER_SUB = /^u_[\w-]{22}$/;

function machineScopes(variable: string, scopes: string[]): string[] {
  for (const scope of scopes) {
    if (!Object.hasOwn(SCOPES, scope) || USER_SCOPES.includes(scope)) {
      throw new ConfigError(
        variable,
        `lists "${scope.slice(0, 40)}", which is not a scope a machine client can hold (known: ${Object.keys(
          SCOPES,
        )
          .filter((s) => !USER_SCOPES.includes(s))
          .join(', ')})`,
      );
    }
  }
  return [...new Set(scopes)];
}

/**
 * A key-based machine client's `jwks` or `jwks_uri` and optional `token_endpoint_auth_signing_alg`,
 * by the rules /register applies (the library's own checks), or a ConfigError naming the entry.
 */
function privateKeyJwt(
  at: string,
  entry: Record<string, unknown>,
  allowInsecure: boolean,
): Extract<MachineClient, { privateKeyJwt: unknown }>['privateKeyJwt'] {
  const fail = (problem: string): never => {
    throw new ConfigError('MACHINE_CLIENTS', `${at}: ${problem}`);
  };
  if (entry.client_secret !== undefined) {
    fail('a private_key_jwt client has no client_secret (it signs assertions with its key)');
  }
  const { jwks, jwks_uri: uri, token_endpoint_auth_signing_alg: alg } = entry;
  if ((jwks === undefined) === (uri === undefined)) {
    fail('private_key_jwt needs one of jwks and jwks_uri, not both');
  }
  const out: Extract<MachineClient, { privateKeyJwt: unknown }>['privateKeyJwt'] = {};
  if (alg !== undefined) {
    if (!(ASSERTION_SIGNING_ALGS as readonly unknown[]).includes(alg)) {
      fail(`token_endpoint_auth_signing_alg must be one of ${ASSERTION_SIGNING_ALGS.join(', ')}`);
    }
    out.token_endpoint_auth_signing_alg = alg as string;
  }
  if (uri !== undefined) {
    const problem = jwksUriProblem(uri, allowInsecure);
    if (problem) fail(problem);
    out.jwks_uri = uri as string;
    return out;
  }
  const keys = registeredKeys(jwks);
  if ('problem' in keys) fail(keys.problem);
  out.jwks = { keys: (keys as { keys: object[] }).keys };
  return out;
}

/**
 * `MACHINE_CLIENTS` (a JSON array of `{ "client_id", "client_secret", "scope" }`, or of
 * `{ "client_id", "token_endpoint_auth_method": "private_key_jwt", "jwks" | "jwks_uri", "scope" }`
 * for a client that authenticates with a signed assertion) and
 * `DCR_CLIENT_CREDENTIALS_SCOPES` (comma- or space-separated). A machine client's token has its
 * client id as `sub`, so the id may not look like a user's subject, a URL (a Client ID Metadata
 * Document), or another configured client's.
 */
export function clientCredentialsConfig(
  env: Env,
  otherClientIds: string[],
  /** CIMD_ALLOW_INSECURE: an http `jwks_uri` is allowed as it is at /register. */
  allowInsecure = false,
): ClientCredentialsConfig {
  const raw = env.MACHINE_CLIENTS?.trim();
  const machineClients: MachineClient[] = [];
  if (raw) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ConfigError(
        'MACHINE_CLIENTS',
        'is not valid JSON (expected [{"client_id": …, "client_secret": …, "scope": "read"}])',
      );
    }
    if (!Array.isArray(parsed)) {
      throw new ConfigError('MACHINE_CLIENTS', 'must be a JSON array of clients');
    }
    const seen = new Set(otherClientIds);
    for (const [i, entry] of parsed.entries()) {
      const at = `entry ${i}`;
      if (typeof entry !== 'object' || entry === null) {
        throw new ConfigError('MACHINE_CLIENTS', `${at} must be an object`);
      }
      const {
        client_id: id,
        client_secret: secret,
        scope,
        token_endpoint_auth_method: method,
      } = entry as Record<string, unknown>;
      if (typeof id !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(id)) {
        throw new ConfigError(
          'MACHINE_CLIENTS',
          `${at}: client_id must be 1-255 printable ASCII characters without spaces`,
        );
      }
      if (/^https?:\/\//i.test(id) || USER_SUB.test(id)) {
        throw new ConfigError(
          'MACHINE_CLIENTS',
          `${at}: client_id may not be a URL or look like a user's subject (u_…)`,
        );
      }
      if (seen.has(id)) {
        throw new ConfigError('MACHINE_CLIENTS', `${at}: client_id "${id}" is configured twice`);
      }
      seen.add(id);
      if (
        method !== undefined &&
        method !== 'client_secret_basic' &&
        method !== 'private_key_jwt'
      ) {
        throw new ConfigError(
          'MACHINE_CLIENTS',
          `${at}: token_endpoint_auth_method must be client_secret_basic (the default) or private_key_jwt`,
        );
      }
      const keyBased = method === 'private_key_jwt';
      if (!keyBased) {
        for (const member of ['jwks', 'jwks_uri', 'token_endpoint_auth_signing_alg']) {
          if (Object.hasOwn(entry, member)) {
            throw new ConfigError(
              'MACHINE_CLIENTS',
              `${at}: ${member} is for token_endpoint_auth_method private_key_jwt`,
            );
          }
        }
      }
      const credential = keyBased
        ? { privateKeyJwt: privateKeyJwt(at, entry as Record<string, unknown>, allowInsecure) }
        : undefined;
      if (!credential && (typeof secret !== 'string' || secret.length < 32)) {
        throw new ConfigError(
          'MACHINE_CLIENTS',
          `${at}: client_secret must be at least 32 characters (try: openssl rand -base64 32)`,
        );
      }
      if (typeof scope !== 'string' || scope.trim() === '') {
        throw new ConfigError('MACHINE_CLIENTS', `${at}: scope must list the client's scopes`);
      }
      machineClients.push({
        clientId: id,
        ...(credential ?? { clientSecret: secret as string }),
        scopes: machineScopes('MACHINE_CLIENTS', scope.split(' ').filter(Boolean)),
      });
    }
  }
  const dcrScopes = machineScopes(
    'DCR_CLIENT_CREDENTIALS_SCOPES',
    (env.DCR_CLIENT_CREDENTIALS_SCOPES ?? '').split(/[\s,]+/).filter(Boolean),
  );
  return { machineClients, dcrScopes };
}
