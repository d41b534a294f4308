import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Which addresses the server's outgoing requests (webhooks) may reach. Unless the operator
 * allows it (WEBHOOK_ALLOW_PRIVATE=1; for rooms' webhooks, set by their owners,
 * ROOM_WEBHOOK_ALLOW_PRIVATE=1), never the server's own network: loopback, private,
 * link-local (cloud metadata at 169.254.169.254), shared (CGNAT), unique-local, multicast and
 * reserved ranges. A URL's host name is resolved and every address checked, at connect time,
 * and the connection goes to the address checked: a name that resolves to a public address for
 * the check and a private one for the connection (DNS rebinding) gets nowhere.
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}
// (IPv4-mapped IPv6 addresses, ::ffff:a.b.c.d, are checked against the IPv4 ranges by BlockList.)

/** Whether `address` (an IP literal) is a public internet address. Anything unparsable is not. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6')) return false;
  // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits: that one decides.
  const nat64 = /^64:ff9b::(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (nat64 !== null) {
    const high = Number.parseInt(nat64[1]!, 16);
    const low = Number.parseInt(nat64[2]!, 16);
    return isPublicAddress(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  return true;
}

/** The setting that lets the operator's webhooks (and bots') reach such addresses. */
export const WEBHOOK_PRIVATE_FLAG = 'WEBHOOK_ALLOW_PRIVATE';

/** Raised when a URL's host is, or resolves to, an address the policy refuses. */
export class RefusedAddressError extends Error {
  /**
   * @param flag The setting that would allow it, named in the message (none: the message is
   *   for a room's owner, who cannot change it).
   */
  constructor(host: string, address: string, flag: string | undefined = WEBHOOK_PRIVATE_FLAG) {
    super(
      `${host} is ${address === host ? '' : `at ${address}, `}not a public address${flag === undefined ? '' : ` (${flag}=1 allows it)`}`,
    );
    this.name = 'RefusedAddressError';
  }
}

/**
 * A `lookup` for http.request that resolves every address of the name and refuses the
 * connection when any of them is not public (one private address among public ones is enough:
 * the connection could go to any). IP literals never reach a lookup: see {@link checkLiteralHost}.
 * `flag`: as RefusedAddressError's.
 */
export function publicOnlyLookupFor(flag: string | undefined): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err !== null) return callback(err, '', 0);
      const refused = addresses.find(({ address }) => !isPublicAddress(address));
      if (refused !== undefined || addresses.length === 0)
        return callback(new RefusedAddressError(hostname, refused?.address ?? 'nowhere', flag), '', 0);
      if (options.all === true) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** The lookup of the operator's webhooks and bots' (see publicOnlyLookupFor). */
export const publicOnlyLookup: LookupFunction = publicOnlyLookupFor(WEBHOOK_PRIVATE_FLAG);

/** Throws RefusedAddressError when the URL's host is an IP literal that is not public (`flag`: as RefusedAddressError's). */
export function checkLiteralHost(url: URL, flag: string | undefined = WEBHOOK_PRIVATE_FLAG): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !isPublicAddress(host)) throw new RefusedAddressError(host, host, flag);
}

/** Names that are the machine itself whatever DNS says (RFC 6761): refused without asking. */
const LOOPBACK_NAME = /(?:^|\.)localhost\.?$/i;

/**
 * Why a URL's host cannot be reached under the policy, asked when someone sets it (a room's
 * owner): an IP literal that is not public, `localhost` and its subdomains, a name that resolves
 * to any address that is not public, or that does not resolve within `timeoutMs`. Undefined
 * when it may be used. (Connections are checked again, each time: a name may change.)
 */
export async function addressProblem(url: URL, timeoutMs: number): Promise<string | undefined> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return isPublicAddress(host) ? undefined : `${host} is not a public address`;
  if (LOOPBACK_NAME.test(host)) return `${host} is this server itself`;
  let timer: NodeJS.Timeout | undefined;
  const resolved = new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses) => (err === null ? resolve(addresses) : reject(err))),
  );
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  try {
    const addresses = await Promise.race([resolved, late]);
    if (addresses === 'late') return `${host} did not resolve within ${timeoutMs} ms`;
    const refused = addresses.find(({ address }) => !isPublicAddress(address));
    if (refused !== undefined) return `${host} is at ${refused.address}, not a public address`;
    return addresses.length === 0 ? `${host} does not resolve` : undefined;
  } catch {
    return `${host} does not resolve`;
  } finally {
    clearTimeout(timer);
    // (A lookup that answers after the deadline is ignored.)
    resolved.catch(() => {});
  }
}
