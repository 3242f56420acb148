// fast-check arbitraries for the parts messages are made of: OXM values (driven by the OXM
// table), matches, actions (set_field, Nicira reg moves, raw ones) and instructions.
// They generate only what the wire gives back unchanged (lower-case MACs, IPv6 in the text the
// decoder prints, experimenter data padded to 8, output max_len spelled out), so a decoded
// message can be compared to the generated one as is. The other spellings the encoder accepts
// are checked separately (codec-properties.test.ts).

import fc from 'fast-check';
import { readIpv4, readIpv6, readMac } from '../../../controller/openflow/addr.js';
import * as C from '../../../controller/openflow/constants.js';
import {
  nxRegMove, NXM_FIELDS, OXM_FIELDS, type Action, type Instruction, type Match, type NxmFieldName, type OxmField,
  type OxmName, type RawOxm,
} from '../../../controller/openflow/index.js';

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
/** Byte payloads (echo data, raw bodies): small, sometimes empty. */
export const bytes = (maxLength = 24): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
/** Bytes whose length is a multiple of 8 (what an 8-aligned TLV gives back). */
export const bytes8 = (maxWords = 3): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min: 0, max: maxWords }).chain((n) => fc.uint8Array({ minLength: 8 * n, maxLength: 8 * n }));
/** Bytes of length 4 + 8k: the body after type+len of an 8-aligned TLV of unknown type. */
export const bytes4mod8 = (maxWords = 2): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min: 0, max: maxWords }).chain((n) => fc.uint8Array({ minLength: 4 + 8 * n, maxLength: 4 + 8 * n }));
/** An integer in [0, 0xffff] outside `taken` (a type code the codec does not model). */
export const codeOutside = (taken: readonly number[], max = 0xffff): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max }).filter((n) => !taken.includes(n));

// ---- OXM values ------------------------------------------------------------------------------

/** Bits a valid value may use, where the spec gives a field fewer than its wire width. */
const VALUE_BITS: Partial<Record<OxmName, number>> = {
  vlan_vid: 13, vlan_pcp: 3, ip_dscp: 6, ip_ecn: 2, ipv6_flabel: 20, mpls_label: 20, mpls_tc: 3, mpls_bos: 1,
  pbb_isid: 24, ipv6_exthdr: 9,
};

/** Fields OpenFlow 1.3.5 allows a mask on (table 12 of the spec). */
export const MASKABLE: ReadonlySet<OxmName> = new Set<OxmName>([
  'metadata', 'eth_dst', 'eth_src', 'vlan_vid', 'ipv4_src', 'ipv4_dst', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha',
  'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'pbb_isid', 'tunnel_id', 'ipv6_exthdr',
]);

/** Bytes skewed towards 0x00 and 0xff, so that IPv6 zero runs and all-ones masks are common. */
const skewedByte = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.constant(0xff), weight: 1 }, { arbitrary: u8, weight: 3 });

function fieldBytes(f: OxmField): fc.Arbitrary<Uint8Array> {
  const any = fc.array(skewedByte, { minLength: f.width, maxLength: f.width }).map((a) => Uint8Array.from(a));
  if (f.kind !== 'ipv6') return any;
  // The forms inet_ntop prints specially: ::ffff:a.b.c.d and ::a.b.c.d.
  const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const mapped = v4.map((t) => Uint8Array.from([...new Array<number>(10).fill(0), 0xff, 0xff, ...t]));
  const compat = v4.map((t) => Uint8Array.from([...new Array<number>(12).fill(0), ...t]));
  return fc.oneof({ arbitrary: any, weight: 4 }, mapped, compat);
}

/** A mask: a prefix (as CIDR notation gives) or any bit pattern. */
function maskBytes(f: OxmField): fc.Arbitrary<Uint8Array> {
  const prefix = fc.integer({ min: 0, max: 8 * f.width }).map((n) =>
    Uint8Array.from({ length: f.width }, (_, i) => (0xff00 >> Math.min(8, Math.max(0, n - 8 * i))) & 0xff));
  return fc.oneof(prefix, fieldBytes(f));
}

