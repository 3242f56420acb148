// Struct sizes from the OpenFlow 1.3.5 spec (the OFP_ASSERTs of openflow.h), measured on what
// the encoder writes.

import { expect } from 'chai';
import * as OF from '../../../controller/openflow/index.js';
import type { Action, Instruction, MultipartReplyBody, OfpMessage } from '../../../controller/openflow/index.js';

const len = (m: OfpMessage) => OF.encodeMessage(m).length;
const S = OF.OFP_SIZES;
const emptyFlowMod = OF.flowMod();
const mpReply = (body: MultipartReplyBody): OfpMessage => ({ type: 'MULTIPART_REPLY', xid: 0, flags: 0, body });
const port: OF.Port = { portNo: 1, hwAddr: '00:00:00:00:00:01', name: 'p', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 };
const z = 0n;

/** Size of one action / instruction: the flow-mod grows by exactly that much. */
const actionLen = (a: Action) => len(OF.flowMod({ instructions: [OF.applyActions(a)] })) - S.ofp_flow_mod - S.ofp_instruction_actions;
const instructionLen = (i: Instruction) => len(OF.flowMod({ instructions: [i] })) - S.ofp_flow_mod;

const MESSAGES: [string, number, number][] = [
  ['ofp_header (barrier)', len(OF.barrierRequest(0)), S.ofp_header],
  ['hello with one version bitmap', len(OF.hello(0)), S.ofp_header + S.ofp_hello_elem_header + 4],
  ['ofp_switch_features', len({ type: 'FEATURES_REPLY', xid: 0, datapathId: z, nBuffers: 0, nTables: 0, auxiliaryId: 0, capabilities: 0, reserved: 0 }), S.ofp_switch_features],
  ['ofp_switch_config', len(OF.setConfig(0)), S.ofp_switch_config],
  ['ofp_flow_mod (empty match, padded)', len(emptyFlowMod), S.ofp_flow_mod],
  ['ofp_packet_in (empty match + 2 pad)', len({ type: 'PACKET_IN', xid: 0, bufferId: 0, totalLen: 0, reason: 0, tableId: 0, cookie: z, match: {}, data: new Uint8Array(0) }), S.ofp_packet_in + 2],
  ['ofp_packet_out', len(OF.packetOut({ actions: [] })), S.ofp_packet_out],
  ['ofp_flow_removed', len({ type: 'FLOW_REMOVED', xid: 0, cookie: z, priority: 0, reason: 0, tableId: 0, durationSec: 0, durationNsec: 0, idleTimeout: 0, hardTimeout: 0, packetCount: z, byteCount: z, match: {} }), S.ofp_flow_removed],
  ['ofp_port_status', len({ type: 'PORT_STATUS', xid: 0, reason: 0, port }), S.ofp_port_status],
  ['ofp_port (in port status)', S.ofp_port_status - S.ofp_header - 8, S.ofp_port],
  ['ofp_group_mod', len({ type: 'GROUP_MOD', xid: 0, command: 0, groupType: 0, groupId: 0, buckets: [] }), S.ofp_group_mod],
  ['ofp_bucket', len({ type: 'GROUP_MOD', xid: 0, command: 0, groupType: 0, groupId: 0, buckets: [{ weight: 0, watchPort: 0, watchGroup: 0, actions: [] }] }) - S.ofp_group_mod, S.ofp_bucket],
  ['ofp_role_request', len({ type: 'ROLE_REQUEST', xid: 0, role: 0, generationId: z }), S.ofp_role_request],
  ['ofp_error_msg', len({ type: 'ERROR', xid: 0, errorType: 1, code: 0, data: new Uint8Array(0) }), S.ofp_error_msg],
  ['ofp_error_experimenter_msg', len({ type: 'ERROR', xid: 0, errorType: OF.OFPET_EXPERIMENTER, code: 0, experimenter: 1, data: new Uint8Array(0) }), S.ofp_error_experimenter_msg],
  ['ofp_experimenter_header', len({ type: 'EXPERIMENTER', xid: 0, experimenter: 1, expType: 0, data: new Uint8Array(0) }), S.ofp_experimenter_header],
  ['ofp_multipart_request', len(OF.descRequest(0)), S.ofp_multipart_request],
  ['ofp_flow_stats_request', len(OF.flowStatsRequest()) - S.ofp_multipart_request, S.ofp_flow_stats_request],
  ['ofp_aggregate_stats_request', len(OF.aggregateStatsRequest()) - S.ofp_multipart_request, S.ofp_aggregate_stats_request],
  ['ofp_port_stats_request', len(OF.portStatsRequest(0)) - S.ofp_multipart_request, S.ofp_port_stats_request],
  ['ofp_desc', len(mpReply({ kind: 'DESC', desc: { mfrDesc: '', hwDesc: '', swDesc: '', serialNum: '', dpDesc: '' } })) - S.ofp_multipart_reply, S.ofp_desc],
  ['ofp_flow_stats', len(mpReply({ kind: 'FLOW', flows: [{ tableId: 0, durationSec: 0, durationNsec: 0, priority: 0, idleTimeout: 0, hardTimeout: 0, flags: 0, cookie: z, packetCount: z, byteCount: z, match: {}, instructions: [] }] })) - S.ofp_multipart_reply, S.ofp_flow_stats],
  ['ofp_aggregate_stats_reply', len(mpReply({ kind: 'AGGREGATE', stats: { packetCount: z, byteCount: z, flowCount: 0 } })) - S.ofp_multipart_reply, S.ofp_aggregate_stats_reply],
  ['ofp_table_stats', len(mpReply({ kind: 'TABLE', tables: [{ tableId: 0, activeCount: 0, lookupCount: z, matchedCount: z }] })) - S.ofp_multipart_reply, S.ofp_table_stats],
  ['ofp_port_stats', len(mpReply({ kind: 'PORT_STATS', ports: [{ portNo: 0, rxPackets: z, txPackets: z, rxBytes: z, txBytes: z, rxDropped: z, txDropped: z, rxErrors: z, txErrors: z, rxFrameErr: z, rxOverErr: z, rxCrcErr: z, collisions: z, durationSec: 0, durationNsec: 0 }] })) - S.ofp_multipart_reply, S.ofp_port_stats],
  ['ofp_port (port desc)', len(mpReply({ kind: 'PORT_DESC', ports: [port] })) - S.ofp_multipart_reply, S.ofp_port],
  ['ofp_group_desc', len(mpReply({ kind: 'GROUP_DESC', groups: [{ groupType: 0, groupId: 0, buckets: [] }] })) - S.ofp_multipart_reply, S.ofp_group_desc],
  ['ofp_action_output', actionLen(OF.outputPort(1)), S.ofp_action_output],
  ['ofp_action_generic (dec_nw_ttl)', actionLen({ type: 'DEC_NW_TTL' }), S.ofp_action_generic],
  ['ofp_action_group', actionLen({ type: 'GROUP', groupId: 1 }), 8],
  ['ofp_action_push', actionLen({ type: 'PUSH_VLAN', ethertype: 0x8100 }), 8],
  ['ofp_action_set_field (2-byte field, padded)', actionLen(OF.setField('eth_type', 0x800)), 16],
  ['ofp_action_set_field (IPv6, padded)', actionLen(OF.setField('ipv6_src', '::1')), 24],
  ['nx_action_reg_move', actionLen(OF.nxRegMove('NXM_OF_ETH_SRC', 'NXM_OF_ETH_DST')), 24],
  ['ofp_instruction_goto_table', instructionLen(OF.gotoTable(1)), S.ofp_instruction_goto_table],
  ['ofp_instruction_write_metadata', instructionLen(OF.writeMetadata(1n)), S.ofp_instruction_write_metadata],
  ['ofp_instruction_actions (empty)', instructionLen(OF.applyActions()), S.ofp_instruction_actions],
  ['ofp_instruction_meter', instructionLen({ type: 'METER', meterId: 1 }), S.ofp_instruction_meter],
];

