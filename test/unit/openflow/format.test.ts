// The ovs-ofctl notation (exhaustively cross-checked against OVS in oracle.test.ts and
// vectors.test.ts) and address text round trips.

import { expect } from 'chai';
import { readIpv6, writeIpv6, readMac, writeMac, parseIpv4 } from '../../../controller/openflow/addr.js';
import * as OF from '../../../controller/openflow/index.js';
import { REWRITE_FLOW, ARP_RESPONDER } from './samples.js';

describe('ovs-ofctl formatter', () => {
  it('prints a rewrite flow like dump-flows', () => {
    const fs: OF.FlowStats = {
      tableId: 1, durationSec: 1, durationNsec: 500_000_000, priority: 200, idleTimeout: 0, hardTimeout: 0, flags: 0,
      cookie: 1n, packetCount: 0n, byteCount: 0n, match: { eth_type: 0x0800, ipv4_dst: '10.0.1.10' },
      instructions: [OF.applyActions(OF.setField('ipv4_dst', '10.0.2.200')), OF.gotoTable(2)],
    };
    expect(OF.formatFlowStats(fs)).to.equal(
      'cookie=0x1, duration=1.500s, table=1, n_packets=0, n_bytes=0, priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,goto_table:2');
    expect(OF.formatFlowStats({ ...fs, idleTimeout: 10, hardTimeout: 20, flags: OF.OFPFF_SEND_FLOW_REM | OF.OFPFF_RESET_COUNTS }, { showStats: false }))
      .to.equal('cookie=0x1, table=1, idle_timeout=10, hard_timeout=20, send_flow_rem reset_counts priority=200,ip,nw_dst=10.0.1.10 actions=set_field:10.0.2.200->ip_dst,goto_table:2');
  });

  it('prints matches and actions of the hand-tested rule set', () => {
    expect(OF.formatMatch(REWRITE_FLOW.match, REWRITE_FLOW.priority)).to.equal('priority=210,ip,in_port=2,nw_dst=10.0.1.10');
    expect(OF.formatInstructions(REWRITE_FLOW.instructions))
      .to.equal('set_field:10.0.2.200->ip_dst,set_field:02:00:00:00:01:01->eth_dst,set_field:02:00:00:00:01:0a->eth_src,IN_PORT');
    expect(OF.formatMatch(ARP_RESPONDER.match, ARP_RESPONDER.priority)).to.equal('priority=310,arp,arp_tpa=10.0.1.10,arp_op=1');
    expect(OF.formatInstructions(ARP_RESPONDER.instructions)).to.match(/^move:NXM_OF_ETH_SRC\[\]->NXM_OF_ETH_DST\[\],set_field:02:00:00:00:01:0a->eth_src,set_field:2->arp_op,/);
  });

  it('prints masks the OVS way: CIDR lengths, masked values, dropped all-zero masks', () => {
    expect(OF.formatMatch({ eth_type: 0x0800, ipv4_dst: ['10.0.1.77', '255.255.255.0'] })).to.equal('ip,nw_dst=10.0.1.0/24');
    expect(OF.formatMatch({ eth_type: 0x0800, ipv4_src: ['10.0.0.0', '255.0.255.0'] })).to.equal('ip,nw_src=10.0.0.0/255.0.255.0');
    expect(OF.formatMatch({ eth_type: 0x0800, ipv4_src: ['10.0.0.1', '0.0.0.0'] })).to.equal('ip');
    expect(OF.formatMatch({ eth_src: ['02:00:00:00:00:01', 'ff:ff:ff:00:00:00'] })).to.equal('dl_src=02:00:00:00:00:00/ff:ff:ff:00:00:00');
    expect(OF.formatMatch({ eth_type: 0x86dd, ipv6_dst: ['2001:db8::1', 'ffff:ffff::'] })).to.equal('ipv6,ipv6_dst=2001:db8::/32');
    expect(OF.formatMatch({ eth_type: 0x0800, ip_proto: 6, tcp_dst: [0x1000, 0xf000] })).to.equal('tcp,tp_dst=0x1000/0xf000');
  });

  it('prints VLAN matches as OVS folds them into the TCI', () => {
    expect(OF.formatMatch({ vlan_vid: OF.OFPVID_PRESENT | 5 })).to.equal('dl_vlan=5');
    expect(OF.formatMatch({ vlan_vid: OF.OFPVID_NONE })).to.equal('vlan_tci=0x0000/0x1fff');
    expect(OF.formatMatch({ vlan_vid: [OF.OFPVID_PRESENT, OF.OFPVID_PRESENT] })).to.equal('vlan_tci=0x1000/0x1000');
    expect(OF.formatMatch({ vlan_vid: OF.OFPVID_PRESENT | 5, vlan_pcp: 3 })).to.equal('dl_vlan=5,dl_vlan_pcp=3');
  });

  it('prints durations as ofp_print_duration does', () => {
    expect(OF.formatDuration(3, 0)).to.equal('3s');
    expect(OF.formatDuration(1, 500_000_000)).to.equal('1.500s');
    expect(OF.formatDuration(0, 44_000_000)).to.equal('0.044s');
    expect(OF.formatDuration(3, 5)).to.equal('3.000000005s');
    expect(OF.formatDuration(3, 123_400)).to.equal('3.0001234s');
  });

  it('prints reserved ports by name and empty action lists as drop', () => {
    expect(OF.formatActions([OF.outputPort(OF.OFPP_IN_PORT), OF.outputPort(OF.OFPP_NORMAL), OF.outputPort(OF.OFPP_CONTROLLER), OF.outputPort(7)]))
      .to.equal('IN_PORT,NORMAL,CONTROLLER:65535,output:7');
    expect(OF.formatInstructions([])).to.equal('drop');
    expect(OF.formatInstructions([OF.applyActions()])).to.equal('drop');
    expect(OF.formatMatch({ in_port: OF.OFPP_LOCAL })).to.equal('in_port=LOCAL');
  });
});

