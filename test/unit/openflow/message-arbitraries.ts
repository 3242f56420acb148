// fast-check arbitraries for every OpenFlow 1.3 message the codec models, one per family, and
// `message` choosing among them. Like the part arbitraries, they generate the form the decoder
// gives back, so decode(encode(m)) can be compared to m directly. `validFrame` adds the golden
// vectors, as frames to cut, mutate and chunk.

import fc from 'fast-check';
import * as C from '../../../controller/openflow/constants.js';
import { encodeMessage, OFPET_EXPERIMENTER, OXM_BY_NAME } from '../../../controller/openflow/index.js';
import type {
  Bucket, Desc, FlowStats, FlowStatsRequestBody, GroupDesc, MultipartReplyBody, MultipartRequestBody, OfpMessage, Port,
  PortStats, TableStats,
} from '../../../controller/openflow/index.js';
import {
  actions, bytes, bytes4mod8, codeOutside, instructions, match, oxmValue, u16, u32, u64, u8,
} from './arbitraries.js';
import { loadVectors } from './vectors.js';

const xid = u32;
const mac = oxmValue(OXM_BY_NAME.get('eth_src')!) as fc.Arbitrary<string>;

/** A fixed-size C string as the decoder reads it: latin1 without NUL, at most `size` chars. */
function cString(size: number): fc.Arbitrary<string> {
  const unit = fc.integer({ min: 1, max: 0xff }).map((c) => String.fromCharCode(c));
  return fc.oneof(
    { arbitrary: fc.string({ unit, maxLength: Math.min(size, 20) }), weight: 4 },
    fc.string({ unit, minLength: size, maxLength: size }), // fills the array: no NUL on the wire
  );
}

// ---- symmetric and switch-configuration messages ---------------------------------------------

const hello: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('HELLO' as const), xid, version: u8,
  elements: fc.array(fc.oneof(
    fc.uniqueArray(fc.integer({ min: 0, max: 95 }), { maxLength: 6 })
      .map((vs) => ({ type: 'VERSIONBITMAP' as const, versions: [...vs].sort((a, b) => a - b) })),
    fc.record({ type: fc.constant('UNKNOWN' as const), elementType: codeOutside([C.OFPHET_VERSIONBITMAP]), body: bytes(12) }),
  ), { maxLength: 3 }),
});

const error: fc.Arbitrary<OfpMessage> = fc.oneof(
  fc.record({ type: fc.constant('ERROR' as const), xid, errorType: codeOutside([OFPET_EXPERIMENTER]), code: u16, data: bytes(72) }),
  fc.record({ type: fc.constant('ERROR' as const), xid, errorType: fc.constant(OFPET_EXPERIMENTER), code: u16, experimenter: u32, data: bytes() }),
);

const symmetric: fc.Arbitrary<OfpMessage> = fc.oneof(
  hello,
  error,
  fc.record({ type: fc.constantFrom('ECHO_REQUEST' as const, 'ECHO_REPLY' as const), xid, data: bytes(64) }),
  fc.record({ type: fc.constant('EXPERIMENTER' as const), xid, experimenter: u32, expType: u32, data: bytes() }),
  fc.record({ type: fc.constantFrom('FEATURES_REQUEST' as const, 'GET_CONFIG_REQUEST' as const, 'BARRIER_REQUEST' as const, 'BARRIER_REPLY' as const), xid }),
);

const switchConfig: fc.Arbitrary<OfpMessage> = fc.oneof(
  fc.record({ type: fc.constant('FEATURES_REPLY' as const), xid, datapathId: u64, nBuffers: u32, nTables: u8, auxiliaryId: u8, capabilities: u32, reserved: u32 }),
  fc.record({ type: fc.constantFrom('GET_CONFIG_REPLY' as const, 'SET_CONFIG' as const), xid, flags: u16, missSendLen: u16 }),
  fc.record({ type: fc.constantFrom('ROLE_REQUEST' as const, 'ROLE_REPLY' as const), xid, role: u32, generationId: u64 }),
);

