import { isIpLiteral } from './ip.js';
import { invalidArg } from './type-error.js';

/** Which X-Forwarded-For entries were written by proxies this server trusts. */
export type TrustProxy = boolean | number | string[];

/**
 * The caller's address from `X-Forwarded-For`, read from the right: each trusted proxy appends
 * the address it received the request from, so the entries a client writes itself are on the
 * left and can never be chosen. `hops` (a number, `true` = 1) takes the entry that many places
 * from the right; a list of proxy addresses skips entries that are proxies and takes the first
 * that is not. `undefined` when the header is missing, too short or not an IP address.
 */
export function forwardedForReader(trust: TrustProxy): (request: Request) => string | undefined {
  if (trust === false) return () => undefined;
  let pick: (entries: string[]) => string | undefined;
  if (Array.isArray(trust)) {
    for (const proxy of trust) {
      if (typeof proxy !== 'string' || !isIpLiteral(proxy)) {
        throw invalidArg('"trustProxy" must list IP addresses of proxies');
      }
    }
    const proxies = new Set(trust.map(normalise));
    pick = (entries) => {
      for (let i = entries.length - 1; i >= 0; i--) {
        if (!proxies.has(entries[i]!)) return entries[i];
      }
      return undefined;
    };
  } else {
    const hops = trust === true ? 1 : trust;
    if (!Number.isInteger(hops) || hops < 1 || hops > 32) {
      throw invalidArg(
        '"trustProxy" must be true, a number of proxies (1-32) or a list of their addresses',
      );
    }
    pick = (entries) => entries[entries.length - hops];
  }
  return (request) => {
    const header = request.headers.get('x-forwarded-for');
    if (header === null || header.length > 4096) return undefined;
    const entries = header.split(',').map((entry) => normalise(entry.trim()));
    const chosen = pick(entries);
    return chosen !== undefined && chosen.length <= 64 && isIpLiteral(chosen) ? chosen : undefined;
  };
}

function normalise(address: string): string {
  return address.toLowerCase();
}
