// A whole frame decoded layer by layer, and its header fields under OXM names (what a flow
// table would match on), so that packet-ins, tests and the fake flow table speak one language.

import type { OxmFieldValues } from '../openflow/types.js';
import { parseArp, type ArpPacket } from './arp.js';
import { ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_RARP, parseEthernet, type EthernetFrame } from './ethernet.js';
import { IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, parseIpv4, type Ipv4Header } from './ipv4.js';
import { ok, type ParseResult } from './result.js';
import { parseIcmp, parseTcp, parseUdp, type TransportHeader } from './transport.js';

export type Packet =
  | { readonly kind: 'arp'; readonly eth: EthernetFrame; readonly arp: ArpPacket }
  | { readonly kind: 'rarp'; readonly eth: EthernetFrame; readonly arp: ArpPacket }
  | { readonly kind: 'ipv4'; readonly eth: EthernetFrame; readonly ipv4: Ipv4Header; readonly l4?: TransportHeader }
  /** Any other ethertype: only the Ethernet header is decoded. */
  | { readonly kind: 'other'; readonly eth: EthernetFrame };

export function parsePacket(bytes: Uint8Array): ParseResult<Packet> {
  const eth = parseEthernet(bytes);
  if (!eth.ok) return eth;
  const frame = eth.value;
  switch (frame.ethertype) {
    case ETH_TYPE_ARP:
    case ETH_TYPE_RARP: {
      const rarp = frame.ethertype === ETH_TYPE_RARP;
      const arp = parseArp(frame.payload, rarp);
      return arp.ok ? ok({ kind: rarp ? 'rarp' : 'arp', eth: frame, arp: arp.value }) : arp;
    }
    case ETH_TYPE_IPV4: {
      const ip = parseIpv4(frame.payload);
      if (!ip.ok) return ip;
      const l4 = parseTransport(ip.value);
      if (l4 !== undefined && !l4.ok) return l4;
      return ok({ kind: 'ipv4', eth: frame, ipv4: ip.value, ...(l4 === undefined ? {} : { l4: l4.value }) });
    }
    default:
      return ok({ kind: 'other', eth: frame });
  }
}

/** Later fragments carry no transport header; unknown protocols are left undecoded. */
function parseTransport(ip: Ipv4Header): ParseResult<TransportHeader> | undefined {
  if (ip.fragmentOffset !== 0) return undefined;
  switch (ip.protocol) {
    case IP_PROTO_TCP: return parseTcp(ip.payload);
    case IP_PROTO_UDP: return parseUdp(ip.payload);
    case IP_PROTO_ICMP: return parseIcmp(ip.payload);
    default: return undefined;
  }
}

/** Header fields of a packet under their OXM names (ARP fields for RARP too, as OVS does). */
export type PacketFields = Partial<OxmFieldValues>;

export function packetFields(packet: Packet): PacketFields {
  const eth = packet.eth;
  const base: PacketFields = {
    eth_dst: eth.dst,
    eth_src: eth.src,
    eth_type: eth.ethertype,
    ...(eth.vlans[0] === undefined ? {} : { vlan_vid: eth.vlans[0].vid, vlan_pcp: eth.vlans[0].pcp }),
  };
  switch (packet.kind) {
    case 'arp':
    case 'rarp': {
      const a = packet.arp;
      return { ...base, arp_op: a.op, arp_spa: a.spa, arp_tpa: a.tpa, arp_sha: a.sha, arp_tha: a.tha };
    }
    case 'ipv4':
      return { ...base, ...ipv4Fields(packet.ipv4), ...transportFields(packet.l4) };
    default:
      return base;
  }
}

function ipv4Fields(ip: Ipv4Header): PacketFields {
  return { ip_dscp: ip.dscp, ip_ecn: ip.ecn, ip_proto: ip.protocol, ipv4_src: ip.src, ipv4_dst: ip.dst };
}

function transportFields(l4: TransportHeader | undefined): PacketFields {
  switch (l4?.protocol) {
    case 'tcp': return { tcp_src: l4.srcPort, tcp_dst: l4.dstPort };
    case 'udp': return { udp_src: l4.srcPort, udp_dst: l4.dstPort };
    case 'icmp': return { icmpv4_type: l4.type, icmpv4_code: l4.code };
    default: return {};
  }
}
