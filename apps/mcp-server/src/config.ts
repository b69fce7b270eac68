import { readFileSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const staticToken = z.object({
  userId: z.string().min(1),
  clientId: z.string().min(1).optional(),
  scopes: z.array(z.string()).default([]),
});
const staticTable = z.record(
  z.string().min(16, 'tokens must be at least 16 characters'),
  staticToken,
);

const Env = z.object({
  AUTH_MODE: z.enum(['none', 'static', 'oauth']).default('oauth'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  MCP_RESOURCE_URL: z.url().default('http://localhost:8000/mcp'),
  ISSUER_URL: z.url().default('http://localhost:3000'),
  JWKS_URI: z.url().optional(),
  INTROSPECTION_ENDPOINT: z.url().optional(),
  INTROSPECTION_CLIENT_ID: z.string().min(1).optional(),
  INTROSPECTION_CLIENT_SECRET: z.string().min(1).optional(),
  STATIC_TOKENS: z.string().optional(),
  STATIC_TOKENS_FILE: z.string().optional(),
  ALLOW_INSECURE_NO_AUTH: bool.default(false),
  REDIS_URL: z.url().optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type StaticTokens = z.infer<typeof staticTable>;

export interface Config {
  authMode: 'none' | 'static' | 'oauth';
  host: string;
  port: number;
  /** The MCP endpoint's URL: the audience every token must carry (RFC 8707). */
  resource: URL;
  issuer: string;
  jwksUri: string | undefined;
  introspection: { endpoint: string; clientId: string; clientSecret: string } | undefined;
  staticTokens: StaticTokens;
  allowInsecureNoAuth: boolean;
  redisUrl: string | undefined;
  rateLimitPerMinute: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
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
  const parsed = staticTable.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${name}: ${i.path.join('.') || '(root)'}: ${i.message}`),
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
  return {
    authMode: env.AUTH_MODE,
    host: env.HOST,
    port: env.PORT,
    resource: new URL(env.MCP_RESOURCE_URL),
    issuer: env.ISSUER_URL,
    jwksUri: env.JWKS_URI,
    introspection:
      endpoint && clientId && clientSecret ? { endpoint, clientId, clientSecret } : undefined,
    staticTokens: env.AUTH_MODE === 'static' ? parseStaticTokens(env) : {},
    allowInsecureNoAuth: env.ALLOW_INSECURE_NO_AUTH,
    redisUrl: env.REDIS_URL,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    logLevel: env.LOG_LEVEL,
  };
}

/** Loopback hosts: the only ones `AUTH_MODE=none` may listen on without ALLOW_INSECURE_NO_AUTH. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
