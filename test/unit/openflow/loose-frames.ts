// Frames a buggy or hostile peer could send: well formed on the outside (header, the lengths of
// the enclosing lists), but with elements that carry known type codes and bodies of any length
// (an OUTPUT of 24 bytes, a GOTO_TABLE of 16, an OXM eth_type of 3 bytes, a table-stats array one
// byte short). They are built through the model's raw escape hatches (UNKNOWN actions and
// instructions, raw OXMs, unknown hello elements and multipart bodies), which the encoder writes
// verbatim whatever their type code. Random byte mutations rarely hit a nested length exactly;
// these hit one in nearly every frame.

import fc from 'fast-check';
import * as C from '../../../controller/openflow/constants.js';
import {
  encodeMessage, flowMod, OXM_FIELDS, type Action, type Instruction, type Match, type OfpMessage, type RawOxm,
} from '../../../controller/openflow/index.js';
import { action, instruction, match, u16, u32, u8 } from './arbitraries.js';

/** Bodies after type+len: mostly keeping the element 8-aligned (4 + 8k bytes), sometimes any length. */
const looseBody = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 3 }).chain((k) => fc.uint8Array({ minLength: 4 + 8 * k, maxLength: 4 + 8 * k })), weight: 3 },
  fc.uint8Array({ maxLength: 28 }),
);

const ACTION_CODES = [
  C.OFPAT_OUTPUT, C.OFPAT_COPY_TTL_OUT, C.OFPAT_SET_MPLS_TTL, C.OFPAT_PUSH_VLAN, C.OFPAT_POP_VLAN, C.OFPAT_POP_MPLS,
  C.OFPAT_SET_QUEUE, C.OFPAT_GROUP, C.OFPAT_SET_NW_TTL, C.OFPAT_SET_FIELD, C.OFPAT_PUSH_PBB, C.OFPAT_EXPERIMENTER,
];
const INSTRUCTION_CODES = [
  C.OFPIT_GOTO_TABLE, C.OFPIT_WRITE_METADATA, C.OFPIT_WRITE_ACTIONS, C.OFPIT_APPLY_ACTIONS, C.OFPIT_CLEAR_ACTIONS,
  C.OFPIT_METER, C.OFPIT_EXPERIMENTER,
];

/** A basic-class OXM header for a known field with any length, then any payload. */
const looseOxmTlv = fc.record({
  field: fc.integer({ min: 0, max: OXM_FIELDS.length - 1 }), hasMask: fc.boolean(), len: fc.integer({ min: 0, max: 34 }),
  payload: fc.uint8Array({ maxLength: 34 }),
});

/** A set_field whose OXM names a known field but may lie about its length or carry a mask. */
const looseSetField: fc.Arbitrary<Action> = fc.tuple(looseOxmTlv, fc.integer({ min: 0, max: 2 })).map(([o, words]) => {
  const body = Buffer.alloc(4 + 8 * words + 8);
  body.writeUInt32BE(((C.OFPXMC_OPENFLOW_BASIC << 16) | (o.field << 9) | (o.hasMask ? 0x100 : 0) | o.len) >>> 0, 0);
  body.set(o.payload.subarray(0, body.length - 4), 4);
  return { type: 'UNKNOWN', actionType: C.OFPAT_SET_FIELD, body: new Uint8Array(body) };
});

const looseAction: fc.Arbitrary<Action> = fc.oneof(
  action,
  fc.record({ type: fc.constant('UNKNOWN' as const), actionType: fc.constantFrom(...ACTION_CODES), body: looseBody }),
  looseSetField,
);
const looseActions = fc.array(looseAction, { minLength: 1, maxLength: 4 });

const looseInstruction: fc.Arbitrary<Instruction> = fc.oneof(
  instruction,
  fc.record({ type: fc.constantFrom('APPLY_ACTIONS' as const, 'WRITE_ACTIONS' as const), actions: looseActions }),
  fc.record({ type: fc.constant('UNKNOWN' as const), instructionType: fc.constantFrom(...INSTRUCTION_CODES), body: looseBody }),
);
const looseInstructions = fc.array(looseInstruction, { minLength: 1, maxLength: 3 });

/** Known fields as raw TLVs (encoded after the modelled ones): wrong lengths, masks, duplicates. */
const looseMatch: fc.Arbitrary<Match> = fc.tuple(match(3), fc.array(looseOxmTlv, { minLength: 1, maxLength: 3 })).map(([m, raws]) => ({
  ...m,
  unknown: raws.map((o): RawOxm => ({
    oxmClass: C.OFPXMC_OPENFLOW_BASIC, field: o.field, hasMask: o.hasMask, payload: o.payload.subarray(0, o.len),
  })),
}));

/** Multipart bodies of modelled types, sized near a whole number of entries. */
const looseMultipartBody = fc.tuple(
  fc.constantFrom(C.OFPMP_DESC, C.OFPMP_FLOW, C.OFPMP_AGGREGATE, C.OFPMP_TABLE, C.OFPMP_PORT_STATS, C.OFPMP_PORT_DESC, C.OFPMP_GROUP_DESC),
  fc.constantFrom(24, 56, 64, 112, 1056),
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: -9, max: 9 }),
).chain(([mpType, entry, n, delta]) => fc.uint8Array({ minLength: Math.max(0, entry * n + delta), maxLength: Math.max(0, entry * n + delta) })
  .map((body) => ({ kind: 'UNKNOWN' as const, mpType, body })));

const looseMessage: fc.Arbitrary<OfpMessage> = fc.oneof(
  fc.record({ xid: u32, match: looseMatch, instructions: looseInstructions }).map((f) => flowMod(f)),
  fc.record({ xid: u32, match: match(2), instructions: looseInstructions }).map((f) => flowMod(f)),
  fc.record({ type: fc.constant('PACKET_OUT' as const), xid: u32, bufferId: u32, inPort: u32, actions: looseActions, data: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({
    type: fc.constant('GROUP_MOD' as const), xid: u32, command: u16, groupType: u8, groupId: u32,
    buckets: fc.array(fc.record({ weight: u16, watchPort: u32, watchGroup: u32, actions: looseActions }), { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    type: fc.constant('PACKET_IN' as const), xid: u32, bufferId: u32, totalLen: u16, reason: u8, tableId: u8, cookie: fc.constant(0n),
    match: looseMatch, data: fc.uint8Array({ maxLength: 16 }),
  }),
  fc.record({
    type: fc.constant('HELLO' as const), xid: u32, version: fc.constant(4),
    elements: fc.array(fc.record({ type: fc.constant('UNKNOWN' as const), elementType: fc.constantFrom(C.OFPHET_VERSIONBITMAP, 0, 2), body: fc.uint8Array({ maxLength: 14 }) }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constantFrom('MULTIPART_REPLY' as const, 'MULTIPART_REQUEST' as const), xid: u32, flags: u16, body: looseMultipartBody }),
);

export const looseFrame: fc.Arbitrary<Buffer> = looseMessage.map((m) => encodeMessage(m));
