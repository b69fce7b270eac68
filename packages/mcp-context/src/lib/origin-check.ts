import { assertObject, assertResourceUrl, invalidType, invalidValue } from './errors.js';

/** Who may reach the MCP endpoint and its metadata, for DNS-rebinding protection. */
export interface OriginCheckOptions {
  /**
   * Browser origins allowed besides the resource's own, exactly as browsers send them
   * (`https://app.example.com`), or `'*'` for any. Default: only the resource URL's origin.
   * A request without `Origin` (a non-browser client) is always allowed.
   */
  allowedOrigins?: '*' | readonly string[];
  /**
   * `Host` header values allowed (`mcp.example.com`, `mcp.example.com:8443`), or `'*'` to skip
   * the Host check (behind a proxy that rewrites `Host`). Default: the resource URL's host.
   * Loopback hosts (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`, any port) are always
   * allowed: a rebinding page makes the browser send its own name, never one of these.
   */
  allowedHosts?: '*' | readonly string[];
  /**
   * Also allow browser pages served from loopback (`http://localhost:6274`, any port), such as
   * a local inspector. Default: true when the resource URL itself is on loopback (development),
   * false otherwise.
   */
  allowLoopbackOrigins?: boolean;
}

export type OriginRefusal = { reason: 'host' | 'origin'; message: string };

/** Decides one request from its `Host` and `Origin` headers; `undefined` lets it through. */
export type OriginCheck = (
  host: string | null | undefined,
  origin: string | null | undefined,
) => OriginRefusal | undefined;

function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}

/** The hostname of a `Host` header value (`[::1]:8000` → `[::1]`), lower-cased. */
function hostnameOf(host: string): string {
  const value = host.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? value : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** `Host` values naming the resource: with and without its default port. */
function hostsOf(url: URL): string[] {
  const hosts = [url.host.toLowerCase()];
  if (url.port === '') hosts.push(`${url.hostname.toLowerCase()}:${defaultPort(url.protocol)}`);
  return hosts;
}

function listOption(value: unknown, name: string): '*' | Set<string> {
  if (value === '*') return '*';
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalidType(name, "'*' or an array of strings", value);
  }
  return new Set(value as string[]);
}

/**
 * DNS-rebinding protection as the MCP Streamable HTTP transport asks of servers: a browser
 * page on another site may not reach this server through a name that resolves to it, so a
 * request whose `Origin` is not allowed, or whose `Host` does not name this server, is
 * refused. Requests without `Origin` come from non-browser clients and pass.
 */
export function createOriginCheck(resource: string, options: OriginCheckOptions = {}): OriginCheck {
  const url = assertResourceUrl(resource, 'resource');
  assertObject(options, 'originCheck');
  const loopback = options.allowLoopbackOrigins ?? isLoopbackName(url.hostname);
  if (typeof loopback !== 'boolean') {
    throw invalidType('allowLoopbackOrigins', 'a boolean', options.allowLoopbackOrigins);
  }
  const origins = listOption(options.allowedOrigins ?? [], 'allowedOrigins');
  if (origins !== '*') {
    for (const origin of origins) {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw invalidValue('allowedOrigins', `must list origins, received "${origin}"`);
      }
      if (parsed.origin !== origin) {
        throw invalidValue(
          'allowedOrigins',
          `must list origins like "${parsed.origin}", received "${origin}"`,
        );
      }
    }
    origins.add(url.origin);
  }
  const listedHosts = listOption(options.allowedHosts ?? hostsOf(url), 'allowedHosts');
  const hosts =
    listedHosts === '*' ? '*' : new Set([...listedHosts].map((host) => host.toLowerCase()));

  return (host, origin) => {
    if (hosts !== '*') {
      const value = host?.trim().toLowerCase() ?? '';
      if (!hosts.has(value) && !(value !== '' && isLoopbackName(hostnameOf(value)))) {
        return { reason: 'host', message: 'Forbidden: Host header not allowed' };
      }
    }
    if (origin === null || origin === undefined || origin === '' || origins === '*')
      return undefined;
    if (origins.has(origin)) return undefined;
    if (loopback) {
      try {
        const parsed = new URL(origin);
        if (
          (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
          parsed.origin === origin &&
          isLoopbackName(parsed.hostname)
        ) {
          return undefined;
        }
      } catch {
        // An unparsable Origin (including the opaque "null") is refused below.
      }
    }
    return { reason: 'origin', message: 'Forbidden: Origin not allowed' };
  };
}

/** The refusal body: a JSON-RPC error, as the MCP transport answers other transport failures. */
export function refusalBody(refusal: OriginRefusal): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    error: { code: -32000, message: refusal.message },
    id: null,
  });
}
