// A sighting: "this MAC (and maybe this IP) showed up at this switch port", extracted from a
// packet-in. It is the only input move detection needs from the data plane.

import { ZERO_IPV4, type Ipv4, type Mac } from '../packet/address.js';
import { isIdentityMac } from './binding.js';
import { RARP_OP_REQUEST } from '../packet/arp.js';
import type { Packet } from '../packet/packet.js';
import { ETH_TYPE_IPV6 } from '../packet/ethernet.js';

/**
 * arp: an ordinary ARP; garp: gratuitous (spa = tpa); rarp: a hypervisor's announce; ipv4: any
 * IPv4 packet; ipv6: any IPv6 frame (NDP, MLD, DHCPv6: what Linux sends first at link-up);
 * other: any other ethertype. ipv6 and other say only where a MAC is (no IPv4 identity).
 * signal: no frame; the hypervisor said where the VM goes (a loss-free move made ahead of its resume).
 */
export type SightingKind = 'arp' | 'garp' | 'rarp' | 'ipv4' | 'ipv6' | 'other' | 'signal';

export interface Sighting {
  readonly dpid: bigint;
  readonly port: number;
  readonly mac: Mac;
  /** Absent for RARP, ARP probes (spa 0.0.0.0), IPv6 and other frames: those tell only where the MAC is. */
  readonly ip?: Ipv4;
  readonly kind: SightingKind;
  readonly now: number;
}

/** The sighting a packet carries; undefined when it says nothing about an endpoint's place. */
export function sightingFromPacket(packet: Packet, dpid: bigint, port: number, now: number): Sighting | undefined {
  // Runs on every packet-in: plain literals, no spreads.
  if (!isIdentityMac(packet.eth.src)) return undefined;
  switch (packet.kind) {
    case 'rarp':
      // QEMU's announce: a reverse request whose sender MAC is the VM's.
      if (packet.arp.op !== RARP_OP_REQUEST || !isIdentityMac(packet.arp.sha)) return undefined;
      return { dpid, port, now, mac: packet.arp.sha, kind: 'rarp' };
    case 'arp': {
      const { sha, spa, tpa } = packet.arp;
      if (!isIdentityMac(sha)) return undefined;
      const kind = spa === tpa && spa !== ZERO_IPV4 ? 'garp' : 'arp';
      if (spa === ZERO_IPV4 || isUnusableSource(spa)) return { dpid, port, now, mac: sha, kind };
      return { dpid, port, now, mac: sha, kind, ip: spa };
    }
    case 'ipv4': {
      const src = packet.ipv4.src;
      if (src === ZERO_IPV4 || isUnusableSource(src)) return { dpid, port, now, mac: packet.eth.src, kind: 'ipv4' };
      return { dpid, port, now, mac: packet.eth.src, kind: 'ipv4', ip: src };
    }
    default:
      return { dpid, port, now, mac: packet.eth.src, kind: packet.eth.ethertype === ETH_TYPE_IPV6 ? 'ipv6' : 'other' };
  }
}

/** Multicast, broadcast and loopback addresses never identify an endpoint. */
function isUnusableSource(ip: Ipv4): boolean {
  const first = parseInt(ip, 10); // stops at the first dot
  return first === 127 || first >= 224;
}
