// IPv4 headers (RFC 791): the fields the controller reads, checksum verification, a builder.

import { ipv4FromBytes, ipv4ToBytes, type Ipv4 } from './address.js';
import { fail, internetChecksum, ok, putU16, u16, type ParseResult } from './result.js';

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

const MIN_HEADER_LEN = 20;

export interface Ipv4Header {
  readonly ihl: number;
  readonly dscp: number;
  readonly ecn: number;
  readonly totalLength: number;
  readonly identification: number;
  /** The 3 flag bits (bit 1 = DF, bit 0 = MF). */
  readonly flags: number;
  /** In 8-byte units. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly checksumValid: boolean;
  readonly src: Ipv4;
  readonly dst: Ipv4;
  /** The bytes after the header, up to totalLength (Ethernet padding removed). */
  readonly payload: Uint8Array;
  /** The capture ended before totalLength (a packet-in cut at max_len). */
  readonly truncated: boolean;
}

export function parseIpv4(bytes: Uint8Array): ParseResult<Ipv4Header> {
  if (bytes.length < MIN_HEADER_LEN) return fail('ipv4', `${bytes.length} bytes is shorter than an IPv4 header`);
  const version = (bytes[0] ?? 0) >>> 4;
  if (version !== 4) return fail('ipv4', `version ${version}`);
  const ihl = (bytes[0] ?? 0) & 0x0f;
  const headerLen = ihl * 4;
  if (ihl < 5) return fail('ipv4', `header length ${headerLen} below 20`);
  if (bytes.length < headerLen) return fail('ipv4', `truncated options (${bytes.length} of ${headerLen} header bytes)`);
  const totalLength = u16(bytes, 2);
  if (totalLength < headerLen) return fail('ipv4', `total length ${totalLength} below header length ${headerLen}`);
  const header = bytes.subarray(0, headerLen);
  const flagsFrag = u16(bytes, 6);
  return ok({
    ihl,
    dscp: (bytes[1] ?? 0) >>> 2,
    ecn: (bytes[1] ?? 0) & 0x3,
    totalLength,
    identification: u16(bytes, 4),
    flags: flagsFrag >>> 13,
    fragmentOffset: flagsFrag & 0x1fff,
    ttl: bytes[8] ?? 0,
    protocol: bytes[9] ?? 0,
    checksum: u16(bytes, 10),
    checksumValid: internetChecksum(header) === 0,
    src: ipv4FromBytes(bytes, 12),
    dst: ipv4FromBytes(bytes, 16),
    payload: bytes.subarray(headerLen, Math.min(totalLength, bytes.length)),
    truncated: bytes.length < totalLength,
  });
}

export interface Ipv4Spec {
  readonly src: Ipv4;
  readonly dst: Ipv4;
  readonly protocol: number;
  readonly payload: Uint8Array;
  readonly ttl?: number;
  readonly identification?: number;
  readonly dscp?: number;
  readonly ecn?: number;
  /** Default: DF set, as Linux sends TCP. */
  readonly flags?: number;
}

/** A 20-byte header (no options) with a correct checksum, followed by the payload. */
export function buildIpv4(spec: Ipv4Spec): Uint8Array {
  const out = new Uint8Array(MIN_HEADER_LEN + spec.payload.length);
  out[0] = 0x45;
  out[1] = ((spec.dscp ?? 0) << 2) | (spec.ecn ?? 0);
  putU16(out, 2, out.length);
  putU16(out, 4, spec.identification ?? 0);
  putU16(out, 6, (spec.flags ?? 0b010) << 13);
  out[8] = spec.ttl ?? 64;
  out[9] = spec.protocol;
  out.set(ipv4ToBytes(spec.src), 12);
  out.set(ipv4ToBytes(spec.dst), 16);
  putU16(out, 10, internetChecksum(out.subarray(0, MIN_HEADER_LEN)));
  out.set(spec.payload, MIN_HEADER_LEN);
  return out;
}

/** The pseudo-header partial sum TCP and UDP checksums start from. */
export function pseudoHeaderSum(src: Ipv4, dst: Ipv4, protocol: number, length: number): number {
  const s = ipv4ToBytes(src);
  const d = ipv4ToBytes(dst);
  return u16(s, 0) + u16(s, 2) + u16(d, 0) + u16(d, 2) + protocol + length;
}
