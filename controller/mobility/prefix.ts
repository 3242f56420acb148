// IPv4 prefixes and address ranges: the arithmetic behind subnets and locator pools.

import { intToIpv4, ipv4ToInt, isIpv4, maskInt, prefixLengthToMask, type Ipv4 } from '../packet/address.js';

export interface Prefix {
  /** The network address, e.g. '10.0.1.0'. */
  readonly network: Ipv4;
  readonly length: number;
  /** Dotted mask, e.g. '255.255.255.0' (the form an OXM masked match takes). */
  readonly mask: Ipv4;
}

/** An inclusive range of addresses, as unsigned integers. */
export interface AddressRange {
  readonly first: number;
  readonly last: number;
}

/**
 * Parses 'a.b.c.d/len'. Host bits must be zero: '10.0.1.5/24' is almost always a typo and we
 * would rather say so than guess.
 */
export function parsePrefix(text: string): Prefix | string {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (m === null) return `not a CIDR prefix: ${JSON.stringify(text)}`;
  const [, address = '', lengthText = ''] = m;
  const length = Number(lengthText);
  if (!isIpv4(address) || length > 32) return `not a CIDR prefix: ${JSON.stringify(text)}`;
  const value = ipv4ToInt(address);
  if ((value & ~maskInt(length)) >>> 0 !== 0) return `host bits set in ${text} (did you mean ${intToIpv4(value & maskInt(length))}/${length}?)`;
  return { network: address, length, mask: prefixLengthToMask(length) };
}

export function prefixRange(p: Prefix): AddressRange {
  const first = ipv4ToInt(p.network);
  return { first, last: (first + 2 ** (32 - p.length) - 1) >>> 0 };
}

export function prefixContains(p: Prefix, ip: Ipv4): boolean {
  const value = ipv4ToInt(ip);
  return ((value & maskInt(p.length)) >>> 0) === ipv4ToInt(p.network);
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function rangeContains(r: AddressRange, value: number): boolean {
  return value >= r.first && value <= r.last;
}

export function formatPrefix(p: Prefix): string {
  return `${p.network}/${p.length}`;
}

/** 'first-last' (inclusive) or a CIDR prefix. */
export function parseRange(text: string): AddressRange | string {
  const trimmed = text.trim();
  if (trimmed.includes('/')) {
    const p = parsePrefix(trimmed);
    return typeof p === 'string' ? p : prefixRange(p);
  }
  const m = /^([^-\s]+)\s*-\s*([^-\s]+)$/.exec(trimmed);
  if (m === null || !isIpv4(m[1]) || !isIpv4(m[2])) return `not an address range or CIDR prefix: ${JSON.stringify(text)}`;
  const first = ipv4ToInt(m[1]);
  const last = ipv4ToInt(m[2]);
  if (first > last) return `range ${trimmed} ends before it starts`;
  return { first, last };
}

/** The fewest CIDR blocks that cover a range exactly (a locator pool as matchable prefixes). */
export function rangeToPrefixes(r: AddressRange): Prefix[] {
  const out: Prefix[] = [];
  let start = r.first;
  while (start <= r.last) {
    let length = 32;
    // Grow the block while it stays aligned on `start` and inside the range.
    while (length > 0) {
      const size = 2 ** (32 - length + 1);
      if (start % size !== 0 || start + size - 1 > r.last) break;
      length--;
    }
    out.push({ network: intToIpv4(start), length, mask: prefixLengthToMask(length) });
    start += 2 ** (32 - length);
  }
  return out;
}
