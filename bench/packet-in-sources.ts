// What an emulated switch sends as packet-ins. Two sources:
//   - cycle: a fixed set of MACs (1,000 per switch by default), each always on the same port,
//     encoded once and sent round-robin: the controller soon knows every MAC (steady state).
//   - random: cbench's worst case. Every packet-in carries a source MAC drawn from a pool of
//     100,000 random unicast MACs per switch, in a shuffled order, so the same MAC comes back
//     only after the whole pool went by: to the controller every packet-in is a new host.
// Either way a frame index (0 .. size-1) sits in the low 3 bytes of the source MAC, which is how
// a PACKET_OUT is matched to the packet-in it answers (packetOutFrameIndex).

import {
  encodeMessage, OFP_NO_BUFFER, OFPR_NO_MATCH, type Mac,
} from '../controller/openflow/index.js';
import { buildArpRequest, buildEthernet, buildIpv4, buildUdp, ETH_TYPE_IPV4, IP_PROTO_UDP } from '../controller/packet/index.js';

export type SourceMacs = 'cycle' | 'random';

export interface PacketInSource {
  /** Frame indexes run over 0 .. size-1. */
  readonly size: number;
  /** The next `n` packet-ins in one buffer; `sent(index)` is called for each. */
  take(n: number, sent: (index: number) => void): Buffer;
}

/** Pool of random source MACs per switch in the random mode (cbench's default). */
export const RANDOM_POOL_SIZE = 100_000;

export function packetInSource(kind: SourceMacs, dpid: bigint, macs: number, ports: number): PacketInSource {
  return kind === 'cycle' ? new CycleSource(packetInFrames(dpid, macs, ports)) : new RandomSource(dpid, macs, ports);
}