/** Clears the bits above the field's valid width (VALUE_BITS), on the wire bytes. */
function limitBits(f: OxmField, b: Uint8Array): Uint8Array {
  const bits = VALUE_BITS[f.name];
  if (bits === undefined) return b;
  const out = Uint8Array.from(b);
  const keep = (1n << BigInt(bits)) - 1n;
  const v = BigInt('0x' + (Buffer.from(out).toString('hex') || '0')) & keep;
  Buffer.from(v.toString(16).padStart(2 * f.width, '0'), 'hex').copy(out);
  return out;
}

/** The model value of wire bytes, in the notation the decoder gives back. */
function valueOf(f: OxmField, b: Uint8Array): unknown {
  const buf = Buffer.from(b);
  switch (f.kind) {
    case 'uint': return buf.readUIntBE(0, f.width);
    case 'u64': return buf.readBigUInt64BE(0);
    case 'mac': return readMac(buf, 0);
    case 'ipv4': return readIpv4(buf, 0);
    // The decoder's own RFC 5952 printer picks the canonical text; the round trip still checks
    // that this text parses back to the same 16 bytes, and the oracle tests check it against OVS.
    case 'ipv6': return readIpv6(buf, 0);
  }
}

/** A valid value of one OXM field (no mask). */
export function oxmValue(f: OxmField): fc.Arbitrary<unknown> {
  return fieldBytes(f).map((b) => valueOf(f, limitBits(f, b)));
}

/** A valid [value, mask]: value bits only where the mask has them, as OVS requires. */
export function oxmMasked(f: OxmField): fc.Arbitrary<readonly [unknown, unknown]> {
  return fc.tuple(fieldBytes(f), maskBytes(f)).map(([v, m]) => {
    const mask = limitBits(f, m);
    const value = mask.map((mb, i) => mb & (v[i] as number));
    return [valueOf(f, value), valueOf(f, mask)] as const;
  });
}

function oxmEntry(f: OxmField): fc.Arbitrary<readonly [OxmName, unknown]> {
  const value = MASKABLE.has(f.name) ? fc.oneof(oxmValue(f), oxmMasked(f)) : oxmValue(f);
  return value.map((v) => [f.name, v] as const);
}

/** An OXM TLV the model keeps raw: Nicira classes, experimenter, or basic fields past the table. */
export const rawOxm: fc.Arbitrary<RawOxm> = fc.oneof(
  fc.record({ oxmClass: fc.constantFrom(C.OFPXMC_NXM_0, C.OFPXMC_NXM_1, C.OFPXMC_EXPERIMENTER), field: fc.integer({ min: 0, max: 127 }) }),
  fc.record({ oxmClass: fc.constant(C.OFPXMC_OPENFLOW_BASIC), field: fc.integer({ min: OXM_FIELDS.length, max: 127 }) }),
).chain(({ oxmClass, field }) => fc.record({
  oxmClass: fc.constant(oxmClass), field: fc.constant(field), hasMask: fc.boolean(), payload: bytes(16),
}));

/** A match of up to `maxFields` table fields in any order, sometimes followed by raw TLVs. */
export function match(maxFields = 6): fc.Arbitrary<Match> {
  const fields = fc.shuffledSubarray([...OXM_FIELDS], { maxLength: maxFields })
    .chain((fs) => fc.tuple(...fs.map(oxmEntry)));
  const unknown = fc.option(fc.array(rawOxm, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 4 });
  return fc.tuple(fields, unknown).map(([entries, raw]) => ({
    ...Object.fromEntries(entries),
    ...(raw ? { unknown: raw } : {}),
  }) as Match);
}

// ---- actions -----------------------------------------------------------------------------------

const setField: fc.Arbitrary<Action> = fc.constantFrom(...OXM_FIELDS)
  .chain((f) => oxmValue(f).map((value) => ({ type: 'SET_FIELD', field: f.name, value }) as Action));

const NXM_NAMES = Object.keys(NXM_FIELDS) as NxmFieldName[];
const nxmBits = (name: NxmFieldName): number => NXM_FIELDS[name].width * 8;

/** The arguments of a Nicira move that fits both fields. */
export const regMoveArgs = fc.record({
  src: fc.constantFrom(...NXM_NAMES), dst: fc.constantFrom(...NXM_NAMES), a: fc.nat(), b: fc.nat(), c: fc.nat(),
}).map(({ src, dst, a, b, c }) => {
  const srcOfs = a % nxmBits(src);
  const dstOfs = b % nxmBits(dst);
  const nBits = 1 + (c % Math.min(nxmBits(src) - srcOfs, nxmBits(dst) - dstOfs));
  return { src, dst, nBits, srcOfs, dstOfs };
});

