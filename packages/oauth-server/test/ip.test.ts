import { describe, expect, it } from 'vitest';
import { isPublicAddress, parseIPv6 } from '../src/lib/ip.js';

describe('address classification for the CIMD SSRF guard (unit)', () => {
  it('RFC 6890: special-purpose IPv4 ranges are not public', () => {
    for (const ip of [
      '0.0.0.0',
      '10.0.0.1',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '192.0.2.1',
      '198.18.0.1',
      '224.0.0.1',
      '255.255.255.255',
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '100.128.0.1'])
      expect(isPublicAddress(ip), ip).toBe(true);
  });

  it('RFC 4291 / RFC 6052: IPv6 loopback, ULA, link-local, mapped and NAT64 forms of private IPv4 are not public', () => {
    for (const ip of [
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1%eth0',
      'ff02::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::c0a8:101',
      '2001:db8::1',
      '[::1]',
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ['2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450::1'])
      expect(isPublicAddress(ip), ip).toBe(true);
  });

  it('every IPv6 form of a private IPv4 address is refused (mapped, compatible, translated, NAT64, 6to4, ISATAP; Teredo)', () => {
    for (const v4 of ['10.0.0.1', '127.0.0.1', '192.168.1.1', '169.254.169.254', '172.16.0.1']) {
      const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
      const hi = ((a << 8) | b).toString(16);
      const lo = ((c << 8) | d).toString(16);
      for (const form of [
        `::ffff:${v4}`,
        `::ffff:${hi}:${lo}`,
        `::${v4}`,
        `::ffff:0:${v4}`,
        `::ffff:0:${hi}:${lo}`,
        `0:0:0:0:ffff:0:${v4}`,
        `64:ff9b::${v4}`,
        `64:ff9b:1::${v4}`,
        `2002:${hi}:${lo}::1`,
        `2001:db9::5efe:${v4}`,
        `fe80::200:5efe:${v4}`,
        `[::ffff:0:${v4}]`,
      ]) {
        expect(isPublicAddress(form), form).toBe(false);
      }
    }
    expect(isPublicAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2'), 'Teredo').toBe(false);
    for (const ip of ['::ffff:0:8.8.8.8', '64:ff9b::8.8.8.8', '2001:4860:4860::8888']) {
      expect(isPublicAddress(ip), ip).toBe(true);
    }
  });

  it('parses IPv6 with embedded IPv4 and compression', () => {
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(parseIPv6('example.com')).toBeUndefined();
    expect(isPublicAddress('example.com')).toBeUndefined();
  });
});
