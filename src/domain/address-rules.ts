import { BlockList, isIP, isIPv4 } from 'node:net';
import type { Cidr } from './cidr.ts';

/**
 * Which addresses an endpoint may reach (SSRF protection), as pure rules: internal and reserved ranges
 * are blocked unless HOOKYARD_ALLOWED_SUBNETS lets them through. The URL check (endpoint-url.ts)
 * judges literal addresses with these when an endpoint is stored; delivery/address-guard.ts judges
 * every address a connection actually reaches.
 */

export type BlockedCategory =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'documentation'
  | 'unique-local';

const RANGES: readonly [category: BlockedCategory, cidr: string][] = [
  ['unspecified', '0.0.0.0/8'],
  ['private', '10.0.0.0/8'],
  ['shared (CGNAT)', '100.64.0.0/10'],
  ['loopback', '127.0.0.0/8'],
  ['link-local', '169.254.0.0/16'],
  ['private', '172.16.0.0/12'],
  ['reserved', '192.0.0.0/24'],
  ['documentation', '192.0.2.0/24'],
  ['reserved', '192.88.99.0/24'],
  ['private', '192.168.0.0/16'],
  ['reserved', '198.18.0.0/15'],
  ['documentation', '198.51.100.0/24'],
  ['documentation', '203.0.113.0/24'],
  ['multicast', '224.0.0.0/4'],
  ['reserved', '240.0.0.0/4'],
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['reserved', '100::/64'],
  ['reserved', '64:ff9b:1::/48'],
  ['documentation', '2001:db8::/32'],
  ['unique-local', 'fc00::/7'],
  ['link-local', 'fe80::/10'],
  ['reserved', 'fec0::/10'],
  ['multicast', 'ff00::/8'],
];

const blocked = RANGES.map(([category, cidr]) => {
  const [address = '', prefix = ''] = cidr.split('/');
  const list = new BlockList();
  list.addSubnet(address, Number(prefix), isIPv4(address) ? 'ipv4' : 'ipv6');
  return { category, list };
});

export type AddressVerdict =
  | { blocked: false }
  | { blocked: true; category: BlockedCategory; reason: string };

export interface AddressGuard {
  check(address: string): AddressVerdict;
}

export function createAddressGuard(allowedSubnets: readonly Cidr[]): AddressGuard {
  const allowed = new BlockList();
  for (const cidr of allowedSubnets) allowed.addSubnet(cidr.address, cidr.prefix, cidr.family);

  function isAllowed(address: string, family: 'ipv4' | 'ipv6'): boolean {
    return allowedSubnets.length > 0 && allowed.check(address, family);
  }

  function check(input: string): AddressVerdict {
    const address = stripZone(input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input);
    const version = isIP(address);
    if (version === 0) return verdict(input, 'reserved', 'is not an IP address');
    if (version === 4) {
      if (isAllowed(address, 'ipv4')) return { blocked: false };
      return categorise(address, 'ipv4', input);
    }
    if (isAllowed(address, 'ipv6')) return { blocked: false };
    // IPv4 reached through an IPv6 spelling (mapped, compatible, NAT64, 6to4) is judged as that IPv4.
    const embedded = embeddedIPv4(address);
    if (embedded !== undefined) {
      if (isAllowed(embedded, 'ipv4')) return { blocked: false };
      const inner = categorise(embedded, 'ipv4', input);
      if (inner.blocked) return inner;
    }
    return categorise(address, 'ipv6', input);
  }

  return { check };
}

function categorise(address: string, family: 'ipv4' | 'ipv6', shown: string): AddressVerdict {
  for (const range of blocked) {
    if (range.list.check(address, family)) return verdict(shown, range.category);
  }
  return { blocked: false };
}

function verdict(address: string, category: BlockedCategory, what = `is ${category}`): AddressVerdict {
  return {
    blocked: true,
    category,
    reason: `address ${address} ${what}; blocked by the address guard (HOOKYARD_ALLOWED_SUBNETS opens exceptions)`,
  };
}

function stripZone(address: string): string {
  const percent = address.indexOf('%');
  return percent < 0 ? address : address.slice(0, percent);
}

/**
 * The IPv4 address carried inside an IPv6 one: ::ffff:a.b.c.d (mapped), ::a.b.c.d (deprecated
 * compatible form), 64:ff9b::/96 (NAT64) and 2002::/16 (6to4).
 */
export function embeddedIPv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  if (!bytes) return undefined;
  const zeros = (from: number, to: number) => bytes.subarray(from, to).every((byte) => byte === 0);
  const v4 = (offset: number) => Array.from(bytes.subarray(offset, offset + 4)).join('.');
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  // ::a.b.c.d but not :: and ::1, which are their own categories.
  if (zeros(0, 12) && !zeros(12, 15)) return v4(12);
  if (bytes.readUInt32BE(0) === 0x0064ff9b && zeros(4, 12)) return v4(12);
  if (bytes.readUInt16BE(0) === 0x2002) return v4(2);
  return undefined;
}

function ipv6Bytes(address: string): Buffer | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    for (const part of last.split('.')) tail.push(Number(part));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array(rest === undefined ? 0 : missing).fill('0'), ...restGroups];
  if (groups.length !== 8) return undefined;
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  if (tail.length === 4) Buffer.from(tail).copy(bytes, 12);
  return bytes;
}
