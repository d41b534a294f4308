import { isIPv6 } from 'node:net';

/**
 * The key per-address limits count under. IPv4 addresses count one by one; IPv6 addresses are
 * grouped by their first `prefixBits` bits, because one subscriber gets a whole /64 (2^64
 * addresses) and could otherwise take a fresh budget for every connection. IPv4-mapped IPv6
 * addresses (`::ffff:1.2.3.4`, as a dual-stack socket reports IPv4 peers) count as the IPv4
 * address they carry.
 *
 * @param ip The client address (from the socket, or X-Forwarded-For behind a trusted proxy).
 * @param prefixBits How many leading bits of an IPv6 address name one client (64 by default).
 * @returns E.g. `203.0.113.9` or `2001:db8:0:1::/64`.
 */
export function addressKey(ip: string, prefixBits: number): string {
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return mapped[1]!;
  const groups = expandIPv6(ip);
  if (prefixBits >= 128) return groups.map((g) => g.toString(16)).join(':');
  // Keep the leading bits, zero the rest, and write the prefix in the usual compressed form.
  const kept = groups.map((group, i) => {
    const bitsHere = Math.max(0, Math.min(16, prefixBits - i * 16));
    return bitsHere === 0 ? 0 : group & (0xffff << (16 - bitsHere)) & 0xffff;
  });
  const full = Math.ceil(prefixBits / 16);
  return `${kept
    .slice(0, full)
    .map((g) => g.toString(16))
    .join(':')}::/${prefixBits}`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` expanded and a trailing IPv4 part converted). */
function expandIPv6(ip: string): number[] {
  let text = ip.split('%')[0]!; // a zone index (fe80::1%eth0) names an interface, not a host
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}