// ---- flows and packets -----------------------------------------------------------------------

const flowMod: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('FLOW_MOD' as const), xid, cookie: u64, cookieMask: u64, tableId: u8, command: u8,
  idleTimeout: u16, hardTimeout: u16, priority: u16, bufferId: u32, outPort: u32, outGroup: u32, flags: u16,
  match: match(), instructions: instructions(),
});

const flowRemoved: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('FLOW_REMOVED' as const), xid, cookie: u64, priority: u16, reason: u8, tableId: u8, durationSec: u32,
  durationNsec: u32, idleTimeout: u16, hardTimeout: u16, packetCount: u64, byteCount: u64, match: match(),
});

const packetIn: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('PACKET_IN' as const), xid, bufferId: u32, totalLen: u16, reason: u8, tableId: u8, cookie: u64,
  match: match(3), data: bytes(96),
});

const packetOut: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('PACKET_OUT' as const), xid, bufferId: u32, inPort: u32, actions: actions(), data: bytes(96),
});

export const port: fc.Arbitrary<Port> = fc.record({
  portNo: u32, hwAddr: mac, name: cString(16), config: u32, state: u32, curr: u32, advertised: u32, supported: u32,
  peer: u32, currSpeed: u32, maxSpeed: u32,
});

const portStatus: fc.Arbitrary<OfpMessage> = fc.record({ type: fc.constant('PORT_STATUS' as const), xid, reason: u8, port });

const bucket: fc.Arbitrary<Bucket> = fc.record({ weight: u16, watchPort: u32, watchGroup: u32, actions: actions(3) });
const buckets = fc.array(bucket, { maxLength: 3 });

const groupMod: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('GROUP_MOD' as const), xid, command: u16, groupType: u8, groupId: u32, buckets,
});

// ---- multipart ---------------------------------------------------------------------------------

const MODELLED_MP = [C.OFPMP_DESC, C.OFPMP_FLOW, C.OFPMP_AGGREGATE, C.OFPMP_TABLE, C.OFPMP_PORT_STATS, C.OFPMP_PORT_DESC, C.OFPMP_GROUP_DESC];

const flowStatsRequest: fc.Arbitrary<FlowStatsRequestBody> = fc.record({
  tableId: u8, outPort: u32, outGroup: u32, cookie: u64, cookieMask: u64, match: match(),
});

const requestBody: fc.Arbitrary<MultipartRequestBody> = fc.oneof(
  fc.constantFrom('DESC' as const, 'TABLE' as const, 'PORT_DESC' as const, 'GROUP_DESC' as const).map((kind) => ({ kind })),
  fc.tuple(fc.constantFrom('FLOW' as const, 'AGGREGATE' as const), flowStatsRequest).map(([kind, b]) => ({ kind, ...b })),
  fc.record({ kind: fc.constant('PORT_STATS' as const), portNo: u32 }),
  fc.record({ kind: fc.constant('UNKNOWN' as const), mpType: codeOutside(MODELLED_MP), body: bytes() }),
);

const desc: fc.Arbitrary<Desc> = fc.record({
  mfrDesc: cString(256), hwDesc: cString(256), swDesc: cString(256), serialNum: cString(32), dpDesc: cString(256),
});

const flowStats: fc.Arbitrary<FlowStats> = fc.record({
  tableId: u8, durationSec: u32, durationNsec: u32, priority: u16, idleTimeout: u16, hardTimeout: u16, flags: u16,
  cookie: u64, packetCount: u64, byteCount: u64, match: match(4), instructions: instructions(2),
});

const tableStats: fc.Arbitrary<TableStats> = fc.record({ tableId: u8, activeCount: u32, lookupCount: u64, matchedCount: u64 });

