// A table of sample messages covering every message kind, match field, action and instruction
// the codec encodes. Shared by the oracle, framer and robustness tests.

import * as OF from '../../../controller/openflow/index.js';
import type { Action, Match, OfpMessage } from '../../../controller/openflow/index.js';

export interface Sample {
  readonly name: string;
  readonly msg: OfpMessage;
  /** False when Open vSwitch cannot represent it (fields/actions OVS does not implement). */
  readonly ovs: boolean;
}

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
export const ARP_REQUEST = bytes('ffffffffffff020000009901080600010800060400010200000099010a6300010000000000000a630002');
export const IPV4_ICMP = bytes(
  '020000009903020000009901080045000054a1b2400040018a8a0a6300010a63000308004d2a00010001' + '00'.repeat(56),
);

/** Matches OVS accepts (prerequisites included), one or more fields each. */
export const OVS_MATCHES: readonly Match[] = [
  {},
  { in_port: 1 },
  { in_port: OF.OFPP_LOCAL },
  { metadata: 5n },
  { metadata: [0x10n, 0xf0n] },
  { eth_dst: '01:02:03:04:05:06' },
  { eth_src: ['02:00:00:00:00:00', 'ff:ff:ff:00:00:00'] },
  { eth_dst: ['01:00:00:00:00:00', '01:00:00:00:00:00'] },
  { eth_type: 0x88cc },
  { vlan_vid: 0x1005 },
  { vlan_vid: OF.OFPVID_NONE },
  { vlan_vid: [OF.OFPVID_PRESENT, OF.OFPVID_PRESENT] },
  { vlan_vid: 0x1005, vlan_pcp: 3 },
  { eth_type: 0x0800, ip_dscp: 10, ip_ecn: 2 },
  { eth_type: 0x0800, ip_proto: 47 },
  { eth_type: 0x0800, ipv4_src: '10.0.1.10', ipv4_dst: ['10.0.0.0', '255.255.0.0'] },
  { eth_type: 0x0800, ipv4_dst: ['10.0.0.0', '255.0.255.0'] },
  { in_port: 2, eth_type: 0x0800, ip_proto: 6, tcp_src: 80, tcp_dst: [0x1000, 0xf000] },
  { eth_type: 0x0800, ip_proto: 17, udp_src: 53, udp_dst: 5353 },
  { eth_type: 0x0800, ip_proto: 132, sctp_src: 1, sctp_dst: 2 },
  { eth_type: 0x0800, ip_proto: 1, icmpv4_type: 8, icmpv4_code: 0 },
  { eth_type: 0x0806, arp_op: 1, arp_tpa: '10.0.1.10' },
  { eth_type: 0x0806, arp_op: 2, arp_spa: '10.0.1.1', arp_tpa: ['10.0.1.0', '255.255.255.0'], arp_sha: '02:00:00:00:01:01', arp_tha: ['02:00:00:00:01:00', 'ff:ff:ff:ff:ff:00'] },
  { eth_type: 0x86dd, ipv6_src: 'fe80::1', ipv6_dst: ['2001:db8::', 'ffff:ffff::'], ipv6_flabel: 5 },
  { eth_type: 0x86dd, ipv6_src: ['fe80::', 'ffff:0:ffff::'], ipv6_flabel: [5, 0xf] },
  { eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 135, icmpv6_code: 0, ipv6_nd_target: '2001:db8::1', ipv6_nd_sll: '02:00:00:00:00:03' },
  { eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 136, ipv6_nd_tll: '02:00:00:00:00:04' },
  { eth_type: 0x86dd, ip_proto: 6, tcp_dst: 443 },
  { eth_type: 0x8847, mpls_label: 16, mpls_tc: 3, mpls_bos: 1 },
  { tunnel_id: 0x1234n },
  { tunnel_id: [0x1234n, 0xffffn], in_port: 3 },
];

