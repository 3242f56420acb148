// Nicira (Open vSwitch) extension actions, carried as OF1.3 experimenter actions.
// Only NXAST_REG_MOVE is modelled: it copies a bit range between fields, which standard OF1.3
// cannot do and which a flow-based ARP responder needs (requester MAC/IP -> target fields).
// In OF1.3 Open vSwitch encodes `move:` as NXAST_REG_MOVE naming fields by their NXM headers.

import type { Action } from './types.js';

export const NX_VENDOR_ID = 0x00002320;
export const NXAST_REG_MOVE = 6;

/** NXM field: class, field number, width in bytes (NXM_HEADER(class, field, length)). */
interface NxmField {
  readonly nxmClass: number;
  readonly field: number;
  readonly width: number;
}

const REGS = Object.fromEntries(
  Array.from({ length: 16 }, (_, i) => [`NXM_NX_REG${i}`, { nxmClass: 1, field: i, width: 4 }]),
) as Record<`NXM_NX_REG${0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15}`, NxmField>;

export const NXM_FIELDS = {
  NXM_OF_IN_PORT: { nxmClass: 0, field: 0, width: 2 },
  NXM_OF_ETH_DST: { nxmClass: 0, field: 1, width: 6 },
  NXM_OF_ETH_SRC: { nxmClass: 0, field: 2, width: 6 },
  NXM_OF_ETH_TYPE: { nxmClass: 0, field: 3, width: 2 },
  NXM_OF_VLAN_TCI: { nxmClass: 0, field: 4, width: 2 },
  NXM_OF_IP_TOS: { nxmClass: 0, field: 5, width: 1 },
  NXM_OF_IP_PROTO: { nxmClass: 0, field: 6, width: 1 },
  NXM_OF_IP_SRC: { nxmClass: 0, field: 7, width: 4 },
  NXM_OF_IP_DST: { nxmClass: 0, field: 8, width: 4 },
  NXM_OF_TCP_SRC: { nxmClass: 0, field: 9, width: 2 },
  NXM_OF_TCP_DST: { nxmClass: 0, field: 10, width: 2 },
  NXM_OF_UDP_SRC: { nxmClass: 0, field: 11, width: 2 },
  NXM_OF_UDP_DST: { nxmClass: 0, field: 12, width: 2 },
  NXM_OF_ICMP_TYPE: { nxmClass: 0, field: 13, width: 1 },
  NXM_OF_ICMP_CODE: { nxmClass: 0, field: 14, width: 1 },
  NXM_OF_ARP_OP: { nxmClass: 0, field: 15, width: 2 },
  NXM_OF_ARP_SPA: { nxmClass: 0, field: 16, width: 4 },
  NXM_OF_ARP_TPA: { nxmClass: 0, field: 17, width: 4 },
  ...REGS,
  NXM_NX_TUN_ID: { nxmClass: 1, field: 16, width: 8 },
  NXM_NX_ARP_SHA: { nxmClass: 1, field: 17, width: 6 },
  NXM_NX_ARP_THA: { nxmClass: 1, field: 18, width: 6 },
} as const satisfies Record<string, NxmField>;

export type NxmFieldName = keyof typeof NXM_FIELDS;

function nxmHeader(f: NxmField): number {
  return ((f.nxmClass << 16) | (f.field << 9) | f.width) >>> 0;
}

/** NXM header (without the hasmask bit) -> name, for printing. */
const NAME_BY_HEADER = new Map<number, NxmFieldName>(
  (Object.entries(NXM_FIELDS) as [NxmFieldName, NxmField][]).map(([name, f]) => [nxmHeader(f), name]),
);

function bits(name: NxmFieldName): number {
  return NXM_FIELDS[name].width * 8;
}

/**
 * move:src[srcOfs..srcOfs+nBits-1]->dst[dstOfs..]: NXAST_REG_MOVE as OVS encodes it in OF1.3
 * (24 bytes: experimenter header, subtype, n_bits, src_ofs, dst_ofs, src and dst NXM headers).
 * By default the whole source field is moved.
 */
export function nxRegMove(src: NxmFieldName, dst: NxmFieldName, nBits?: number, srcOfs = 0, dstOfs = 0): Action {
  const n = nBits ?? bits(src) - srcOfs;
  if (n < 1 || srcOfs + n > bits(src) || dstOfs + n > bits(dst)) {
    throw new RangeError(`move of ${n} bits from ${src}[${srcOfs}] to ${dst}[${dstOfs}] does not fit`);
  }
  const data = Buffer.alloc(16);
  data.writeUInt16BE(NXAST_REG_MOVE, 0);
  data.writeUInt16BE(n, 2);
  data.writeUInt16BE(srcOfs, 4);
  data.writeUInt16BE(dstOfs, 6);
  data.writeUInt32BE(nxmHeader(NXM_FIELDS[src]), 8);
  data.writeUInt32BE(nxmHeader(NXM_FIELDS[dst]), 12);
  return { type: 'EXPERIMENTER', experimenter: NX_VENDOR_ID, data };
}

export interface NxRegMove {
  readonly src: NxmFieldName;
  readonly dst: NxmFieldName;
  readonly nBits: number;
  readonly srcOfs: number;
  readonly dstOfs: number;
}

/** Reads an NXAST_REG_MOVE back; undefined for any other action or unknown NXM fields. */
export function parseNxRegMove(action: Action): NxRegMove | undefined {
  if (action.type !== 'EXPERIMENTER' || action.experimenter !== NX_VENDOR_ID || action.data.length < 16) return undefined;
  const d = Buffer.from(action.data.buffer, action.data.byteOffset, action.data.byteLength);
  if (d.readUInt16BE(0) !== NXAST_REG_MOVE) return undefined;
  const src = NAME_BY_HEADER.get(d.readUInt32BE(8) & ~0x100);
  const dst = NAME_BY_HEADER.get(d.readUInt32BE(12) & ~0x100);
  if (!src || !dst) return undefined;
  return { src, dst, nBits: d.readUInt16BE(2), srcOfs: d.readUInt16BE(4), dstOfs: d.readUInt16BE(6) };
}

/** OVS's subfield notation: NAME[] for the whole field, NAME[i] for one bit, NAME[a..b]. */
function subfield(name: NxmFieldName, ofs: number, n: number): string {
  if (ofs === 0 && n === bits(name)) return `${name}[]`;
  if (n === 1) return `${name}[${ofs}]`;
  return `${name}[${ofs}..${ofs + n - 1}]`;
}

/** Prints a Nicira action as ovs-ofctl does ("move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]"). */
export function describeNxAction(action: Action): string | undefined {
  const move = parseNxRegMove(action);
  if (move) return `move:${subfield(move.src, move.srcOfs, move.nBits)}->${subfield(move.dst, move.dstOfs, move.nBits)}`;
  if (action.type === 'EXPERIMENTER' && action.experimenter === NX_VENDOR_ID && action.data.length >= 2) {
    return `nx_subtype_${(action.data[0] as number) * 256 + (action.data[1] as number)}`;
  }
  return undefined;
}