const KNOWN_ACTIONS = [
  C.OFPAT_OUTPUT, C.OFPAT_COPY_TTL_OUT, C.OFPAT_COPY_TTL_IN, C.OFPAT_SET_MPLS_TTL, C.OFPAT_DEC_MPLS_TTL, C.OFPAT_PUSH_VLAN,
  C.OFPAT_POP_VLAN, C.OFPAT_PUSH_MPLS, C.OFPAT_POP_MPLS, C.OFPAT_SET_QUEUE, C.OFPAT_GROUP, C.OFPAT_SET_NW_TTL,
  C.OFPAT_DEC_NW_TTL, C.OFPAT_SET_FIELD, C.OFPAT_PUSH_PBB, C.OFPAT_POP_PBB, C.OFPAT_EXPERIMENTER,
];

/** A set_field of a Nicira register: a class the model lacks, so it stays a raw action. */
const rawSetField: fc.Arbitrary<Action> = fc.tuple(fc.integer({ min: 0, max: 15 }), u32).map(([reg, v]) => {
  const body = Buffer.alloc(12);
  body.writeUInt32BE(((C.OFPXMC_NXM_1 << 16) | (reg << 9) | 4) >>> 0, 0);
  body.writeUInt32BE(v, 4);
  return { type: 'UNKNOWN', actionType: C.OFPAT_SET_FIELD, body: new Uint8Array(body) };
});

export const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ type: fc.constant('OUTPUT' as const), port: u32, maxLen: u16 }),
  fc.constantFrom('COPY_TTL_OUT', 'COPY_TTL_IN', 'DEC_MPLS_TTL', 'POP_VLAN', 'DEC_NW_TTL', 'POP_PBB').map((type) => ({ type }) as Action),
  fc.record({ type: fc.constantFrom('SET_MPLS_TTL' as const, 'SET_NW_TTL' as const), ttl: u8 }),
  fc.record({ type: fc.constantFrom('PUSH_VLAN' as const, 'PUSH_MPLS' as const, 'POP_MPLS' as const, 'PUSH_PBB' as const), ethertype: u16 }),
  fc.record({ type: fc.constant('SET_QUEUE' as const), queueId: u32 }),
  fc.record({ type: fc.constant('GROUP' as const), groupId: u32 }),
  { arbitrary: setField, weight: 4 },
  { arbitrary: regMoveArgs.map((m) => nxRegMove(m.src, m.dst, m.nBits, m.srcOfs, m.dstOfs)), weight: 2 },
  fc.record({ type: fc.constant('EXPERIMENTER' as const), experimenter: u32, data: bytes8() }),
  fc.record({ type: fc.constant('UNKNOWN' as const), actionType: codeOutside(KNOWN_ACTIONS), body: bytes4mod8() }),
  rawSetField,
);

export const actions = (maxLength = 4): fc.Arbitrary<Action[]> => fc.array(action, { maxLength });

// ---- instructions ------------------------------------------------------------------------------

const KNOWN_INSTRUCTIONS = [
  C.OFPIT_GOTO_TABLE, C.OFPIT_WRITE_METADATA, C.OFPIT_WRITE_ACTIONS, C.OFPIT_APPLY_ACTIONS, C.OFPIT_CLEAR_ACTIONS,
  C.OFPIT_METER, C.OFPIT_EXPERIMENTER,
];

export const instruction: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ type: fc.constant('GOTO_TABLE' as const), tableId: u8 }),
  fc.record({ type: fc.constant('WRITE_METADATA' as const), metadata: u64, mask: u64 }),
  { arbitrary: fc.record({ type: fc.constantFrom('WRITE_ACTIONS' as const, 'APPLY_ACTIONS' as const), actions: actions() }), weight: 4 },
  fc.constant({ type: 'CLEAR_ACTIONS' as const }),
  fc.record({ type: fc.constant('METER' as const), meterId: u32 }),
  fc.record({ type: fc.constant('EXPERIMENTER' as const), experimenter: u32, data: bytes8() }),
  fc.record({ type: fc.constant('UNKNOWN' as const), instructionType: codeOutside(KNOWN_INSTRUCTIONS), body: bytes4mod8() }),
);

export const instructions = (maxLength = 3): fc.Arbitrary<Instruction[]> => fc.array(instruction, { maxLength });