const portStats: fc.Arbitrary<PortStats> = fc.record({
  portNo: u32, rxPackets: u64, txPackets: u64, rxBytes: u64, txBytes: u64, rxDropped: u64, txDropped: u64,
  rxErrors: u64, txErrors: u64, rxFrameErr: u64, rxOverErr: u64, rxCrcErr: u64, collisions: u64,
  durationSec: u32, durationNsec: u32,
});

const groupDesc: fc.Arbitrary<GroupDesc> = fc.record({ groupType: u8, groupId: u32, buckets });

const replyBody: fc.Arbitrary<MultipartReplyBody> = fc.oneof(
  fc.record({ kind: fc.constant('DESC' as const), desc }),
  fc.record({ kind: fc.constant('FLOW' as const), flows: fc.array(flowStats, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('AGGREGATE' as const), stats: fc.record({ packetCount: u64, byteCount: u64, flowCount: u32 }) }),
  fc.record({ kind: fc.constant('TABLE' as const), tables: fc.array(tableStats, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('PORT_STATS' as const), ports: fc.array(portStats, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('PORT_DESC' as const), ports: fc.array(port, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('GROUP_DESC' as const), groups: fc.array(groupDesc, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('UNKNOWN' as const), mpType: codeOutside(MODELLED_MP), body: bytes4mod8() }),
);

const multipart: fc.Arbitrary<OfpMessage> = fc.oneof(
  fc.record({ type: fc.constant('MULTIPART_REQUEST' as const), xid, flags: u16, body: requestBody }),
  { arbitrary: fc.record({ type: fc.constant('MULTIPART_REPLY' as const), xid, flags: u16, body: replyBody }), weight: 2 },
);

/** Message type codes the codec decodes into a modelled message. */
const MODELLED_TYPES = [
  C.OFPT_HELLO, C.OFPT_ERROR, C.OFPT_ECHO_REQUEST, C.OFPT_ECHO_REPLY, C.OFPT_EXPERIMENTER, C.OFPT_FEATURES_REQUEST,
  C.OFPT_FEATURES_REPLY, C.OFPT_GET_CONFIG_REQUEST, C.OFPT_GET_CONFIG_REPLY, C.OFPT_SET_CONFIG, C.OFPT_PACKET_IN,
  C.OFPT_FLOW_REMOVED, C.OFPT_PORT_STATUS, C.OFPT_PACKET_OUT, C.OFPT_FLOW_MOD, C.OFPT_GROUP_MOD,
  C.OFPT_MULTIPART_REQUEST, C.OFPT_MULTIPART_REPLY, C.OFPT_BARRIER_REQUEST, C.OFPT_BARRIER_REPLY,
  C.OFPT_ROLE_REQUEST, C.OFPT_ROLE_REPLY,
];

const unknownMessage: fc.Arbitrary<OfpMessage> = fc.record({
  type: fc.constant('UNKNOWN' as const), xid, msgType: codeOutside(MODELLED_TYPES, 0xff), body: bytes(),
});

/** Any message the codec models, weighted towards the ones with nested structure. */
export const message: fc.Arbitrary<OfpMessage> = fc.oneof(
  { arbitrary: symmetric, weight: 2 },
  { arbitrary: switchConfig, weight: 1 },
  { arbitrary: flowMod, weight: 4 },
  { arbitrary: flowRemoved, weight: 1 },
  { arbitrary: packetIn, weight: 2 },
  { arbitrary: packetOut, weight: 2 },
  { arbitrary: portStatus, weight: 1 },
  { arbitrary: groupMod, weight: 1 },
  { arbitrary: multipart, weight: 3 },
  { arbitrary: unknownMessage, weight: 1 },
);

/** Valid frames to start from: every golden vector (OVS's own bytes) and encoded messages. */
export const validFrame: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(...loadVectors().map((v) => v.bytes)),
  message.map((m) => encodeMessage(m)),
);
