// The first step of every packet-in: what kind of event is it? Pure: the message and the probe
// MAC in, a tag out. The runtime then hands each kind to the module that owns it.

import type { Mac, PacketIn } from '../openflow/index.js';
import type { Ipv4 } from '../packet/address.js';
import { parsePacket, type Packet } from '../packet/index.js';
import { classifyCookie, REINJECTED_MARK, TABLE_DST_REWRITE, TABLE_L2_FORWARD, TABLE_SRC_REWRITE } from '../pipeline/index.js';

const ARP_REPLY = 2;

export type Classified =
  /** No ingress port: nothing we sent a rule for (a PACKET_OUT of someone else's, say). */
  | { readonly kind: 'no-port' }
  | { readonly kind: 'malformed'; readonly inPort: number; readonly reason: string }
  /** A frame we re-injected came back: a loop in the making. Counted and dropped, never re-injected. */
  | { readonly kind: 'looped'; readonly inPort: number }
  /** An answer to one of our ARP probes: the endpoint is at this attachment. */
  | { readonly kind: 'probe-reply'; readonly inPort: number; readonly mac: Mac; readonly ip: Ipv4; readonly packet: Packet }
  /** On-demand mode: traffic from the router with a locator source this edge has no rule for. */
  | { readonly kind: 'locator-miss'; readonly inPort: number; readonly source: Ipv4 }
  /** A frame for a stopping VM, sent by its buffer rule (a binding's rule in table 2 or 3). */
  | { readonly kind: 'buffered'; readonly inPort: number; readonly bindingId: number }
  | { readonly kind: 'frame'; readonly inPort: number; readonly packet: Packet };

export function classifyPacketIn(message: PacketIn, probeMac: Mac): Classified {
  const inPort = message.match.in_port;
  if (typeof inPort !== 'number') return { kind: 'no-port' };
  if (message.match.metadata === REINJECTED_MARK) return { kind: 'looped', inPort };
  if (message.tableId === TABLE_DST_REWRITE || message.tableId === TABLE_L2_FORWARD) {
    const owner = classifyCookie(message.cookie);
    if (owner.kind === 'binding') return { kind: 'buffered', inPort, bindingId: owner.bindingId };
  }
  const parsed = parsePacket(message.data);
  if (!parsed.ok) return { kind: 'malformed', inPort, reason: parsed.error.reason };
  const packet = parsed.value;
  if (packet.kind === 'arp' && packet.eth.dst === probeMac) {
    return isProbeAnswer(packet, probeMac) ? { kind: 'probe-reply', inPort, mac: packet.arp.sha, ip: packet.arp.spa, packet } : { kind: 'malformed', inPort, reason: 'ARP request to the probe MAC' };
  }
  if (message.tableId === TABLE_SRC_REWRITE && packet.kind === 'ipv4') return { kind: 'locator-miss', inPort, source: packet.ipv4.src };
  return { kind: 'frame', inPort, packet };
}

/** An ARP reply to the controller's probe MAC: it answers one of our probes, and goes no further. */
export function isProbeAnswer(packet: Packet, probeMac: Mac): packet is Extract<Packet, { kind: 'arp' }> {
  return packet.kind === 'arp' && packet.eth.dst === probeMac && packet.arp.op === ARP_REPLY;
}