describe('address text', () => {
  const v6 = (text: string) => {
    const b = Buffer.alloc(16);
    writeIpv6(b, 0, text);
    return readIpv6(b, 0);
  };
  it('prints IPv6 in RFC 5952 form with glibc inet_ntop embedded IPv4', () => {
    expect(v6('0:0:0:0:0:0:0:0')).to.equal('::');
    expect(v6('0:0:0:0:0:0:0:1')).to.equal('::1');
    expect(v6('2001:0DB8:0:0:0:0:0:1')).to.equal('2001:db8::1');
    expect(v6('1:0:0:0:0:0:0:0')).to.equal('1::');
    expect(v6('fe80:0:0:1:0:0:0:1')).to.equal('fe80:0:0:1::1');
    expect(v6('2001:db8:0:1:1:1:1:1')).to.equal('2001:db8:0:1:1:1:1:1');
    expect(v6('::ffff:10.0.1.10')).to.equal('::ffff:10.0.1.10');
    expect(v6('::10.0.1.10')).to.equal('::10.0.1.10');
  });
  it('round-trips MACs and refuses malformed addresses', () => {
    const b = Buffer.alloc(6);
    writeMac(b, 0, '02:AB:cd:00:01:0A');
    expect(readMac(b, 0)).to.equal('02:ab:cd:00:01:0a');
    expect(() => writeMac(b, 0, '02:ab:cd:00:01:0g')).to.throw(TypeError);
    expect(parseIpv4('10.0.1.10')).to.equal(0x0a00010a);
    for (const bad of ['10.0.1', '10.0.1.256', '10..1.1', '1.2.3.4.5', 'a.b.c.d', '']) expect(parseIpv4(bad), bad).to.equal(-1);
    expect(() => writeIpv6(Buffer.alloc(16), 0, '1::2::3')).to.throw(TypeError);
  });
});
