// A sighting: "this MAC (and maybe this IP) showed up at this switch port", extracted from a
// packet-in. It is the only input move detection needs from the data plane.

import { isMulticastMac, ZERO_IPV4, type Ipv4, type Mac } from '../packet/address.js';
import { RARP_OP_REQUEST } from '../packet/arp.js';
import type { Packet } from '../packet/packet.js';

/** arp: an ordinary ARP; garp: gratuitous (spa = tpa); rarp: a hypervisor's announce; ipv4: any IPv4 packet. */
export type SightingKind = 'arp' | 'garp' | 'rarp' | 'ipv4';

export interface Sighting {
  readonly dpid: bigint;
  readonly port: number;
  readonly mac: Mac;
  /** Absent for RARP and for ARP probes (spa 0.0.0.0). */
  readonly ip?: Ipv4;
  readonly kind: SightingKind;
  readonly now: number;
}

/** The sighting a packet carries; undefined when it says nothing about an endpoint's place. */
export function sightingFromPacket(packet: Packet, dpid: bigint, port: number, now: number): Sighting | undefined {
  if (isMulticastMac(packet.eth.src)) return undefined;
  const at = { dpid, port, now };
  switch (packet.kind) {
    case 'rarp':
      // QEMU's announce: a reverse request whose sender MAC is the VM's.
      if (packet.arp.op !== RARP_OP_REQUEST || isMulticastMac(packet.arp.sha)) return undefined;
      return { ...at, mac: packet.arp.sha, kind: 'rarp' };
    case 'arp': {
      const { sha, spa, tpa } = packet.arp;
      if (isMulticastMac(sha)) return undefined;
      const garp = spa === tpa && spa !== ZERO_IPV4;
      const ip = spa === ZERO_IPV4 || isUnusableSource(spa) ? undefined : spa;
      return { ...at, mac: sha, kind: garp ? 'garp' : 'arp', ...(ip === undefined ? {} : { ip }) };
    }
    case 'ipv4': {
      const src = packet.ipv4.src;
      if (src === ZERO_IPV4 || isUnusableSource(src)) return { ...at, mac: packet.eth.src, kind: 'ipv4' };
      return { ...at, mac: packet.eth.src, ip: src, kind: 'ipv4' };
    }
    default:
      return undefined;
  }
}

/** Multicast, broadcast and loopback addresses never identify an endpoint. */
function isUnusableSource(ip: Ipv4): boolean {
  const first = Number(ip.split('.')[0]);
  return first === 127 || first >= 224;
}