/** [prerequisite match, action] pairs OVS accepts. */
export const OVS_ACTIONS: readonly (readonly [Match, Action])[] = [
  [{}, OF.outputPort(1)],
  [{}, OF.outputPort(OF.OFPP_IN_PORT)],
  [{}, OF.outputPort(OF.OFPP_TABLE)],
  [{}, OF.outputPort(OF.OFPP_NORMAL)],
  [{}, OF.outputPort(OF.OFPP_FLOOD)],
  [{}, OF.outputPort(OF.OFPP_ALL)],
  [{}, OF.outputPort(OF.OFPP_CONTROLLER)],
  [{}, OF.outputPort(OF.OFPP_CONTROLLER, 128)],
  [{}, OF.outputPort(OF.OFPP_LOCAL)],
  [{}, OF.setField('eth_src', '02:00:00:00:01:0a')],
  [{}, OF.setField('eth_dst', '02:00:00:00:01:01')],
  [{}, OF.setField('metadata', 7n)],
  [{}, OF.setField('tunnel_id', 9n)],
  [{ eth_type: 0x0800 }, OF.setField('ipv4_src', '10.0.2.200')],
  [{ eth_type: 0x0800 }, OF.setField('ipv4_dst', '10.0.1.10')],
  [{ eth_type: 0x0800 }, OF.setField('ip_dscp', 10)],
  [{ eth_type: 0x0800 }, OF.setField('ip_ecn', 1)],
  [{ eth_type: 0x0806 }, OF.setField('arp_op', 2)],
  [{ eth_type: 0x0806 }, OF.setField('arp_spa', '10.0.1.10')],
  [{ eth_type: 0x0806 }, OF.setField('arp_tpa', '10.0.1.1')],
  [{ eth_type: 0x0806 }, OF.setField('arp_sha', '02:00:00:00:01:0a')],
  [{ eth_type: 0x0806 }, OF.setField('arp_tha', '02:00:00:00:01:01')],
  [{ eth_type: 0x0800, ip_proto: 6 }, OF.setField('tcp_src', 8080)],
  [{ eth_type: 0x0800, ip_proto: 6 }, OF.setField('tcp_dst', 80)],
  [{ eth_type: 0x0800, ip_proto: 17 }, OF.setField('udp_src', 53)],
  [{ eth_type: 0x0800, ip_proto: 17 }, OF.setField('udp_dst', 5353)],
  [{ eth_type: 0x0800, ip_proto: 132 }, OF.setField('sctp_src', 9)],
  [{ eth_type: 0x0800, ip_proto: 132 }, OF.setField('sctp_dst', 10)],
  [{ eth_type: 0x0800, ip_proto: 1 }, OF.setField('icmpv4_type', 3)],
  [{ eth_type: 0x0800, ip_proto: 1 }, OF.setField('icmpv4_code', 1)],
  [{ vlan_vid: [OF.OFPVID_PRESENT, OF.OFPVID_PRESENT] }, OF.setField('vlan_vid', 0x1005)],
  [{ vlan_vid: [OF.OFPVID_PRESENT, OF.OFPVID_PRESENT] }, OF.setField('vlan_pcp', 3)],
  [{ eth_type: 0x86dd }, OF.setField('ipv6_src', 'fe80::1')],
  [{ eth_type: 0x86dd }, OF.setField('ipv6_dst', '2001:db8::2')],
  [{ eth_type: 0x86dd }, OF.setField('ipv6_flabel', 7)],
  [{ eth_type: 0x86dd, ip_proto: 58 }, OF.setField('icmpv6_type', 1)],
  [{ eth_type: 0x86dd, ip_proto: 58 }, OF.setField('icmpv6_code', 4)],
  [{ eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 135 }, OF.setField('ipv6_nd_target', '2001:db8::9')],
  [{ eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 135 }, OF.setField('ipv6_nd_sll', '02:00:00:00:00:09')],
  [{ eth_type: 0x86dd, ip_proto: 58, icmpv6_type: 136 }, OF.setField('ipv6_nd_tll', '02:00:00:00:00:0a')],
  [{ eth_type: 0x8847 }, OF.setField('mpls_label', 5)],
  [{ eth_type: 0x8847 }, OF.setField('mpls_tc', 2)],
  [{ eth_type: 0x8847 }, { type: 'SET_MPLS_TTL', ttl: 5 }],
  [{ eth_type: 0x8847 }, { type: 'DEC_MPLS_TTL' }],
  [{ eth_type: 0x8847 }, { type: 'POP_MPLS', ethertype: 0x0800 }],
  [{}, { type: 'PUSH_VLAN', ethertype: 0x8100 }],
  [{ vlan_vid: [OF.OFPVID_PRESENT, OF.OFPVID_PRESENT] }, { type: 'POP_VLAN' }],
  [{}, { type: 'PUSH_MPLS', ethertype: 0x8847 }],
  [{}, { type: 'SET_QUEUE', queueId: 3 }],
  [{}, { type: 'GROUP', groupId: 5 }],
  [{ eth_type: 0x0800 }, { type: 'SET_NW_TTL', ttl: 9 }],
  [{ eth_type: 0x0800 }, { type: 'DEC_NW_TTL' }],
  [{}, OF.nxRegMove('NXM_OF_ETH_SRC', 'NXM_OF_ETH_DST')],
  [{ eth_type: 0x0806 }, OF.nxRegMove('NXM_NX_ARP_SHA', 'NXM_NX_ARP_THA')],
  [{ eth_type: 0x0806 }, OF.nxRegMove('NXM_OF_ARP_SPA', 'NXM_OF_ARP_TPA')],
  [{ eth_type: 0x0806 }, OF.nxRegMove('NXM_OF_ARP_TPA', 'NXM_NX_REG0')],
  [{ eth_type: 0x0806 }, OF.nxRegMove('NXM_NX_REG7', 'NXM_OF_ARP_SPA')],
  [{}, OF.nxRegMove('NXM_NX_REG0', 'NXM_NX_REG1', 16, 0, 16)],
  [{}, OF.nxRegMove('NXM_NX_REG2', 'NXM_NX_REG3', 1, 3, 5)],
];

