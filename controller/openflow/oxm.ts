// OXM match fields: one table drives encoding, decoding and masks of ofp_match and of the OXM
// TLV inside OFPAT_SET_FIELD. TLVs of other classes (or unknown OFB fields) stay RawOxm.

import { readIpv4, readIpv6, readMac } from './addr.js';
import { OFPMT_OXM, OFPXMC_OPENFLOW_BASIC } from './constants.js';
import { OFPBMC_BAD_LEN, OFPBMC_BAD_TYPE, OFPBMC_DUP_FIELD, OFPET_BAD_MATCH } from './error-codes.js';
import { fail } from './reader.js';
import type { Match, OxmName, RawOxm } from './types.js';
import type { Writer } from './writer.js';

export type OxmKind = 'uint' | 'mac' | 'ipv4' | 'ipv6' | 'u64';
export interface OxmField {
  readonly name: OxmName;
  readonly oxmClass: number;
  readonly field: number;
  /** Value width in bytes (the mask, when present, has the same width). */
  readonly width: number;
  readonly kind: OxmKind;
}

const B = OFPXMC_OPENFLOW_BASIC;
/** Every OFPXMT_OFB_* field, in field-number order (index === field). */
export const OXM_FIELDS: readonly OxmField[] = [
  { name: 'in_port', oxmClass: B, field: 0, width: 4, kind: 'uint' },
  { name: 'in_phy_port', oxmClass: B, field: 1, width: 4, kind: 'uint' },
  { name: 'metadata', oxmClass: B, field: 2, width: 8, kind: 'u64' },
  { name: 'eth_dst', oxmClass: B, field: 3, width: 6, kind: 'mac' },
  { name: 'eth_src', oxmClass: B, field: 4, width: 6, kind: 'mac' },
  { name: 'eth_type', oxmClass: B, field: 5, width: 2, kind: 'uint' },
  // 13 bits on the wire including OFPVID_PRESENT (0x1000); kept numeric as on the wire.
  { name: 'vlan_vid', oxmClass: B, field: 6, width: 2, kind: 'uint' },
  { name: 'vlan_pcp', oxmClass: B, field: 7, width: 1, kind: 'uint' },
  { name: 'ip_dscp', oxmClass: B, field: 8, width: 1, kind: 'uint' },
  { name: 'ip_ecn', oxmClass: B, field: 9, width: 1, kind: 'uint' },
  { name: 'ip_proto', oxmClass: B, field: 10, width: 1, kind: 'uint' },
  { name: 'ipv4_src', oxmClass: B, field: 11, width: 4, kind: 'ipv4' },
  { name: 'ipv4_dst', oxmClass: B, field: 12, width: 4, kind: 'ipv4' },
  { name: 'tcp_src', oxmClass: B, field: 13, width: 2, kind: 'uint' },
  { name: 'tcp_dst', oxmClass: B, field: 14, width: 2, kind: 'uint' },
  { name: 'udp_src', oxmClass: B, field: 15, width: 2, kind: 'uint' },
  { name: 'udp_dst', oxmClass: B, field: 16, width: 2, kind: 'uint' },
  { name: 'sctp_src', oxmClass: B, field: 17, width: 2, kind: 'uint' },
  { name: 'sctp_dst', oxmClass: B, field: 18, width: 2, kind: 'uint' },
  { name: 'icmpv4_type', oxmClass: B, field: 19, width: 1, kind: 'uint' },
  { name: 'icmpv4_code', oxmClass: B, field: 20, width: 1, kind: 'uint' },
  { name: 'arp_op', oxmClass: B, field: 21, width: 2, kind: 'uint' },
  { name: 'arp_spa', oxmClass: B, field: 22, width: 4, kind: 'ipv4' },
  { name: 'arp_tpa', oxmClass: B, field: 23, width: 4, kind: 'ipv4' },
  { name: 'arp_sha', oxmClass: B, field: 24, width: 6, kind: 'mac' },
  { name: 'arp_tha', oxmClass: B, field: 25, width: 6, kind: 'mac' },
  { name: 'ipv6_src', oxmClass: B, field: 26, width: 16, kind: 'ipv6' },
  { name: 'ipv6_dst', oxmClass: B, field: 27, width: 16, kind: 'ipv6' },
  { name: 'ipv6_flabel', oxmClass: B, field: 28, width: 4, kind: 'uint' },
  { name: 'icmpv6_type', oxmClass: B, field: 29, width: 1, kind: 'uint' },
  { name: 'icmpv6_code', oxmClass: B, field: 30, width: 1, kind: 'uint' },
  { name: 'ipv6_nd_target', oxmClass: B, field: 31, width: 16, kind: 'ipv6' },
  { name: 'ipv6_nd_sll', oxmClass: B, field: 32, width: 6, kind: 'mac' },
  { name: 'ipv6_nd_tll', oxmClass: B, field: 33, width: 6, kind: 'mac' },
  { name: 'mpls_label', oxmClass: B, field: 34, width: 4, kind: 'uint' },
  { name: 'mpls_tc', oxmClass: B, field: 35, width: 1, kind: 'uint' },
  { name: 'mpls_bos', oxmClass: B, field: 36, width: 1, kind: 'uint' },
  { name: 'pbb_isid', oxmClass: B, field: 37, width: 3, kind: 'uint' },
  { name: 'tunnel_id', oxmClass: B, field: 38, width: 8, kind: 'u64' },
  { name: 'ipv6_exthdr', oxmClass: B, field: 39, width: 2, kind: 'uint' },
];

export const OXM_BY_NAME: ReadonlyMap<string, OxmField> = new Map(OXM_FIELDS.map((f) => [f.name, f]));

