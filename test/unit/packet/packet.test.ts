import { expect } from 'chai';
import {
  ARP_OP_REPLY, ARP_OP_REQUEST, buildArpReply, buildArpRequest, buildEthernet, buildGratuitousArp, buildIcmp,
  buildIpv4, buildRarpAnnounce, buildTcp, buildUdp, ETH_TYPE_IPV4, ETH_TYPE_VLAN, internetChecksum, IP_PROTO_ICMP,
  IP_PROTO_TCP, IP_PROTO_UDP, packetFields, parseIpv4, parsePacket, RARP_OP_REQUEST, TCP_SYN, type Packet,
} from '../../../controller/packet/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function parsed(bytes: Uint8Array): Packet {
  const r = parsePacket(bytes);
  if (!r.ok) throw new Error(`unexpected parse error: ${r.error.layer}: ${r.error.reason}`);
  return r.value;
}

describe('packet', () => {
  describe('hand-decoded vectors', () => {
    // An ARP request as Linux sends it: 10.0.1.20 asks who has 10.0.1.1.
    const arpRequest = hex(
      'ffffffffffff 020000000114 0806' +
      '0001 0800 06 04 0001 020000000114 0a000114 000000000000 0a000101' + '00'.repeat(18),
    );
    // RFC 791 example header from the literature: checksum 0xb861.
    const ipHeader = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

    it('decodes an ARP request field by field', () => {
      const p = parsed(arpRequest);
      expect(p.kind).to.equal('arp');
      expect(packetFields(p)).to.deep.equal({
        eth_dst: 'ff:ff:ff:ff:ff:ff', eth_src: '02:00:00:00:01:14', eth_type: 0x0806,
        arp_op: 1, arp_spa: '10.0.1.20', arp_tpa: '10.0.1.1', arp_sha: '02:00:00:00:01:14', arp_tha: '00:00:00:00:00:00',
      });
    });

    it('builds the same request byte for byte', () => {
      expect(Buffer.from(buildArpRequest({ senderMac: '02:00:00:00:01:14', senderIp: '10.0.1.20', targetIp: '10.0.1.1' })))
        .to.deep.equal(Buffer.from(arpRequest));
    });

    it('verifies a known IPv4 header checksum and flags a wrong one', () => {
      const good = parseIpv4(Uint8Array.from([...ipHeader, ...new Uint8Array(0x73 - 20)]));
      expect(good.ok && good.value.checksumValid).to.equal(true);
      expect(good.ok && good.value.checksum).to.equal(0xb861);
      const bad = Uint8Array.from([...ipHeader, ...new Uint8Array(0x73 - 20)]);
      bad[11] = 0x62;
      const r = parseIpv4(bad);
      expect(r.ok && r.value.checksumValid).to.equal(false);
    });

    it('computes the RFC 1071 checksum of an odd-length buffer', () => {
      // 0x0001 + 0xf203 + 0xf4f5 + 0xf6f7 = 0x2ddf0 -> 0xddf2 -> ~ = 0x220d (RFC 1071 section 3 example).
      expect(internetChecksum(hex('0001f203f4f5f6f7'))).to.equal(0x220d);
      expect(internetChecksum(hex('01'))).to.equal(~0x0100 & 0xffff);
    });
  });

  describe('builders round-trip through the parser', () => {
    const vm = { mac: '02:00:00:00:01:0a', ip: '10.0.1.10' };
    const cases: { name: string; bytes: Uint8Array; expect: (p: Packet) => void }[] = [
      {
        name: 'ARP reply',
        bytes: buildArpReply({ mac: vm.mac, ip: vm.ip, requesterMac: '02:00:00:00:01:01', requesterIp: '10.0.1.1' }),
        expect: (p) => {
          expect(p.kind).to.equal('arp');
          expect(packetFields(p)).to.include({
            eth_dst: '02:00:00:00:01:01', eth_src: vm.mac, arp_op: ARP_OP_REPLY,
            arp_sha: vm.mac, arp_spa: vm.ip, arp_tha: '02:00:00:00:01:01', arp_tpa: '10.0.1.1',
          });
        },
      },
      {
        name: 'gratuitous ARP (spa = tpa, broadcast)',
        bytes: buildGratuitousArp(vm),
        expect: (p) => {
          expect(p.kind).to.equal('arp');
          expect(packetFields(p)).to.include({ eth_dst: 'ff:ff:ff:ff:ff:ff', arp_op: ARP_OP_REQUEST, arp_spa: vm.ip, arp_tpa: vm.ip });
        },
      },
      {
        name: 'RARP announce (ethertype 0x8035, op 3, only the MAC)',
        bytes: buildRarpAnnounce(vm.mac),
        expect: (p) => {
          expect(p.kind).to.equal('rarp');
          expect(packetFields(p)).to.include({
            eth_type: 0x8035, eth_src: vm.mac, arp_op: RARP_OP_REQUEST, arp_sha: vm.mac, arp_tha: vm.mac, arp_spa: '0.0.0.0',
          });
        },
      },
      {
        name: 'UDP over IPv4 with ports and a valid checksum',
        bytes: buildEthernet({
          dst: '02:00:00:00:01:01', src: vm.mac, ethertype: ETH_TYPE_IPV4,
          payload: buildIpv4({ src: vm.ip, dst: '10.0.2.20', protocol: IP_PROTO_UDP, ttl: 17, payload: buildUdp({ src: vm.ip, dst: '10.0.2.20', srcPort: 5000, dstPort: 53, payload: hex('abcd') }) }),
        }),
        expect: (p) => {
          expect(packetFields(p)).to.deep.equal({
            eth_dst: '02:00:00:00:01:01', eth_src: vm.mac, eth_type: 0x0800, ip_dscp: 0, ip_ecn: 0, ip_proto: 17,
            ipv4_src: vm.ip, ipv4_dst: '10.0.2.20', udp_src: 5000, udp_dst: 53,
          });
          if (p.kind !== 'ipv4') throw new Error('kind');
          expect(p.ipv4.ttl).to.equal(17);
          expect(p.ipv4.checksumValid).to.equal(true);
          // The UDP checksum over the pseudo-header verifies to zero.
          const sum = internetChecksum(p.ipv4.payload, pseudo(vm.ip, '10.0.2.20', 17, p.ipv4.payload.length));
          expect(sum).to.equal(0);
        },
      },
      {
        name: 'TCP SYN with ports and flags',
        bytes: buildEthernet({
          dst: '02:00:00:00:01:01', src: vm.mac, ethertype: ETH_TYPE_IPV4,
          payload: buildIpv4({ src: vm.ip, dst: '10.0.3.30', protocol: IP_PROTO_TCP, payload: buildTcp({ src: vm.ip, dst: '10.0.3.30', srcPort: 40000, dstPort: 80, seq: 7, flags: TCP_SYN }) }),
        }),
        expect: (p) => {
          expect(packetFields(p)).to.include({ ip_proto: 6, tcp_src: 40000, tcp_dst: 80 });
          if (p.kind !== 'ipv4' || p.l4?.protocol !== 'tcp') throw new Error('kind');
          expect(p.l4.flags).to.equal(TCP_SYN);
          expect(p.l4.seq).to.equal(7);
          expect(internetChecksum(p.ipv4.payload, pseudo(vm.ip, '10.0.3.30', 6, p.ipv4.payload.length))).to.equal(0);
        },
      },
      {
        name: 'ICMP echo behind an 802.1Q tag',
        bytes: buildEthernet({
          dst: '02:00:00:00:01:01', src: vm.mac, ethertype: ETH_TYPE_IPV4, vlans: [{ tpid: ETH_TYPE_VLAN, pcp: 5, vid: 42 }],
          payload: buildIpv4({ src: vm.ip, dst: '10.0.1.1', protocol: IP_PROTO_ICMP, payload: buildIcmp({ type: 8, code: 0 }) }),
        }),
        expect: (p) => {
          expect(packetFields(p)).to.include({ eth_type: 0x0800, vlan_vid: 42, vlan_pcp: 5, icmpv4_type: 8, icmpv4_code: 0, ipv4_dst: '10.0.1.1' });
        },
      },
    ];
    for (const c of cases) it(c.name, () => c.expect(parsed(c.bytes)));

    it('pads short frames to 60 bytes and strips the padding from the IPv4 payload', () => {
      const frame = buildEthernet({
        dst: '02:00:00:00:01:01', src: vm.mac, ethertype: ETH_TYPE_IPV4,
        payload: buildIpv4({ src: vm.ip, dst: '10.0.1.1', protocol: IP_PROTO_ICMP, payload: buildIcmp({ type: 8, code: 0 }) }),
      });
      expect(frame.length).to.equal(60);
      const p = parsed(frame);
      if (p.kind !== 'ipv4') throw new Error('kind');
      expect(p.ipv4.payload.length).to.equal(8);
      expect(p.ipv4.truncated).to.equal(false);
    });

    it('does not decode a transport header in a later fragment', () => {
      const ip = buildIpv4({ src: vm.ip, dst: '10.0.1.1', protocol: IP_PROTO_TCP, payload: new Uint8Array(3) });
      ip[6] = 0; ip[7] = 10; // fragment offset 10, checksum now wrong but still parseable
      const p = parsed(buildEthernet({ dst: '02:00:00:00:01:01', src: vm.mac, ethertype: ETH_TYPE_IPV4, payload: ip }));
      if (p.kind !== 'ipv4') throw new Error('kind');
      expect(p.l4).to.equal(undefined);
      expect(p.ipv4.fragmentOffset).to.equal(10);
    });
  });

  describe('malformed frames return typed errors and never throw', () => {
    const table: { name: string; bytes: Uint8Array; layer: string }[] = [
      { name: 'empty', bytes: new Uint8Array(0), layer: 'ethernet' },
      { name: '13 bytes', bytes: new Uint8Array(13), layer: 'ethernet' },
      { name: '802.3 length instead of ethertype', bytes: hex('ffffffffffff 020000000114 0040' + '00'.repeat(46)), layer: 'ethernet' },
      { name: 'VLAN tag cut short', bytes: hex('ffffffffffff 020000000114 8100 00'), layer: 'vlan' },
      { name: 'three VLAN tags', bytes: hex('ffffffffffff 020000000114 8100 0001 8100 0002 8100 0003 0800' + '00'.repeat(20)), layer: 'vlan' },
      { name: 'ARP cut at 20 bytes', bytes: hex('ffffffffffff 020000000114 0806' + '0001080006040001' + '00'.repeat(12)), layer: 'arp' },
      { name: 'ARP for IPv6', bytes: hex('ffffffffffff 020000000114 0806 0001 86dd 0604 0001' + '00'.repeat(20)), layer: 'arp' },
      { name: 'ARP op 3 (RARP op on ARP ethertype)', bytes: hex('ffffffffffff 020000000114 0806 0001 0800 0604 0003' + '00'.repeat(20)), layer: 'arp' },
      { name: 'RARP op 1', bytes: hex('ffffffffffff 020000000114 8035 0001 0800 0604 0001' + '00'.repeat(20)), layer: 'arp' },
      { name: 'IPv6 version nibble on IPv4 ethertype', bytes: hex('ffffffffffff 020000000114 0800 6500' + '00'.repeat(18)), layer: 'ipv4' },
      { name: 'IHL 4', bytes: hex('ffffffffffff 020000000114 0800 4400 0014' + '00'.repeat(16)), layer: 'ipv4' },
      { name: 'IHL 15 with no options', bytes: hex('ffffffffffff 020000000114 0800 4f00 0014' + '00'.repeat(16)), layer: 'ipv4' },
      { name: 'total length below header', bytes: hex('ffffffffffff 020000000114 0800 4500 0010' + '00'.repeat(16)), layer: 'ipv4' },
      { name: 'TCP header cut', bytes: hex('ffffffffffff 020000000114 0800 4500 0028 00000000 4006 0000 0a000101 0a000102 1f90'), layer: 'tcp' },
      { name: 'UDP length 4', bytes: hex('ffffffffffff 020000000114 0800 4500 001c 00000000 4011 0000 0a000101 0a000102 0035 0035 0004 0000'), layer: 'udp' },
      { name: 'ICMP of 2 bytes', bytes: hex('ffffffffffff 020000000114 0800 4500 0016 00000000 4001 0000 0a000101 0a000102 0800'), layer: 'icmp' },
    ];
    for (const c of table) {
      it(c.name, () => {
        const r = parsePacket(c.bytes);
        expect(r.ok).to.equal(false);
        if (!r.ok) expect(r.error.layer).to.equal(c.layer);
      });
    }

    it('every truncation of valid frames parses or fails cleanly', () => {
      const frames = [
        buildArpRequest({ senderMac: '02:00:00:00:01:14', senderIp: '10.0.1.20', targetIp: '10.0.1.1' }),
        buildRarpAnnounce('02:00:00:00:01:0a'),
        buildEthernet({
          dst: '02:00:00:00:01:01', src: '02:00:00:00:01:0a', ethertype: ETH_TYPE_IPV4, vlans: [{ tpid: ETH_TYPE_VLAN, pcp: 0, vid: 7 }],
          payload: buildIpv4({ src: '10.0.1.10', dst: '10.0.2.20', protocol: IP_PROTO_TCP, payload: buildTcp({ src: '10.0.1.10', dst: '10.0.2.20', srcPort: 1, dstPort: 2, payload: new Uint8Array(30) }) }),
        }),
      ];
      let failures = 0;
      for (const frame of frames) {
        for (let n = 0; n <= frame.length; n++) {
          const r = parsePacket(frame.subarray(0, n));
          if (!r.ok) failures++;
        }
      }
      expect(failures).to.be.greaterThan(50);
    });
  });
});

function pseudo(src: string, dst: string, proto: number, len: number): number {
  const words = [...src.split('.'), ...dst.split('.')].map(Number);
  let sum = proto + len;
  for (let i = 0; i < 8; i += 2) sum += (words[i]! << 8) | words[i + 1]!;
  return sum;
}
