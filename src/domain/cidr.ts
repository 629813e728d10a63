import { isIP } from 'node:net';

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parses `10.0.0.0/8, fd00::/8` (a bare address means a single host). Undefined when any part is invalid. */
export function parseCidrList(raw: string): readonly Cidr[] | undefined {
  const out: Cidr[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const [address = '', prefixText] = item.split('/');
    const version = isIP(address);
    if (version === 0) return undefined;
    const max = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) return undefined;
    out.push(Object.freeze({ address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }));
  }
  return Object.freeze(out);
}
