import { describe, expect, it } from 'vitest';
import { addressKey, canonicalAddress, clientAddress } from '../src/lib/client-address';
import type { TrustProxy } from '../src/lib/config';
import { PEER_HEADER, peerAddress, peerNonce } from '../src/lib/peer';

const xff = (value?: string) =>
  new Headers(value === undefined ? {} : { 'x-forwarded-for': value });
const socket: TrustProxy = { kind: 'socket' };
const oneProxy: TrustProxy = { kind: 'hops', hops: 1 };
const twoProxies: TrustProxy = { kind: 'hops', hops: 2 };

describe('the caller address for per-address limits', () => {
  it('without a trusted proxy it is the socket peer, whatever X-Forwarded-For says', () => {
    expect(clientAddress(xff('6.6.6.6'), socket, '203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddress(xff(), socket, '::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddress(xff('6.6.6.6'), socket, undefined)).toBeUndefined();
  });

  it('RFC 7239 §8.3: one trusted proxy → the entry it appended, never the client-written first hop', () => {
    // The client wrote "6.6.6.6"; the proxy (10.0.0.2) appended the address it saw.
    expect(clientAddress(xff('6.6.6.6, 203.0.113.7'), oneProxy, '10.0.0.2')).toBe('203.0.113.7');
    expect(clientAddress(xff('203.0.113.7'), oneProxy, '10.0.0.2')).toBe('203.0.113.7');
    // Rotating the forged hop changes nothing.
    for (let i = 0; i < 20; i++) {
      expect(clientAddress(xff(`198.51.100.${i}, 203.0.113.7`), oneProxy, '10.0.0.2')).toBe(
        '203.0.113.7',
      );
    }
  });

  it('two trusted proxies skip two hops from the right', () => {
    expect(clientAddress(xff('6.6.6.6, 203.0.113.7, 10.0.0.1'), twoProxies, '10.0.0.2')).toBe(
      '203.0.113.7',
    );
  });

  it('a request that came around the proxies (too few hops) is keyed by its socket', () => {
    expect(clientAddress(xff(), oneProxy, '203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddress(xff('6.6.6.6'), twoProxies, '203.0.113.9')).toBe('203.0.113.9');
  });

  it('garbage where an address must be falls back to the right, never to no key', () => {
    expect(clientAddress(xff('evil, not-an-ip'), oneProxy, '10.0.0.2')).toBe('10.0.0.2');
  });

  it('a list of proxy addresses: the first untrusted address from the right', () => {
    const trust: TrustProxy = { kind: 'addresses', addresses: ['10.0.0.1', '10.0.0.2'] };
    expect(clientAddress(xff('6.6.6.6, 203.0.113.7, 10.0.0.1'), trust, '10.0.0.2')).toBe(
      '203.0.113.7',
    );
    // A direct caller is not a proxy: whatever it wrote is ignored.
    expect(clientAddress(xff('10.0.0.1, 6.6.6.6'), trust, '203.0.113.9')).toBe('203.0.113.9');
    // Only trusted proxies all the way: the left-most of them.
    expect(clientAddress(xff('10.0.0.1'), trust, '10.0.0.2')).toBe('10.0.0.1');
  });

  it("on Vercel it is Vercel's x-real-ip, which its edge overwrites", () => {
    const headers = new Headers({ 'x-real-ip': '203.0.113.7', 'x-forwarded-for': '6.6.6.6' });
    expect(clientAddress(headers, { kind: 'vercel' }, undefined)).toBe('203.0.113.7');
  });

  it('keys: IPv4-mapped IPv6 is IPv4; IPv6 by its /64', () => {
    expect(canonicalAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalAddress('[2001:db8::1]')).toBe('2001:db8:0:0:0:0:0:1');
    expect(canonicalAddress('nope')).toBeUndefined();
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey(canonicalAddress('2001:db8:0:1::5')!)).toBe('2001:db8:0:1::/64');
    expect(addressKey(canonicalAddress('2001:db8:0:1:ffff::9')!)).toBe('2001:db8:0:1::/64');
    expect(addressKey(canonicalAddress('::1')!)).toBe('::1');
  });

  it("the socket stamp counts only with this process's nonce: a client-written one is ignored", () => {
    const stamp = (value: string) => new Headers({ [PEER_HEADER]: value });
    expect(peerAddress(stamp(`${peerNonce()} 127.0.0.1`))).toBe('127.0.0.1');
    expect(peerAddress(stamp('guess 127.0.0.1'))).toBeUndefined();
    expect(peerAddress(stamp(`${'x'.repeat(peerNonce().length)} 127.0.0.1`))).toBeUndefined();
    expect(peerAddress(new Headers())).toBeUndefined();
  });
});
