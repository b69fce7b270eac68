import { ConfigError } from './config-error';
import { SCOPES, USER_SCOPES } from './scopes';

/** An operator's machine client (`MACHINE_CLIENTS`): client credentials, no user. */
export interface MachineClient {
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

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
 * `MACHINE_CLIENTS` (a JSON array of `{ "client_id", "client_secret", "scope" }`) and
 * `DCR_CLIENT_CREDENTIALS_SCOPES` (comma- or space-separated). A machine client's token has its
 * client id as `sub`, so the id may not look like a user's subject, a URL (a Client ID Metadata
 * Document), or another configured client's.
 */
export function clientCredentialsConfig(
  env: Env,
  otherClientIds: string[],
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
      const { client_id: id, client_secret: secret, scope } = entry as Record<string, unknown>;
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
      if (typeof secret !== 'string' || secret.length < 32) {
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
        clientSecret: secret,
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
