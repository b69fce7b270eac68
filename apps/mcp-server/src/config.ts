import { readFileSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

/** Shorter tokens are guessable: the table refuses them, naming this rule. */
const MIN_TOKEN_LENGTH = 16;

// The guide's table writes `user_id`; ours `userId`. Both are accepted, not both at once.
const staticToken = z
  .object({
    userId: z.string().min(1).optional(),
    user_id: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    scopes: z.array(z.string()).default([]),
  })
  .refine((entry) => (entry.userId === undefined) !== (entry.user_id === undefined), {
    message: 'needs "userId" (or the guide\'s "user_id"), exactly one of them',
  })
  .transform(({ userId, user_id, clientId, scopes }) => ({
    userId: (userId ?? user_id) as string,
    ...(clientId ? { clientId } : {}),
    scopes,
  }));
const staticTable = z.record(z.string(), staticToken);

const Env = z.object({
  AUTH_MODE: z.enum(['none', 'static', 'oauth']).default('oauth'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  MCP_RESOURCE_URL: z.url().optional(),
  ISSUER_URL: z.url().default('http://localhost:3000'),
  JWKS_URI: z.url().optional(),
  INTROSPECTION_ENDPOINT: z.url().optional(),
  INTROSPECTION_CLIENT_ID: z.string().min(1).optional(),
  INTROSPECTION_CLIENT_SECRET: z.string().min(1).optional(),
  REVOCATION_FEED_URL: z.url().optional(),
  REVOCATION_FEED_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(2),
  REVOCATION_FEED_MAX_STALENESS_SECONDS: z.coerce.number().positive().optional(),
  STATIC_TOKENS: z.string().optional(),
  STATIC_TOKENS_FILE: z.string().optional(),
  ALLOW_INSECURE_NO_AUTH: bool.default(false),
  REDIS_URL: z.url().optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  NODE_ENV: z.string().optional(),
  TLS_TERMINATED_AT_PROXY: bool.default(false),
  MCP_DPOP: z.enum(['off', 'optional', 'required']).default('off'),
});

type StaticTokens = z.infer<typeof staticTable>;

export interface Config {
  authMode: 'none' | 'static' | 'oauth';
  host: string;
  port: number;
  /** The MCP endpoint's URL: the audience every token must carry (RFC 8707). */
  resource: URL;
  issuer: string;
  jwksUri: string | undefined;
  introspection: { endpoint: string; clientId: string; clientSecret: string } | undefined;
  /** The authorization server's revocation feed, polled with this server's client credentials. */
  revocationFeed:
    | {
        endpoint: string;
        clientId: string;
        clientSecret: string;
        intervalSeconds: number;
        maxStalenessSeconds?: number;
      }
    | undefined;
  staticTokens: StaticTokens;
  allowInsecureNoAuth: boolean;
  redisUrl: string | undefined;
  rateLimitPerMinute: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * DPoP (RFC 9449) for `AUTH_MODE=oauth`: `optional` accepts DPoP-bound tokens with their
   * proofs beside Bearer ones, `required` refuses Bearer; `off` (default) accepts Bearer only.
   * A DPoP-bound token sent as Bearer is refused in every mode.
   */
  dpop: 'off' | 'optional' | 'required';
}

/** A configuration problem, one line per variable, raised before the server listens. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function parseStaticTokens(env: z.infer<typeof Env>): StaticTokens {
  const [name, text] = env.STATIC_TOKENS_FILE
    ? ['STATIC_TOKENS_FILE', readFileSync(env.STATIC_TOKENS_FILE, 'utf8')]
    : ['STATIC_TOKENS', env.STATIC_TOKENS];
  if (text === undefined) {
    throw new ConfigError([
      'STATIC_TOKENS: required when AUTH_MODE=static (JSON: {"<token>": {"userId": "...", "scopes": ["read"]}}), or set STATIC_TOKENS_FILE',
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError([`${name}: is not valid JSON`]);
  }
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const short = Object.keys(json).findIndex((token) => token.length < MIN_TOKEN_LENGTH);
    if (short !== -1) {
      // The token itself is a secret: name its place and length, never its value.
      const length = Object.keys(json)[short]?.length;
      throw new ConfigError([
        `${name}: the token of entry ${short + 1} is ${length} characters; every token must be at least ${MIN_TOKEN_LENGTH} characters (a random string, e.g. \`openssl rand -hex 24\`)`,
      ]);
    }
  }
  const parsed = staticTable.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      // Paths start with the token: show the entry's place instead.
      parsed.error.issues.map((i) => {
        const [token, ...rest] = i.path.map(String);
        const entry =
          token === undefined
            ? '(root)'
            : `entry ${Object.keys(json as object).indexOf(token) + 1}`;
        return `${name}: ${[entry, ...rest].join('.')}: ${i.message}`;
      }),
    );
  }
  return parsed.data;
}

/**
 * Reads and validates the environment once at start-up. Throws `ConfigError` naming each bad
 * variable on its own line; the values of secrets are never echoed.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(
    Object.entries(source).filter(([key, value]) => key in Env.shape && value !== ''),
  );
  const parsed = Env.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`),
    );
  }
  const env = parsed.data;
  const { INTROSPECTION_ENDPOINT: endpoint, INTROSPECTION_CLIENT_ID: clientId } = env;
  const clientSecret = env.INTROSPECTION_CLIENT_SECRET;
  if (endpoint && (!clientId || !clientSecret)) {
    throw new ConfigError([
      'INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET: required with INTROSPECTION_ENDPOINT',
    ]);
  }
  const feedUrl = env.REVOCATION_FEED_URL;
  if (feedUrl && (!clientId || !clientSecret)) {
    throw new ConfigError([
      "INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET: required with REVOCATION_FEED_URL (this server's client at the authorization server, one it lets read the feed)",
    ]);
  }
  // PORT alone moves the default resource URL with it.
  const resource = new URL(env.MCP_RESOURCE_URL ?? `http://localhost:${env.PORT}/mcp`);
  if (env.PORT !== 0 && isLoopbackHost(resource.hostname) && effectivePort(resource) !== env.PORT) {
    throw new ConfigError([
      `MCP_RESOURCE_URL: ${resource.href} is not where this server listens (PORT=${env.PORT}): tokens for it would not reach it; set MCP_RESOURCE_URL=${new URL(`${resource.pathname}${resource.search}`, `${resource.protocol}//${resource.hostname}:${env.PORT}`).href} or leave it unset`,
    ]);
  }
  const production = !isLoopbackHost(env.HOST) || env.NODE_ENV === 'production';
  const insecure = [
    ['MCP_RESOURCE_URL', resource.href] as const,
    ...(env.AUTH_MODE === 'oauth' ? [['ISSUER_URL', env.ISSUER_URL] as const] : []),
    // The client secret goes there.
    ...(env.AUTH_MODE === 'oauth' && feedUrl ? [['REVOCATION_FEED_URL', feedUrl] as const] : []),
  ].filter(([, url]) => url.startsWith('http:'));
  // Tokens travel to and from these URLs; AUTH_MODE=none has none (and its own host rule).
  if (
    env.AUTH_MODE !== 'none' &&
    production &&
    !env.TLS_TERMINATED_AT_PROXY &&
    insecure.length > 0
  ) {
    const why = env.NODE_ENV === 'production' ? 'NODE_ENV=production' : `HOST=${env.HOST}`;
    throw new ConfigError([
      `${insecure.map(([name]) => name).join(' and ')}: HTTPS is required in production (${why}): use https:// URLs, or set TLS_TERMINATED_AT_PROXY=1 if a proxy in front of this server ends TLS`,
    ]);
  }
  return {
    authMode: env.AUTH_MODE,
    host: env.HOST,
    port: env.PORT,
    resource,
    issuer: env.ISSUER_URL,
    jwksUri: env.JWKS_URI,
    introspection:
      endpoint && clientId && clientSecret ? { endpoint, clientId, clientSecret } : undefined,
    revocationFeed:
      env.AUTH_MODE === 'oauth' && feedUrl && clientId && clientSecret
        ? {
            endpoint: feedUrl,
            clientId,
            clientSecret,
            intervalSeconds: env.REVOCATION_FEED_INTERVAL_SECONDS,
            ...(env.REVOCATION_FEED_MAX_STALENESS_SECONDS !== undefined
              ? { maxStalenessSeconds: env.REVOCATION_FEED_MAX_STALENESS_SECONDS }
              : {}),
          }
        : undefined,
    staticTokens: env.AUTH_MODE === 'static' ? parseStaticTokens(env) : {},
    allowInsecureNoAuth: env.ALLOW_INSECURE_NO_AUTH,
    redisUrl: env.REDIS_URL,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    logLevel: env.LOG_LEVEL,
    dpop: env.AUTH_MODE === 'oauth' ? env.MCP_DPOP : 'off',
  };
}

/** The port a URL reaches, its scheme's default when it names none. */
function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Loopback hosts: the only ones `AUTH_MODE=none` may listen on without ALLOW_INSECURE_NO_AUTH. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