/** The hand-tested ARP responder (design/rewrite-rules-example.txt, s1 priority 310). */
export const ARP_RESPONDER = OF.flowMod({
  xid: 0x310,
  priority: 310,
  match: { eth_type: 0x0806, arp_op: 1, arp_tpa: '10.0.1.10' },
  instructions: [OF.applyActions(
    OF.nxRegMove('NXM_OF_ETH_SRC', 'NXM_OF_ETH_DST'),
    OF.setField('eth_src', '02:00:00:00:01:0a'),
    OF.setField('arp_op', 2),
    OF.nxRegMove('NXM_NX_ARP_SHA', 'NXM_NX_ARP_THA'),
    OF.setField('arp_sha', '02:00:00:00:01:0a'),
    OF.nxRegMove('NXM_OF_ARP_SPA', 'NXM_OF_ARP_TPA'),
    OF.setField('arp_spa', '10.0.1.10'),
    OF.outputPort(OF.OFPP_IN_PORT),
  )],
});

/** The typical rewrite rule: match + set_field x3 + output (also the benchmark's flow-mod). */
export const REWRITE_FLOW = OF.flowMod({
  xid: 0x210,
  cookie: 0x5eab1e55n,
  tableId: 0,
  priority: 210,
  idleTimeout: 30,
  match: { in_port: 2, eth_type: 0x0800, ipv4_dst: '10.0.1.10' },
  instructions: [OF.applyActions(
    OF.setField('ipv4_dst', '10.0.2.200'),
    OF.setField('eth_dst', '02:00:00:00:01:01'),
    OF.setField('eth_src', '02:00:00:00:01:0a'),
    OF.outputPort(OF.OFPP_IN_PORT),
  )],
});

const port: OF.Port = {
  portNo: 1, hwAddr: '02:00:00:00:00:01', name: 's1-eth1', config: 0, state: OF.OFPPS_LIVE,
  curr: OF.OFPPF_10GB_FD | OF.OFPPF_COPPER, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0,
};

const flowStats: OF.FlowStats = {
  tableId: 1, durationSec: 1, durationNsec: 500_000_000, priority: 200, idleTimeout: 10, hardTimeout: 0,
  flags: OF.OFPFF_SEND_FLOW_REM, cookie: 1n, packetCount: 3n, byteCount: 180n,
  match: { eth_type: 0x0800, ipv4_dst: '10.0.1.10' },
  instructions: [OF.applyActions(OF.setField('ipv4_dst', '10.0.2.200')), OF.gotoTable(2)],
};

