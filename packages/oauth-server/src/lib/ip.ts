/*
 * Address classification for the SSRF guard of Client ID Metadata Document fetching
 * (draft-ietf-oauth-client-id-metadata-document §6.5): a client_id URL must not make the
 * server reach loopback, private, link-local or otherwise non-public addresses.
 */

export function parseIPv4(value: string): number[] | undefined {
  const parts = value.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

export function parseIPv6(value: string): number[] | undefined {
  let input = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  const zone = input.indexOf('%');
  if (zone !== -1) input = input.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(input)) return undefined;
  if (input.includes('.')) {
    // Trailing dotted IPv4 (::ffff:10.0.0.1): rewrite it as two hex groups.
    const lastColon = input.lastIndexOf(':');
    const v4 = parseIPv4(input.slice(lastColon + 1));
    if (!v4) return undefined;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    input = `${input.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = input.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(Number.parseInt(g, 16));
    }
    return groups;
  };
  const head = toGroups(halves[0]!);
  const rest = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length;
  if (halves.length === 1 && explicit !== 8) return undefined;
  if (halves.length === 2 && explicit > 7) return undefined;
  const zeros = new Array<number>(8 - explicit).fill(0);
  return [...head, ...(halves.length === 2 ? zeros : []), ...rest];
}

function ipv4IsPublic([a, b, c]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127) return false;
  if (a === 100 && b! >= 64 && b! <= 127) return false; // CGNAT
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b! >= 16 && b! <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false;
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false;
  if (a === 203 && b === 0 && c === 113) return false;
  if (a! >= 224) return false; // multicast, reserved, broadcast
  return true;
}

function ipv6IsPublic(g: number[]): boolean {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const embeddedV4 = [g6 >> 8, g6 & 255, g7 >> 8, g7 & 255];
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    // ::, ::1, ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) all lead to IPv4 or nowhere.
    if (g5 === 0xffff || g5 === 0)
      return g5 === 0xffff || g6 !== 0 ? ipv4IsPublic(embeddedV4) : false;
    return false;
  }
  // ::ffff:0:a.b.c.d (RFC 2765 IPv4-translated) leads to IPv4 too.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) {
    return ipv4IsPublic(embeddedV4);
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return ipv4IsPublic(embeddedV4); // NAT64 well-known prefix (RFC 6052)
  }
  if (g0 === 0x64 && g1 === 0xff9b) return false; // NAT64 local-use 64:ff9b:1::/48 (RFC 8215), rest
  if (g0 === 0x2001 && g1 === 0) return false; // Teredo (RFC 4380): an IPv4 tunnel, obfuscated
  // ISATAP (RFC 5214): an interface identifier ::0:5efe:a.b.c.d or ::200:5efe:a.b.c.d.
  if ((g4 === 0 || g4 === 0x200) && g5 === 0x5efe && !ipv4IsPublic(embeddedV4)) return false;
  if ((g0 & 0xfe00) === 0xfc00) return false; // unique local
  if ((g0 & 0xffc0) === 0xfe80) return false; // link-local
  if ((g0 & 0xffc0) === 0xfec0) return false; // site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return false; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return false; // discard
  if (g0 === 0x2002) return ipv4IsPublic([g1 >> 8, g1 & 255, g2 >> 8, g2 & 255]); // 6to4
  return true;
}

/** Whether `value` is an IP literal (v4, or v6 with or without brackets). */
export function isIpLiteral(value: string): boolean {
  return parseIPv4(value) !== undefined || parseIPv6(value) !== undefined;
}

/**
 * Whether an IP address is globally routable: `false` for loopback, private (RFC 1918,
 * RFC 4193), link-local, CGNAT, multicast, documentation and reserved ranges, including
 * IPv4 addresses reached through IPv6 mapping or NAT64. `undefined` when not an IP address.
 */
export function isPublicAddress(value: string): boolean | undefined {
  const v4 = parseIPv4(value);
  if (v4) return ipv4IsPublic(v4);
  const v6 = parseIPv6(value);
  if (v6) return ipv6IsPublic(v6);
  return undefined;
}
