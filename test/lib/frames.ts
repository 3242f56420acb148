// Frames as header records (what FakeFlowTable and FakeNetwork speak) and as bytes (what a
// packet-in carries and the runtime parses), both ways. A frame's `tag` travels in its payload,
// so a test can follow one packet through the controller and back.

import {
  buildArpFrame, buildEthernet, buildIpv4, buildUdp, ETH_TYPE_ARP, ETH_TYPE_IPV4, ETH_TYPE_RARP, IP_PROTO_UDP, parsePacket,
} from '../../controller/packet/index.js';
import type { Headers } from './fake-flow-table.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeFrame(h: Headers): Uint8Array {
  const src = h.eth_src ?? '00:00:00:00:00:00';
  const dst = h.eth_dst ?? 'ff:ff:ff:ff:ff:ff';
  const type = h.eth_type ?? 0;
  if (type === ETH_TYPE_ARP || type === ETH_TYPE_RARP) {
    return buildArpFrame({
      ethDst: dst, ethSrc: src, op: h.arp_op ?? 1,
      sha: h.arp_sha ?? src, spa: h.arp_spa ?? '0.0.0.0', tha: h.arp_tha ?? '00:00:00:00:00:00', tpa: h.arp_tpa ?? '0.0.0.0',
    });
  }
  const payload = encoder.encode(h.tag ?? '');
  if (type === ETH_TYPE_IPV4) {
    const ipSrc = h.ipv4_src ?? '0.0.0.0';
    const ipDst = h.ipv4_dst ?? '0.0.0.0';
    const udp = buildUdp({ src: ipSrc, dst: ipDst, srcPort: 4000, dstPort: 5000, payload });
    return buildEthernet({ dst, src, ethertype: ETH_TYPE_IPV4, payload: buildIpv4({ src: ipSrc, dst: ipDst, protocol: IP_PROTO_UDP, ttl: h.ip_ttl ?? 64, payload: udp }) });
  }
  return buildEthernet({ dst, src, ethertype: type, payload });
}

export function decodeFrame(bytes: Uint8Array): Headers {
  const parsed = parsePacket(bytes);
  if (!parsed.ok) throw new Error(`undecodable test frame: ${parsed.error.reason}`);
  const p = parsed.value;
  const base: Headers = { eth_src: p.eth.src, eth_dst: p.eth.dst, eth_type: p.eth.ethertype };
  switch (p.kind) {
    case 'arp':
    case 'rarp':
      return { ...base, arp_op: p.arp.op, arp_sha: p.arp.sha, arp_spa: p.arp.spa, arp_tha: p.arp.tha, arp_tpa: p.arp.tpa };
    case 'ipv4': {
      const udp = p.l4?.protocol === 'udp' ? p.l4 : undefined;
      const tag = udp === undefined ? undefined : decoder.decode(udp.payload);
      return { ...base, ipv4_src: p.ipv4.src, ipv4_dst: p.ipv4.dst, ip_proto: p.ipv4.protocol, ip_ttl: p.ipv4.ttl, ...(tag ? { tag } : {}) };
    }
    default: {
      const tag = decoder.decode(p.eth.payload).replace(/\0+$/, '');
      return { ...base, ...(tag ? { tag } : {}) };
    }
  }
}
