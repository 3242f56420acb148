import { expect } from 'chai';
import { sightingFromPacket } from '../../../controller/mobility/index.js';
import {
  buildArpReply, buildArpRequest, buildEthernet, buildGratuitousArp, buildIcmp, buildIpv4, buildRarpAnnounce,
  ETH_TYPE_IPV4, IP_PROTO_ICMP, parsePacket,
} from '../../../controller/packet/index.js';

const M = '02:00:00:00:01:0a';
const ipv4 = (src: string, ethSrc = M) => buildEthernet({
  dst: '02:00:00:00:01:01', src: ethSrc, ethertype: ETH_TYPE_IPV4,
  payload: buildIpv4({ src, dst: '10.0.1.1', protocol: IP_PROTO_ICMP, payload: buildIcmp({ type: 8, code: 0 }) }),
});

describe('mobility/sighting', () => {
  const table: { name: string; frame: Uint8Array; want: Record<string, unknown> | undefined }[] = [
    { name: 'RARP announce -> rarp, MAC only', frame: buildRarpAnnounce(M), want: { kind: 'rarp', mac: M } },
    { name: 'gratuitous ARP -> garp with the IP', frame: buildGratuitousArp({ mac: M, ip: '10.0.1.10' }), want: { kind: 'garp', mac: M, ip: '10.0.1.10' } },
    { name: 'ARP request -> arp with the sender IP', frame: buildArpRequest({ senderMac: M, senderIp: '10.0.1.10', targetIp: '10.0.1.1' }), want: { kind: 'arp', mac: M, ip: '10.0.1.10' } },
    { name: 'ARP reply -> arp with the sender IP', frame: buildArpReply({ mac: M, ip: '10.0.1.10', requesterMac: '02:00:00:00:01:01', requesterIp: '10.0.1.1' }), want: { kind: 'arp', mac: M, ip: '10.0.1.10' } },
    { name: 'ARP probe (spa 0.0.0.0) -> arp without IP', frame: buildArpRequest({ senderMac: M, senderIp: '0.0.0.0', targetIp: '10.0.1.10' }), want: { kind: 'arp', mac: M } },
    { name: 'IPv4 -> ipv4 with the source', frame: ipv4('10.0.1.10'), want: { kind: 'ipv4', mac: M, ip: '10.0.1.10' } },
    { name: 'DHCP-style 0.0.0.0 source -> no IP', frame: ipv4('0.0.0.0'), want: { kind: 'ipv4', mac: M } },
    { name: 'multicast source MAC -> nothing', frame: ipv4('10.0.1.10', '01:00:5e:00:00:01'), want: undefined },
  ];
  for (const c of table) {
    it(c.name, () => {
      const p = parsePacket(c.frame);
      if (!p.ok) throw new Error(p.error.reason);
      const s = sightingFromPacket(p.value, 1n, 3, 42);
      if (c.want === undefined) { expect(s).to.equal(undefined); return; }
      expect(s).to.deep.equal({ dpid: 1n, port: 3, now: 42, ...c.want });
    });
  }
});