/** 02:DD:DD:II:II:II, locally administered, unique per (switch, index). */
export function macOf(dpid: bigint, index: number): Mac {
  const d = Number(dpid & 0xffffn);
  const bytes = [0x02, d >> 8, d & 0xff, (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** 172.16-31.x.y: outside every managed subnet, unique per (switch, index). */
export function ipOf(dpid: bigint, index: number): string {
  return `172.${16 + Number(dpid % 16n)}.${(index >> 8) & 0xff}.${(index & 0xff) || 1}`;
}

/**
 * The packet-ins one switch cycles through, encoded once: even indexes an ARP request, odd an
 * IPv4/UDP datagram to the previous MAC (a destination the controller has learned).
 */
export function packetInFrames(dpid: bigint, macs: number, ports: number): Buffer[] {
  return Array.from({ length: macs }, (_, i) => {
    const prev = (i + macs - 1) % macs;
    const data = i % 2 === 0 ? arpFrame(macOf(dpid, i), ipOf(dpid, i), ipOf(dpid, prev)) : udpFrame(macOf(dpid, i), macOf(dpid, prev), ipOf(dpid, i), ipOf(dpid, prev), i);
    return packetIn(data, 1 + (i % ports));
  });
}

class CycleSource implements PacketInSource {
  private next = 0;
  constructor(private readonly frames: readonly Buffer[]) {}

  get size(): number { return this.frames.length; }

  take(n: number, sent: (index: number) => void): Buffer {
    const batch: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      batch.push(this.frames[this.next]!);
      sent(this.next);
      this.next = (this.next + 1) % this.frames.length;
    }
    return n === 1 ? batch[0]! : Buffer.concat(batch);
  }
}

// Offsets inside the Ethernet frame of a packet-in's data.
const ETH_DST = 0;
const ETH_SRC = 6;
const ARP_SHA = 22;
const ARP_SPA = 28;

/**
 * Random source MACs, cheap enough that the emulator stays far from its core's limit: one
 * template packet-in per (kind, port), copied and patched with the drawn MAC (and, for ARP, a
 * sender IP that follows the MAC, as a real host's would).
 */
class RandomSource implements PacketInSource {
  /** Bytes 0-2 of each pool MAC: random, unicast (I/G bit clear); bytes 3-5 are the index. */
  private readonly high: Uint8Array;
  /** The pool's indexes in the order they are drawn (a shuffle, drawn round and round). */
  private readonly order: Uint32Array;
  private readonly arpTemplates: Buffer[];
  private readonly udpTemplates: Buffer[];
  private readonly dataOffset: number;
  private drawn = 0;
  /** Per port, the MAC drawn last there: a datagram goes to one behind another port (a learning switch drops a frame back out of its input port). */
  private readonly lastOnPort: number[];

  constructor(private readonly dpid: bigint, readonly size: number, private readonly ports: number) {
    if (size > 0xffffff) throw new RangeError(`a pool of ${size} MACs does not fit the 3-byte frame index`);
    if (ports < 2 || size < ports) throw new RangeError('random source MACs need at least 2 ports and a MAC per port');
    this.lastOnPort = Array.from({ length: ports }, (_, p) => p);
    const random = xorshift32(Number(dpid & 0xffffffffn) ^ 0x9e3779b9);
    this.high = new Uint8Array(size * 3);
    for (let i = 0; i < this.high.length; i++) this.high[i] = random() & 0xff;
    for (let i = 0; i < size; i++) this.high[i * 3] = this.high[i * 3]! & 0xfe;
    this.order = Uint32Array.from({ length: size }, (_, i) => i);
    for (let i = size - 1; i > 0; i--) {
      const j = random() % (i + 1);
      [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
    }
    const ip = ipOf(dpid, 1);
    const peer = ipOf(dpid, 2);
    this.arpTemplates = Array.from({ length: ports }, (_, p) => packetIn(arpFrame(macOf(dpid, 0), ip, peer), p + 1));
    this.udpTemplates = Array.from({ length: ports }, (_, p) => packetIn(udpFrame(macOf(dpid, 0), macOf(dpid, 1), ip, peer, 0), p + 1));
    this.dataOffset = this.arpTemplates[0]!.length - 60; // the ARP frame is padded to 60 bytes
  }

  take(n: number, sent: (index: number) => void): Buffer {
    let bytes = 0;
    const kinds: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const arp = (this.drawn + i) % 2 === 0;
      kinds.push(arp);
      bytes += (arp ? this.arpTemplates[0]! : this.udpTemplates[0]!).length;
    }
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const index = this.order[this.drawn % this.size]!;
      this.drawn++;
      const port = index % this.ports;
      const template = kinds[i] ? this.arpTemplates[port]! : this.udpTemplates[port]!;
      template.copy(out, at);
      const data = at + this.dataOffset;
      this.writeMac(out, data + ETH_SRC, index);
      if (kinds[i]) {
        this.writeMac(out, data + ARP_SHA, index);
        out.writeUInt32BE(0xac100000 + ((Number(this.dpid % 16n)) << 16) + (index & 0xffff), data + ARP_SPA);
      } else {
        this.writeMac(out, data + ETH_DST, this.lastOnPort[(port + 1) % this.ports]!);
      }
      this.lastOnPort[port] = index;
      at += template.length;
      sent(index);
    }
    return out;
  }

  private writeMac(out: Buffer, at: number, index: number): void {
    out[at] = this.high[index * 3]!;
    out[at + 1] = this.high[index * 3 + 1]!;
    out[at + 2] = this.high[index * 3 + 2]!;
    out[at + 3] = (index >> 16) & 0xff;
    out[at + 4] = (index >> 8) & 0xff;
    out[at + 5] = index & 0xff;
  }
}

function arpFrame(src: Mac, srcIp: string, targetIp: string): Uint8Array {
  return buildArpRequest({ senderMac: src, senderIp: srcIp, targetIp });
}

function udpFrame(src: Mac, dst: Mac, srcIp: string, dstIp: string, i: number): Uint8Array {
  return buildEthernet({
    dst, src, ethertype: ETH_TYPE_IPV4,
    payload: buildIpv4({
      src: srcIp, dst: dstIp, protocol: IP_PROTO_UDP,
      payload: buildUdp({ src: srcIp, dst: dstIp, srcPort: 40000 + (i % 1000), dstPort: 5001, payload: new Uint8Array(18) }),
    }),
  });
}

function packetIn(data: Uint8Array, inPort: number): Buffer {
  return encodeMessage({
    type: 'PACKET_IN', xid: 0, bufferId: OFP_NO_BUFFER, totalLen: data.length, reason: OFPR_NO_MATCH, tableId: 0,
    cookie: 0xffffffffffffffffn, match: { in_port: inPort }, data,
  });
}

/** A small seeded generator: the same pool for the same dpid in every run. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}
