// The parsers of topologies/case-study/drop-counters.ts (which place dropped the frames a move lost),
// on text as Linux and Open vSwitch 3.1 print it, and the loss-free benchmark's spans of lost datagrams.

import { expect } from 'chai';
import { lostSpans } from '../../../bench/loss-free.js';
import { addDrops, backlogDrops, controllerDrops, dropsBetween, neighStat, packetSocketDrops, portDrops, snmpFields } from '../../../topologies/case-study/drop-counters.js';

const SNMP = `Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes
Ip: 1 64 26701128 0 0 4410 0 7 26701128 25902938 2 3
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 458663 172531 285646 57763 0 26691529 26610052 118522 279 340364 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 9592 0 11 9599 9 1 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 5 0 5 0 0 0 0
`;

const ARP_CACHE = `entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls
00000002 000006ee 00000733 00000002   00003c7d 00000ea6 00000039   00000000         00000000         00000000         00000000       0000000a            00000000
00000002 000006c5 0000067e 00000000   00003fb8 00000f89 0000003e   00000000         00000000         00000892         00000000       00000003            00000000
`;

const DUMP_PORTS = `OFPST_PORT reply (OF1.3) (xid=0x2): 3 ports
  port LOCAL: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=0, bytes=0, drop=4, errs=0, coll=0
           duration=73.515s
  port  10: rx pkts=1200, bytes=90000, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=5000, bytes=7000000, drop=17, errs=0, coll=0
           duration=70.1s
  port  2: rx pkts=?, bytes=?, drop=?, errs=?, frame=?, over=?, crc=?
           tx pkts=?, bytes=?, drop=?, errs=?, coll=?
`;

// ss 6.1 (`ss -0 -a -m -p`) during a lab run: Open vSwitch 3.1's userspace datapath reads each port
// through a packet socket bound to it, plus one unbound socket.
const SS_PACKET = `Netid State  Recv-Q Send-Q Local Address:Port        Peer Address:PortProcess
p_raw UNCONN 0      0                [0]:*                       *     users:(("ovs-vswitchd",pid=7430,fd=68)) skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d7)
p_raw UNCONN 0      0                  *:m9k6s1-eth1             *     users:(("ovs-vswitchd",pid=7430,fd=49)) skmem:(r0,rb212992,t0,tb212992,f0,w0,o176,bl0,d0)
p_raw UNCONN 0      0                  *:m9k6s2-eth1             *     users:(("ovs-vswitchd",pid=7430,fd=56)) skmem:(r0,rb212992,t0,tb212992,f0,w0,o176,bl0,d440)
p_raw UNCONN 0      0                  *:eth0                    *     users:(("dhclient",pid=99,fd=5)) skmem:(r0,rb212992,t0,tb212992,f0,w0,o0,bl0,d3)
`;

const METRICS = `# HELP seamless_buffer_dropped_frames_total Loss-free migration: frames dropped.
# TYPE seamless_buffer_dropped_frames_total counter
seamless_buffer_dropped_frames_total 12
seamless_held_frames_dropped_total 3
seamless_messages_dropped_total 0
seamless_sse_clients_dropped_total 4
seamless_claims_limited_total{reason="port"} 2
seamless_claims_limited_total{reason="switch"} 1
seamless_packet_ins_total{dpid="0000000000000001"} 700
seamless_packet_ins_total{dpid="0000000000000002"} 54
seamless_buffer_copied_frames_total 640
`;

describe('drop counters of a lab move', () => {
  it("reads the drops of Open vSwitch's packet sockets per interface, not other processes' nor the unbound one", () => {
    expect(packetSocketDrops(SS_PACKET)).to.deep.equal({ 'm9k6s1-eth1': 0, 'm9k6s2-eth1': 440 });
  });

  it("reads the controller's counters of dropped frames and messages, summed over labels, not its dropped event-stream clients", () => {
    expect(controllerDrops(METRICS)).to.deep.equal({ buffer_dropped_frames: 12, held_frames_dropped: 3, messages_dropped: 0, claims_limited: 3 });
  });

  it("reads the controller's work counters apart from its drops when asked by name (packet-ins summed over switches)", () => {
    expect(controllerDrops(METRICS, ['packet_ins', 'buffer_copied_frames'])).to.deep.equal({ packet_ins: 754, buffer_copied_frames: 640 });
  });

  it('reads /proc/net/snmp fields by name, and never the UdpLite section for Udp', () => {
    expect(snmpFields(SNMP, 'Udp')).to.include({ InErrors: 11, RcvbufErrors: 9, SndbufErrors: 1 });
    expect(snmpFields(SNMP, 'Ip')).to.include({ InDiscards: 7, OutDiscards: 2, OutNoRoutes: 3 });
    expect(snmpFields(SNMP, 'Tcp')).to.include({ RetransSegs: 118522, EstabResets: 57763, OutRsts: 340364 });
    expect(snmpFields(SNMP, 'Icmp')).to.deep.equal({});
  });

  it('sums a neighbour-table column over the CPUs (hex)', () => {
    expect(neighStat(ARP_CACHE, 'unresolved_discards')).to.equal(13);
    expect(neighStat(ARP_CACHE, 'no_such_column')).to.equal(0);
  });

  it('sums the input backlog drops of /proc/net/softnet_stat over the CPUs (second column, hex)', () => {
    const softnet = '05840d9e 0000001a 00000070 00000000 00000000\n0578c3b1 00000002 00000064 00000000 00000000\n';
    expect(backlogDrops(softnet)).to.equal(28);
    expect(backlogDrops('')).to.equal(0);
  });

  it('reads rx and tx drops per OpenFlow port from dump-ports, unknown counts as 0', () => {
    expect(portDrops(DUMP_PORTS)).to.deep.equal({ 'rx_drop LOCAL': 0, 'tx_drop LOCAL': 4, 'rx_drop 10': 0, 'tx_drop 10': 17, 'rx_drop 2': 0, 'tx_drop 2': 0 });
  });

  it('keeps only what grew, counts a port that came during the move from 0, and sums moves', () => {
    const before = { 'ovs rconn_overflow': 5, 's1 tx_drop 10': 3, 'vm udp RcvbufErrors': 0 };
    const after = { 'ovs rconn_overflow': 9, 's1 tx_drop 10': 3, 'vm udp RcvbufErrors': 0, 's2 tx_drop 10': 2, 'controller buffer_dropped': 1, 'ovs socket_drop m0s2-eth9': 6 };
    const d = dropsBetween(before, after);
    expect(d).to.deep.equal({ 'ovs rconn_overflow': 4, 's2 tx_drop 10': 2, 'ovs socket_drop m0s2-eth9': 6 });
    expect(addDrops(d, { 'ovs rconn_overflow': 1 })).to.deep.equal({ 'ovs rconn_overflow': 5, 's2 tx_drop 10': 2, 'ovs socket_drop m0s2-eth9': 6 });
  });

  it('prints lost datagrams as spans of send times around the stop', () => {
    expect(lostSpans([3, -2, 1, 40, 0])).to.equal('-2..+3 (4), +40');
    expect(lostSpans([])).to.equal('');
  });
});
