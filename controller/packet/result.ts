// Parsing never throws: every parser returns a typed value or a typed error naming the layer.

export type Layer = 'ethernet' | 'vlan' | 'arp' | 'ipv4' | 'tcp' | 'udp' | 'icmp';

export interface ParseError {
  readonly layer: Layer;
  readonly reason: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ParseError };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T>(layer: Layer, reason: string): ParseResult<T> {
  return { ok: false, error: { layer, reason } };
}

/** Big-endian reads that the callers guard with explicit length checks. */
export function u16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

export function u32(bytes: Uint8Array, offset: number): number {
  return ((u16(bytes, offset) << 16) | u16(bytes, offset + 2)) >>> 0;
}

export function putU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 8) & 0xff;
  bytes[offset + 1] = value & 0xff;
}

export function putU32(bytes: Uint8Array, offset: number, value: number): void {
  putU16(bytes, offset, (value >>> 16) & 0xffff);
  putU16(bytes, offset + 2, value & 0xffff);
}

/** The Internet checksum (RFC 1071) over `bytes`, optionally seeded with a partial sum. */
export function internetChecksum(bytes: Uint8Array, seed = 0): number {
  let sum = seed;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += u16(bytes, i);
  if (bytes.length % 2 === 1) sum += (bytes[bytes.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
