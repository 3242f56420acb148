// Ethernet and IPv4 addresses in the notation ovs-ofctl prints ('02:00:00:00:01:0a', '10.0.1.10'),
// with the conversions the parsers, builders and prefix arithmetic need.

import type { Ipv4, Mac } from '../openflow/types.js';

export type { Ipv4, Mac };

export const BROADCAST_MAC: Mac = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: Mac = '00:00:00:00:00:00';
export const ZERO_IPV4: Ipv4 = '0.0.0.0';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isMac(value: unknown): value is Mac {
  return typeof value === 'string' && MAC_RE.test(value);
}

/** Lower-case form; throws on anything that is not six colon-separated octets. */
export function normalizeMac(mac: string): Mac {
  if (!isMac(mac)) throw new TypeError(`not a MAC address: ${JSON.stringify(mac)}`);
  return mac.toLowerCase();
}

export function macToBytes(mac: Mac): Uint8Array {
  return Uint8Array.from(normalizeMac(mac).split(':'), (octet) => parseInt(octet, 16));
}

/** '00' .. 'ff': every frame's addresses become text, so without per-octet formatting or arrays. */
const HEX_OCTETS: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function macFromBytes(bytes: Uint8Array, offset = 0): Mac {
  const h = HEX_OCTETS;
  return `${h[bytes[offset] ?? 0]}:${h[bytes[offset + 1] ?? 0]}:${h[bytes[offset + 2] ?? 0]}:${h[bytes[offset + 3] ?? 0]}:${h[bytes[offset + 4] ?? 0]}:${h[bytes[offset + 5] ?? 0]}`;
}

/** Multicast and broadcast MACs have the I/G bit set; they never identify an endpoint. */
export function isMulticastMac(mac: Mac): boolean {
  return (parseInt(mac.charAt(1), 16) & 1) === 1; // the I/G bit is the low bit of the first octet's second hex digit
}

export function isIpv4(value: unknown): value is Ipv4 {
  if (typeof value !== 'string') return false;
  const m = IPV4_RE.exec(value);
  if (m === null) return false;
  return m.slice(1).every((octet) => Number(octet) <= 255 && (octet === '0' || !octet.startsWith('0')));
}

/** The address as an unsigned 32-bit integer. */
export function ipv4ToInt(ip: Ipv4): number {
  if (!isIpv4(ip)) throw new TypeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIpv4(value: number): Ipv4 {
  const v = value >>> 0;
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
}

export function ipv4ToBytes(ip: Ipv4): Uint8Array {
  const v = ipv4ToInt(ip);
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function ipv4FromBytes(bytes: Uint8Array, offset = 0): Ipv4 {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** Dotted mask of a prefix length: 24 -> '255.255.255.0'. */
export function prefixLengthToMask(length: number): Ipv4 {
  return intToIpv4(maskInt(length));
}

export function maskInt(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}