describe('OpenFlow 1.3 struct sizes', () => {
  it('match the spec constants', () => {
    expect(S).to.include({
      ofp_header: 8, ofp_switch_features: 32, ofp_switch_config: 12, ofp_match: 8, ofp_port: 64, ofp_port_status: 80,
      ofp_packet_in: 32, ofp_packet_out: 24, ofp_flow_mod: 56, ofp_flow_removed: 56, ofp_group_mod: 16, ofp_bucket: 16,
      ofp_role_request: 24, ofp_multipart_request: 16, ofp_desc: 1056, ofp_flow_stats: 56, ofp_table_stats: 24, ofp_port_stats: 112,
    });
  });

  for (const [name, actual, expected] of MESSAGES) {
    it(`${name} is ${expected} bytes`, () => expect(actual).to.equal(expected));
  }

  it('pads ofp_match to 8 bytes but gives its length without the padding', () => {
    const b = OF.encodeMessage(OF.flowMod({ match: { eth_type: 0x0800 } }));
    const matchAt = S.ofp_flow_mod - S.ofp_match;
    expect(b.readUInt16BE(matchAt)).to.equal(OF.OFPMT_OXM);
    expect(b.readUInt16BE(matchAt + 2)).to.equal(4 + 4 + 2);
    expect(b.length).to.equal(matchAt + 16);
    expect(b.subarray(matchAt + 10, matchAt + 16).every((x) => x === 0)).to.equal(true);
  });

  it('gives each OXM field its spec width (vlan_vid 2, pbb_isid 3, ipv6_flabel 4, ipv6_exthdr 2, metadata 8)', () => {
    const width = (name: OF.OxmName) => OF.OXM_BY_NAME.get(name)?.width;
    expect([width('vlan_vid'), width('pbb_isid'), width('ipv6_flabel'), width('ipv6_exthdr'), width('metadata'), width('ipv6_src')])
      .to.deep.equal([2, 3, 4, 2, 8, 16]);
    expect(OF.OXM_FIELDS.map((f) => f.field)).to.deep.equal([...Array(40).keys()]);
  });
});
