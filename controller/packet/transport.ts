// The transport headers the controller looks at: TCP/UDP ports, ICMP type/code.

import type { Ipv4 } from './address.js';
import { IP_PROTO_TCP, IP_PROTO_UDP, pseudoHeaderSum } from './ipv4.js';
import { fail, internetChecksum, ok, putU16, putU32, u16, u32, type ParseResult } from './result.js';

export interface TcpHeader {
  readonly protocol: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 (+ ECE, CWR). */
  readonly flags: number;
  readonly window: number;
  readonly payload: Uint8Array;
}

export interface UdpHeader {
  readonly protocol: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly length: number;
  readonly payload: Uint8Array;
}

export interface IcmpHeader {
  readonly protocol: 'icmp';
  readonly type: number;
  readonly code: number;
  /** The 4 bytes after the checksum (id/sequence for echo) and the rest. */
  readonly rest: Uint8Array;
}

export type TransportHeader = TcpHeader | UdpHeader | IcmpHeader;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

export function parseTcp(bytes: Uint8Array): ParseResult<TcpHeader> {
  if (bytes.length < 20) return fail('tcp', `${bytes.length} bytes is shorter than a TCP header`);
  const dataOffset = ((bytes[12] ?? 0) >>> 4) * 4;
  if (dataOffset < 20) return fail('tcp', `data offset ${dataOffset} below 20`);
  if (bytes.length < dataOffset) return fail('tcp', `truncated options (${bytes.length} of ${dataOffset} bytes)`);
  return ok({
    protocol: 'tcp',
    srcPort: u16(bytes, 0),
    dstPort: u16(bytes, 2),
    seq: u32(bytes, 4),
    ack: u32(bytes, 8),
    flags: (((bytes[12] ?? 0) & 0x01) << 8) | (bytes[13] ?? 0),
    window: u16(bytes, 14),
    payload: bytes.subarray(dataOffset),
  });
}

export function parseUdp(bytes: Uint8Array): ParseResult<UdpHeader> {
  if (bytes.length < 8) return fail('udp', `${bytes.length} bytes is shorter than a UDP header`);
  const length = u16(bytes, 4);
  if (length < 8) return fail('udp', `length field ${length} below 8`);
  return ok({
    protocol: 'udp',
    srcPort: u16(bytes, 0),
    dstPort: u16(bytes, 2),
    length,
    payload: bytes.subarray(8, Math.min(length, bytes.length)),
  });
}

export function parseIcmp(bytes: Uint8Array): ParseResult<IcmpHeader> {
  if (bytes.length < 8) return fail('icmp', `${bytes.length} bytes is shorter than an ICMP header`);
  return ok({ protocol: 'icmp', type: bytes[0] ?? 0, code: bytes[1] ?? 0, rest: bytes.subarray(4) });
}

export function buildUdp(args: {
  readonly src: Ipv4; readonly dst: Ipv4; readonly srcPort: number; readonly dstPort: number; readonly payload: Uint8Array;
}): Uint8Array {
  const out = new Uint8Array(8 + args.payload.length);
  putU16(out, 0, args.srcPort);
  putU16(out, 2, args.dstPort);
  putU16(out, 4, out.length);
  out.set(args.payload, 8);
  const sum = internetChecksum(out, pseudoHeaderSum(args.src, args.dst, IP_PROTO_UDP, out.length));
  putU16(out, 6, sum === 0 ? 0xffff : sum);
  return out;
}

export function buildTcp(args: {
  readonly src: Ipv4; readonly dst: Ipv4; readonly srcPort: number; readonly dstPort: number;
  readonly seq?: number; readonly ack?: number; readonly flags?: number; readonly window?: number; readonly payload?: Uint8Array;
}): Uint8Array {
  const payload = args.payload ?? new Uint8Array(0);
  const out = new Uint8Array(20 + payload.length);
  putU16(out, 0, args.srcPort);
  putU16(out, 2, args.dstPort);
  putU32(out, 4, args.seq ?? 0);
  putU32(out, 8, args.ack ?? 0);
  out[12] = 5 << 4;
  out[13] = (args.flags ?? TCP_ACK) & 0xff;
  putU16(out, 14, args.window ?? 65535);
  out.set(payload, 20);
  putU16(out, 16, internetChecksum(out, pseudoHeaderSum(args.src, args.dst, IP_PROTO_TCP, out.length)));
  return out;
}

export function buildIcmp(args: { readonly type: number; readonly code: number; readonly rest?: Uint8Array }): Uint8Array {
  const rest = args.rest ?? new Uint8Array(4);
  const out = new Uint8Array(4 + rest.length);
  out[0] = args.type;
  out[1] = args.code;
  out.set(rest, 4);
  putU16(out, 2, internetChecksum(out));
  return out;
}