/** The OXM header word: class(16) | field(7) | hasmask(1) | length(8). */
export function oxmHeader(f: OxmField, hasMask: boolean): number {
  return ((f.oxmClass << 16) | (f.field << 9) | (hasMask ? 0x100 : 0) | (hasMask ? 2 * f.width : f.width)) >>> 0;
}

/** The basic-class field a TLV header names, when the codec models it. */
export function knownOxm(oxmClass: number, field: number): OxmField | undefined {
  return oxmClass === OFPXMC_OPENFLOW_BASIC ? OXM_FIELDS[field] : undefined;
}

export function readOxmValue(buf: Buffer, off: number, f: OxmField): unknown {
  switch (f.kind) {
    case 'uint':
      switch (f.width) {
        case 1: return buf[off];
        case 2: return buf.readUInt16BE(off);
        case 4: return buf.readUInt32BE(off);
        default: return buf.readUIntBE(off, f.width);
      }
    case 'mac': return readMac(buf, off);
    case 'ipv4': return readIpv4(buf, off);
    case 'ipv6': return readIpv6(buf, off);
    case 'u64': return buf.readBigUInt64BE(off);
  }
}

export function writeOxmValue(w: Writer, f: OxmField, v: unknown): void {
  switch (f.kind) {
    case 'uint':
      if (typeof v !== 'number') throw new TypeError(`${f.name}: expected a number, got ${String(v)}`);
      switch (f.width) {
        case 1: return w.u8(v);
        case 2: return w.u16(v);
        case 3: return w.u24(v);
        default: return w.u32(v);
      }
    case 'mac': return w.mac(v as string);
    case 'ipv4': return w.ipv4(v as string);
    case 'ipv6': return w.ipv6(v as string);
    case 'u64':
      if (typeof v !== 'bigint') throw new TypeError(`${f.name}: expected a bigint, got ${String(v)}`);
      return w.u64(v);
  }
}

/** One OXM TLV: a value, or [value, mask] with the hasmask bit. */
export function writeOxm(w: Writer, f: OxmField, v: unknown): void {
  if (Array.isArray(v)) {
    w.u32(oxmHeader(f, true));
    writeOxmValue(w, f, v[0]);
    writeOxmValue(w, f, v[1]);
  } else {
    w.u32(oxmHeader(f, false));
    writeOxmValue(w, f, v);
  }
}

export function writeRawOxm(w: Writer, raw: RawOxm): void {
  w.u32(((raw.oxmClass << 16) | (raw.field << 9) | (raw.hasMask ? 0x100 : 0) | raw.payload.length) >>> 0);
  w.bytes(raw.payload);
}

/** Writes ofp_match (OFPMT_OXM): TLVs in the object's key order, unknown TLVs last, padded to 8. */
export function encodeMatch(w: Writer, match: Match): void {
  const start = w.pos;
  w.u16(OFPMT_OXM);
  w.u16(0);
  for (const name in match) {
    if (name === 'unknown') continue;
    const v = (match as Record<string, unknown>)[name];
    if (v === undefined) continue;
    const f = OXM_BY_NAME.get(name);
    if (!f) throw new TypeError(`unknown match field: ${name}`);
    writeOxm(w, f, v);
  }
  if (match.unknown) for (const raw of match.unknown) writeRawOxm(w, raw);
  w.backfill16(start + 2, w.pos - start);
  w.pad8(start);
}

/** Length on the wire (with padding) of the ofp_match at `off`; checks it fits before `end`. */
export function matchWireLength(buf: Buffer, off: number, end: number): number {
  if (off + 4 > end) fail('ofp_match header truncated', OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
  const len = buf.readUInt16BE(off + 2);
  const padded = (len + 7) & ~7;
  if (len < 4 || off + padded > end) fail(`ofp_match length ${len} does not fit`, OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
  return padded;
}

/** Decodes the ofp_match at `off` (its length already checked by matchWireLength). */
export function decodeMatch(buf: Buffer, off: number): Match {
  const type = buf.readUInt16BE(off);
  if (type !== OFPMT_OXM) fail(`ofp_match type ${type} is not OFPMT_OXM`, OFPET_BAD_MATCH, OFPBMC_BAD_TYPE);
  const end = off + buf.readUInt16BE(off + 2);
  const match: Record<string, unknown> = {};
  let unknown: RawOxm[] | undefined;
  for (let p = off + 4; p < end; ) {
    if (p + 4 > end) fail('OXM header truncated', OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
    const header = buf.readUInt32BE(p);
    const oxmClass = header >>> 16;
    const field = (header >>> 9) & 0x7f;
    const hasMask = (header & 0x100) !== 0;
    const len = header & 0xff;
    const body = p + 4;
    if (body + len > end) fail(`OXM ${oxmClass}:${field} length ${len} overruns the match`, OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
    const f = knownOxm(oxmClass, field);
    if (f) {
      if (len !== (hasMask ? 2 * f.width : f.width)) fail(`OXM ${f.name} has length ${len}`, OFPET_BAD_MATCH, OFPBMC_BAD_LEN);
      if (f.name in match) fail(`OXM ${f.name} appears twice`, OFPET_BAD_MATCH, OFPBMC_DUP_FIELD);
      match[f.name] = hasMask
        ? [readOxmValue(buf, body, f), readOxmValue(buf, body + f.width, f)]
        : readOxmValue(buf, body, f);
    } else {
      (unknown ??= []).push({ oxmClass, field, hasMask, payload: buf.subarray(body, body + len) });
    }
    p = body + len;
  }
  if (unknown) match.unknown = unknown;
  return match as Match;
}
