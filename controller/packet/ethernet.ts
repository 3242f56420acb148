// Ethernet II frames, with 802.1Q / 802.1ad tags skipped (their ids kept for the caller).

import { macFromBytes, macToBytes, type Mac } from './address.js';
import { fail, ok, putU16, u16, type ParseResult } from './result.js';

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_QINQ = 0x88a8;

const ETH_HEADER_LEN = 14;
const VLAN_TAG_LEN = 4;
/** Frames shorter than this (without FCS) are padded on the wire. */
export const ETH_MIN_FRAME_LEN = 60;
/** Deeper stacks than QinQ are not something an edge switch hands us; refuse them. */
const MAX_TAGS = 2;

export interface VlanTag {
  readonly tpid: number;
  readonly pcp: number;
  readonly vid: number;
}

export interface EthernetFrame {
  readonly dst: Mac;
  readonly src: Mac;
  /** Outermost first. */
  readonly vlans: readonly VlanTag[];
  /** The ethertype after any tags. */
  readonly ethertype: number;
  readonly payload: Uint8Array;
}

export function parseEthernet(bytes: Uint8Array): ParseResult<EthernetFrame> {
  if (bytes.length < ETH_HEADER_LEN) return fail('ethernet', `frame of ${bytes.length} bytes is shorter than an Ethernet header`);
  const vlans: VlanTag[] = [];
  let offset = 12;
  let ethertype = u16(bytes, offset);
  while (ethertype === ETH_TYPE_VLAN || ethertype === ETH_TYPE_QINQ) {
    if (vlans.length === MAX_TAGS) return fail('vlan', `more than ${MAX_TAGS} VLAN tags`);
    if (bytes.length < offset + 2 + VLAN_TAG_LEN) return fail('vlan', 'truncated VLAN tag');
    const tci = u16(bytes, offset + 2);
    vlans.push({ tpid: ethertype, pcp: tci >>> 13, vid: tci & 0x0fff });
    offset += VLAN_TAG_LEN;
    ethertype = u16(bytes, offset);
  }
  if (ethertype < 0x0600) return fail('ethernet', `802.3 length field ${ethertype} instead of an ethertype`);
  return ok({
    dst: macFromBytes(bytes, 0),
    src: macFromBytes(bytes, 6),
    vlans,
    ethertype,
    payload: bytes.subarray(offset + 2),
  });
}

export interface EthernetSpec {
  readonly dst: Mac;
  readonly src: Mac;
  readonly ethertype: number;
  readonly vlans?: readonly VlanTag[];
  readonly payload: Uint8Array;
}

/** Builds a frame, padded to the Ethernet minimum (60 bytes without FCS). */
export function buildEthernet(spec: EthernetSpec): Uint8Array {
  const vlans = spec.vlans ?? [];
  const headerLen = ETH_HEADER_LEN + VLAN_TAG_LEN * vlans.length;
  const out = new Uint8Array(Math.max(ETH_MIN_FRAME_LEN, headerLen + spec.payload.length));
  out.set(macToBytes(spec.dst), 0);
  out.set(macToBytes(spec.src), 6);
  let offset = 12;
  for (const tag of vlans) {
    putU16(out, offset, tag.tpid);
    putU16(out, offset + 2, ((tag.pcp & 0x7) << 13) | (tag.vid & 0x0fff));
    offset += VLAN_TAG_LEN;
  }
  putU16(out, offset, spec.ethertype);
  out.set(spec.payload, offset + 2);
  return out;
}