/** One of every message kind the codec encodes, with values OVS can print. */
export const MESSAGE_SAMPLES: readonly Sample[] = [
  { name: 'hello', msg: OF.hello(1), ovs: true },
  { name: 'hello 1.0+1.3', msg: OF.hello(2, [1, 4]), ovs: true },
  { name: 'error bad match', msg: { type: 'ERROR', xid: 3, errorType: OF.OFPET_BAD_MATCH, code: OF.OFPBMC_BAD_FIELD, data: OF.encodeMessage(OF.barrierRequest(3)) }, ovs: true },
  { name: 'error experimenter', msg: { type: 'ERROR', xid: 4, errorType: OF.OFPET_EXPERIMENTER, code: 7, experimenter: 0x2320, data: new Uint8Array(0) }, ovs: true },
  { name: 'echo request', msg: OF.echoRequest(5, bytes('01020304')), ovs: true },
  { name: 'echo reply', msg: { type: 'ECHO_REPLY', xid: 6, data: bytes('01020304') }, ovs: true },
  { name: 'experimenter', msg: { type: 'EXPERIMENTER', xid: 7, experimenter: 0x00abcdef, expType: 3, data: bytes('aabb') }, ovs: false },
  { name: 'features request', msg: OF.featuresRequest(8), ovs: true },
  { name: 'features reply', msg: { type: 'FEATURES_REPLY', xid: 9, datapathId: 0xabcn, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 }, ovs: true },
  { name: 'get config request', msg: { type: 'GET_CONFIG_REQUEST', xid: 10 }, ovs: true },
  { name: 'get config reply', msg: { type: 'GET_CONFIG_REPLY', xid: 11, flags: OF.OFPC_FRAG_DROP, missSendLen: 128 }, ovs: true },
  { name: 'set config', msg: OF.setConfig(12, 0xffff), ovs: true },
  { name: 'packet in', msg: { type: 'PACKET_IN', xid: 13, bufferId: OF.OFP_NO_BUFFER, totalLen: ARP_REQUEST.length, reason: OF.OFPR_ACTION, tableId: 2, cookie: 0x42n, match: { in_port: 3 }, data: ARP_REQUEST }, ovs: true },
  { name: 'packet in (ipv4, table miss)', msg: { type: 'PACKET_IN', xid: 14, bufferId: OF.OFP_NO_BUFFER, totalLen: IPV4_ICMP.length, reason: OF.OFPR_NO_MATCH, tableId: 0, cookie: 0n, match: { in_port: 1, tunnel_id: 5n }, data: IPV4_ICMP }, ovs: true },
  { name: 'packet out', msg: OF.packetOut({ xid: 15, actions: [OF.outputPort(1)], data: ARP_REQUEST }), ovs: true },
  { name: 'packet out in_port', msg: OF.packetOut({ xid: 16, inPort: 3, actions: [OF.setField('eth_src', '02:00:00:00:01:0a'), OF.outputPort(OF.OFPP_IN_PORT)], data: ARP_REQUEST }), ovs: true },
  { name: 'flow mod rewrite', msg: REWRITE_FLOW, ovs: true },
  { name: 'flow mod arp responder', msg: ARP_RESPONDER, ovs: true },
  { name: 'flow mod goto', msg: OF.flowMod({ xid: 17, tableId: 1, cookie: 1n, priority: 200, match: { eth_type: 0x0800, ipv4_dst: '10.0.1.10' }, instructions: [OF.applyActions(OF.setField('ipv4_dst', '10.0.2.200')), OF.gotoTable(2)] }), ovs: true },
  { name: 'flow mod all instructions', msg: OF.flowMod({ xid: 18, tableId: 3, instructions: [OF.gotoTable(7), OF.applyActions(OF.outputPort(2)), { type: 'METER', meterId: 1 }, OF.writeActions(OF.outputPort(1), OF.outputPort(2)), OF.clearActions(), OF.writeMetadata(1n, 0xffn)] }), ovs: true },
  { name: 'flow mod write metadata', msg: OF.flowMod({ xid: 19, instructions: [OF.writeMetadata(0x5n)] }), ovs: true },
  { name: 'flow mod timeouts flags', msg: OF.flowMod({ xid: 20, priority: 0, idleTimeout: 5, hardTimeout: 6, flags: OF.OFPFF_SEND_FLOW_REM | OF.OFPFF_CHECK_OVERLAP, cookie: 5n, tableId: 3 }), ovs: true },
  { name: 'flow mod modify', msg: OF.flowMod({ xid: 21, command: OF.OFPFC_MODIFY, cookie: 0x10n, cookieMask: 0xffn, match: { eth_type: 0x0800 }, instructions: [OF.applyActions(OF.outputPort(5))] }), ovs: true },
  { name: 'flow mod modify strict', msg: OF.flowMod({ xid: 22, command: OF.OFPFC_MODIFY_STRICT, priority: 7, match: { in_port: 1 }, instructions: [OF.applyActions(OF.outputPort(5))] }), ovs: true },
  { name: 'flow mod delete', msg: OF.deleteFlows({ xid: 23, cookie: 1n, cookieMask: 0xffffffffffffffffn, outPort: 2, match: { eth_type: 0x0800, ipv4_src: '10.0.2.200' } }), ovs: true },
  { name: 'flow mod delete strict', msg: OF.flowMod({ xid: 24, command: OF.OFPFC_DELETE_STRICT, tableId: 2, priority: 210, outGroup: 3, bufferId: 7, match: { in_port: 2 } }), ovs: true },
  { name: 'flow removed', msg: { type: 'FLOW_REMOVED', xid: 25, cookie: 0x77n, priority: 7, reason: OF.OFPRR_IDLE_TIMEOUT, tableId: 1, durationSec: 3, durationNsec: 5, idleTimeout: 3, hardTimeout: 0, packetCount: 9n, byteCount: 900n, match: { eth_type: 0x0800, ipv4_src: '192.0.2.1' } }, ovs: true },
  { name: 'port status', msg: { type: 'PORT_STATUS', xid: 26, reason: OF.OFPPR_MODIFY, port }, ovs: true },
  { name: 'group mod', msg: { type: 'GROUP_MOD', xid: 27, command: OF.OFPGC_ADD, groupType: OF.OFPGT_SELECT, groupId: 2, buckets: [{ weight: 10, watchPort: OF.OFPP_ANY, watchGroup: OF.OFPG_ANY, actions: [OF.setField('eth_dst', '02:00:00:00:00:09'), OF.outputPort(3)] }, { weight: 20, watchPort: OF.OFPP_ANY, watchGroup: OF.OFPG_ANY, actions: [OF.outputPort(4)] }] }, ovs: true },
  { name: 'group mod delete', msg: { type: 'GROUP_MOD', xid: 28, command: OF.OFPGC_DELETE, groupType: OF.OFPGT_ALL, groupId: OF.OFPG_ALL, buckets: [] }, ovs: true },
  { name: 'barrier request', msg: OF.barrierRequest(29), ovs: true },
  { name: 'barrier reply', msg: { type: 'BARRIER_REPLY', xid: 30 }, ovs: true },
  { name: 'role request', msg: { type: 'ROLE_REQUEST', xid: 31, role: OF.OFPCR_ROLE_MASTER, generationId: 7n }, ovs: true },
  { name: 'role reply', msg: { type: 'ROLE_REPLY', xid: 32, role: OF.OFPCR_ROLE_SLAVE, generationId: 8n }, ovs: true },
  { name: 'mp desc request', msg: OF.descRequest(33), ovs: true },
  { name: 'mp flow request', msg: OF.flowStatsRequest({ xid: 34, tableId: 1, match: { eth_type: 0x0800 } }), ovs: true },
  { name: 'mp aggregate request', msg: OF.aggregateStatsRequest({ xid: 35 }), ovs: true },
  { name: 'mp table request', msg: { type: 'MULTIPART_REQUEST', xid: 36, flags: 0, body: { kind: 'TABLE' } }, ovs: true },
  { name: 'mp port stats request', msg: OF.portStatsRequest(37, 1), ovs: true },
  { name: 'mp port desc request', msg: OF.portDescRequest(38), ovs: true },
  { name: 'mp group desc request', msg: { type: 'MULTIPART_REQUEST', xid: 39, flags: 0, body: { kind: 'GROUP_DESC' } }, ovs: true },
  { name: 'mp desc reply', msg: { type: 'MULTIPART_REPLY', xid: 40, flags: 0, body: { kind: 'DESC', desc: { mfrDesc: 'Seamless', hwDesc: 'test', swDesc: '0.1', serialNum: 'None', dpDesc: 's1' } } }, ovs: true },
  { name: 'mp flow reply', msg: { type: 'MULTIPART_REPLY', xid: 41, flags: 0, body: { kind: 'FLOW', flows: [flowStats, { ...flowStats, tableId: 0, priority: 0, match: {}, instructions: [] }] } }, ovs: true },
  { name: 'mp aggregate reply', msg: { type: 'MULTIPART_REPLY', xid: 42, flags: 0, body: { kind: 'AGGREGATE', stats: { packetCount: 10n, byteCount: 1000n, flowCount: 3 } } }, ovs: true },
  { name: 'mp table reply', msg: { type: 'MULTIPART_REPLY', xid: 43, flags: 0, body: { kind: 'TABLE', tables: [{ tableId: 0, activeCount: 4, lookupCount: 100n, matchedCount: 90n }, { tableId: 1, activeCount: 1, lookupCount: 5n, matchedCount: 5n }] } }, ovs: true },
  { name: 'mp port stats reply', msg: { type: 'MULTIPART_REPLY', xid: 44, flags: 0, body: { kind: 'PORT_STATS', ports: [{ portNo: 1, rxPackets: 1n, txPackets: 2n, rxBytes: 3n, txBytes: 4n, rxDropped: 5n, txDropped: 6n, rxErrors: 7n, txErrors: 8n, rxFrameErr: 9n, rxOverErr: 10n, rxCrcErr: 11n, collisions: 12n, durationSec: 13, durationNsec: 14 }] } }, ovs: true },
  { name: 'mp port desc reply', msg: { type: 'MULTIPART_REPLY', xid: 45, flags: OF.OFPMPF_REPLY_MORE, body: { kind: 'PORT_DESC', ports: [port, { ...port, portNo: OF.OFPP_LOCAL, name: 's1', config: OF.OFPPC_PORT_DOWN }] } }, ovs: true },
  { name: 'mp group desc reply', msg: { type: 'MULTIPART_REPLY', xid: 46, flags: 0, body: { kind: 'GROUP_DESC', groups: [{ groupType: OF.OFPGT_FF, groupId: 3, buckets: [{ weight: 0, watchPort: 1, watchGroup: OF.OFPG_ANY, actions: [OF.outputPort(1)] }] }] } }, ovs: true },
  // Kept verbatim: things the model does not know.
  { name: 'unknown message (port mod)', msg: { type: 'UNKNOWN', xid: 47, msgType: OF.OFPT_PORT_MOD, body: bytes('0000000100000000020000000001000000000001000000010000000000000000') }, ovs: true },
  { name: 'unknown multipart (meter)', msg: { type: 'MULTIPART_REQUEST', xid: 48, flags: 0, body: { kind: 'UNKNOWN', mpType: OF.OFPMP_METER, body: bytes('ffffffff00000000') } }, ovs: true },
  { name: 'hello unknown element', msg: { type: 'HELLO', xid: 49, version: 4, elements: [{ type: 'UNKNOWN', elementType: 9, body: bytes('0102') }, { type: 'VERSIONBITMAP', versions: [4, 5, 6, 33] }] }, ovs: false },
  { name: 'match fields OVS lacks', msg: OF.flowMod({ xid: 50, match: { in_port: 1, in_phy_port: 1, eth_type: 0x86dd, ipv6_exthdr: [0x100, 0x1ff], pbb_isid: 0x123456, unknown: [{ oxmClass: 0x0001, field: 3, hasMask: false, payload: bytes('00000005') }] } }), ovs: false },
  { name: 'actions OVS lacks', msg: OF.flowMod({ xid: 51, instructions: [OF.applyActions({ type: 'COPY_TTL_OUT' }, { type: 'COPY_TTL_IN' }, { type: 'PUSH_PBB', ethertype: 0x88e7 }, { type: 'POP_PBB' }, OF.setField('pbb_isid', 5), OF.setField('ipv6_exthdr', 1), { type: 'UNKNOWN', actionType: 0x77, body: bytes('000000000000000000000000') }, { type: 'EXPERIMENTER', experimenter: 0x4f4e4600, data: bytes('0000000100000000') })] }), ovs: false },
  { name: 'instructions unknown', msg: OF.flowMod({ xid: 52, instructions: [{ type: 'UNKNOWN', instructionType: 0x55, body: bytes('00000000') }, { type: 'EXPERIMENTER', experimenter: 0x2320, data: bytes('00000000aabbccdd') }] }), ovs: false },
];

/** Every sample, plus one flow-mod per OVS match and per OVS action. */
export function allSamples(): Sample[] {
  const matchSamples = OVS_MATCHES.map((match, i): Sample => ({
    name: `match ${JSON.stringify(match, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`,
    msg: OF.flowMod({ xid: 1000 + i, match, priority: 100 + i, instructions: [OF.applyActions(OF.outputPort(1))] }),
    ovs: true,
  }));
  const actionSamples = OVS_ACTIONS.map(([match, action], i): Sample => ({
    name: `action ${action.type === 'SET_FIELD' ? `set_field ${action.field}` : action.type} #${i}`,
    msg: OF.flowMod({ xid: 2000 + i, match, instructions: [OF.applyActions(action)] }),
    ovs: true,
  }));
  return [...MESSAGE_SAMPLES, ...matchSamples, ...actionSamples];
}
