import { isIP } from 'node:net';
import type { TrustProxy } from './config';
import { peerAddress } from './peer';

/**
 * One spelling per address, for comparing: IPv4-mapped IPv6 (`::ffff:192.0.2.1`, how a
 * dual-stack socket reports IPv4 callers) as plain IPv4, IPv6 fully expanded; `undefined`
 * when it is not an IP address.
 */
export function canonicalAddress(raw: string | undefined): string | undefined {
  const value = raw?.trim().replace(/^\[(.*)\]$/, '$1');
  if (!value || value.length > 45) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(value);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1];
  const family = isIP(value);
  if (family === 4) return value;
  if (family !== 6) return undefined;
  return expandIPv6(value).join(':');
}

/** Whether an address is this machine's (127.0.0.0/8, ::1, or IPv4-mapped loopback). */
export function isLoopbackAddress(raw: string | undefined): boolean {
  const address = canonicalAddress(raw);
  return address === '0:0:0:0:0:0:0:1' || (address?.startsWith('127.') ?? false);
}

function expandIPv6(value: string): string[] {
  const [head = '', tail] = value.toLowerCase().split('::') as [string, string | undefined];
  const parts = (s: string) => (s ? s.split(':') : []);
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}

/**
 * The rate-limit key of a canonical address: IPv4 as is, IPv6 by its /64 — one host is given
 * a whole /64, so keying by the full address would let it rotate through 2^64 keys.
 *
 * @example
 * addressKey('2001:db8:0:1:0:0:0:5') // '2001:db8:0:1::/64'
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address === '0:0:0:0:0:0:0:1') return '::1';
  return `${address.split(':').slice(0, 4).join(':')}::/64`;
}

/**
 * The caller's address for per-address limits, under the configured trust: the socket peer
 * when no proxy is trusted; otherwise "X-Forwarded-For, socket peer" read from the right past
 * the trusted proxies — never the left-most entry, which the client writes. A chain shorter
 * than the trusted hops came around the proxies, so the socket peer is the caller.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-8.3
 * @example
 * clientAddress(request.headers, { kind: 'hops', hops: 1 }, '10.0.0.2')
 * // 'X-Forwarded-For: 6.6.6.6, 203.0.113.7' → '203.0.113.7'
 */
export function clientAddress(
  headers: Headers,
  trust: TrustProxy,
  peer: string | undefined,
): string | undefined {
  if (trust.kind === 'vercel') {
    // Vercel's edge overwrites these with the address it accepted the connection from.
    return canonicalAddress(
      headers.get('x-real-ip') ?? headers.get('x-vercel-forwarded-for')?.split(',')[0],
    );
  }
  const socket = canonicalAddress(peer);
  if (trust.kind === 'socket' || socket === undefined) return socket;
  const forwarded = (headers.get('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer!];
  if (trust.kind === 'hops') {
    const index = chain.length - 1 - trust.hops;
    if (index < 0) return socket;
    // An entry a trusted proxy wrote is an address; if it is not, fall back toward the right
    // (the proxies' addresses): a shared key is still a limit.
    for (let i = index; i < chain.length; i++) {
      const address = canonicalAddress(chain[i]);
      if (address) return address;
    }
    return socket;
  }
  const trusted = new Set(trust.addresses.map((a) => canonicalAddress(a) ?? a));
  let caller = socket;
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = canonicalAddress(chain[i]);
    if (!address) return caller;
    caller = address;
    if (!trusted.has(address)) return address;
  }
  return caller;
}

/**
 * The caller's address of a request to this app (see `clientAddress`), the socket peer taken
 * from the stamp `node-guard` puts on every request it sees.
 */
export function requestAddress(request: Request, trust: TrustProxy): string | undefined {
  return clientAddress(request.headers, trust, peerAddress(request.headers));
}
