// FakeNetwork: edge switches (FakeFlowTable), hosts, and a model of the unmodified Linux router
// of the case study, wired by links. Frames are header records; delivery runs to completion
// through a FIFO queue. Hosts and the router resolve next hops with real ARP through the
// network (queueing packets until the answer arrives, as Linux does). A tiny controller model
// plays the L2 learner: it learns sources on table-miss packet-ins (not the MACs of bindings
// away from home: those wait for their gate) and re-injects the packet.

import type { Mac } from '../../../controller/openflow/index.js';
import { ipv4ToInt, maskInt } from '../../../controller/packet/address.js';
import { learnedDestination, learnedSource } from '../../../controller/pipeline/index.js';
import { FakeFlowTable, type Headers } from '../../lib/fake-flow-table.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;

interface Interface {
  readonly name: string;
  readonly mac: Mac;
  readonly ip: string;
  readonly prefixLength: number;
  readonly arp: Map<string, Mac>;
  /** Packets waiting for a next hop's MAC, by next-hop IP. */
  readonly waiting: Map<string, Headers[]>;
}

export interface Host extends Interface {
  readonly gateway: string;
  readonly inbox: Headers[];
}

export interface RouterIface extends Interface {}

type Endpoint = { kind: 'host'; host: Host } | { kind: 'router'; iface: RouterIface } | { kind: 'switch'; dpid: bigint; port: number };
type Delivery = { to: Endpoint; frame: Headers };

export interface PacketInRecord {
  readonly dpid: bigint;
  readonly port: number;
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly headers: Headers;
}

function iface(name: string, mac: Mac, cidr: string): Interface {
  const [ip = '', len = '24'] = cidr.split('/');
  return { name, mac, ip, prefixLength: Number(len), arp: new Map(), waiting: new Map() };
}

function onLink(i: Interface, ip: string): boolean {
  const mask = maskInt(i.prefixLength);
  return ((ipv4ToInt(ip) & mask) >>> 0) === ((ipv4ToInt(i.ip) & mask) >>> 0);
}

export class FakeNetwork {
  readonly switches = new Map<bigint, FakeFlowTable>();
  readonly hosts = new Map<string, Host>();
  readonly routerIfaces: RouterIface[] = [];
  readonly routerInbox: Headers[] = [];
  readonly packetIns: PacketInRecord[] = [];
  /** Every frame a host received (after its NIC filter), for invariants. */
  readonly received: { host: string; frame: Headers }[] = [];
  private readonly links = new Map<string, Endpoint>();
  private queue: Delivery[] = [];
  /** MACs the learner must not learn (bindings away from home: their gate is compiled). */
  awayMacs: () => ReadonlySet<Mac> = () => new Set();

  addSwitch(dpid: bigint): FakeFlowTable {
    const table = new FakeFlowTable(dpid);
    this.switches.set(dpid, table);
    return table;
  }

  addHost(name: string, mac: Mac, cidr: string, gateway: string, at?: { dpid: bigint; port: number }): Host {
    const host: Host = { ...iface(name, mac, cidr), gateway, inbox: [] };
    this.hosts.set(name, host);
    if (at !== undefined) this.plug(at.dpid, at.port, { kind: 'host', host });
    return host;
  }

  /** A router interface on a switch port, or wired straight to a host (the external side). */
  addRouterIface(name: string, mac: Mac, cidr: string, at: { dpid: bigint; port: number } | Host): RouterIface {
    const ri: RouterIface = iface(name, mac, cidr);
    this.routerIfaces.push(ri);
    if ('dpid' in at) this.plug(at.dpid, at.port, { kind: 'router', iface: ri });
    else {
      this.links.set(`host:${at.name}`, { kind: 'router', iface: ri });
      this.links.set(`router:${ri.name}`, { kind: 'host', host: at });
    }
    return ri;
  }

  /** Moves a host's link (live migration: stop, move, resume). */
  move(host: Host, to: { dpid: bigint; port: number }): void {
    for (const [key, e] of this.links) {
      if (e.kind === 'host' && e.host === host && key.startsWith('sw:')) {
        this.links.delete(key);
        const [, dpid, port] = key.split(':');
        this.switches.get(BigInt(dpid!))?.ports.delete(Number(port));
      }
    }
    this.plug(to.dpid, to.port, { kind: 'host', host });
  }

  /** The host sends an IPv4 packet (UDP-like) to `dst`; runs the network until it is quiet. */
  send(from: Host, dst: string, tag = ''): void {
    const frame: Headers = { eth_src: from.mac, eth_type: ETH_IP, ipv4_src: from.ip, ipv4_dst: dst, ip_proto: 17, ip_ttl: 64, tag };
    this.transmit(from, onLink(from, dst) ? dst : from.gateway, frame, { kind: 'host', host: from });
    this.run();
  }

  /** Injects a raw frame as if `from` sent it (GARP, ARP probes). */
  inject(from: Host, frame: Headers): void {
    this.emit({ kind: 'host', host: from }, frame);
    this.run();
  }

  /** The frame a host last received from `src` with this tag, if any. */
  lastIp(host: Host, tag: string): Headers | undefined {
    return [...host.inbox].reverse().find((f) => f.tag === tag);
  }

  // ---- delivery ------------------------------------------------------------------------------

  private plug(dpid: bigint, port: number, e: Endpoint): void {
    this.links.set(`sw:${dpid}:${port}`, e);
    if (e.kind === 'host') this.links.set(`host:${e.host.name}`, { kind: 'switch', dpid, port });
    else if (e.kind === 'router') this.links.set(`router:${e.iface.name}`, { kind: 'switch', dpid, port });
    this.switches.get(dpid)?.ports.add(port);
  }

  /** Sends from a host or router interface onto its link. */
  private emit(from: Endpoint, frame: Headers): void {
    const key = from.kind === 'host' ? `host:${from.host.name}` : from.kind === 'router' ? `router:${from.iface.name}` : '';
    const peer = this.links.get(key);
    if (peer !== undefined) this.queue.push({ to: peer, frame });
  }

  private run(): void {
    let budget = 10_000;
    while (this.queue.length > 0) {
      if (--budget === 0) throw new Error('FakeNetwork: forwarding loop');
      const d = this.queue.shift()!;
      if (d.to.kind === 'switch') this.atSwitch(d.to.dpid, d.to.port, d.frame);
      else if (d.to.kind === 'host') this.atHost(d.to.host, d.frame);
      else this.atRouter(d.to.iface, d.frame);
    }
  }

  private atSwitch(dpid: bigint, port: number, frame: Headers): void {
    const table = this.switches.get(dpid);
    if (table === undefined) return;
    const result = table.process(port, frame);
    for (const out of result.outputs) {
      const peer = this.links.get(`sw:${dpid}:${out.port}`);
      if (peer !== undefined) this.queue.push({ to: peer, frame: out.headers });
    }
    for (const pin of result.toController) this.packetIn({ dpid, port, ...pin });
  }

  /** The L2 learner's part of the controller. */
  private packetIn(p: PacketInRecord): void {
    this.packetIns.push(p);
    const src = p.headers.eth_src;
    const tableMiss = p.table === 0 && p.priority === 0;
    if (!tableMiss || src === undefined || this.awayMacs().has(src)) return;
    const table = this.switches.get(p.dpid)!;
    table.apply(learnedSource(p.port, src));
    table.apply(learnedDestination(src, p.port));
    this.atSwitch(p.dpid, p.port, p.headers); // PACKET_OUT to OFPP_TABLE
  }

  private atHost(host: Host, frame: Headers): void {
    if (frame.eth_dst !== host.mac && frame.eth_dst !== BROADCAST) return;
    this.received.push({ host: host.name, frame });
    const self: Endpoint = { kind: 'host', host };
    if (frame.eth_type === ETH_ARP) return this.arpIn(host, self, frame);
    if (frame.eth_type === ETH_IP && frame.ipv4_dst === host.ip) host.inbox.push(frame);
  }

  private atRouter(ri: RouterIface, frame: Headers): void {
    if (frame.eth_dst !== ri.mac && frame.eth_dst !== BROADCAST) return;
    if (frame.eth_type === ETH_ARP) return this.arpIn(ri, { kind: 'router', iface: ri }, frame);
    if (frame.eth_type !== ETH_IP || frame.ipv4_dst === undefined) return;
    if (this.routerIfaces.some((i) => i.ip === frame.ipv4_dst)) { this.routerInbox.push(frame); return; }
    const out = this.routerIfaces.find((i) => onLink(i, frame.ipv4_dst!));
    const ttl = (frame.ip_ttl ?? 64) - 1;
    if (out === undefined || ttl <= 0) return;
    this.transmit(out, frame.ipv4_dst, { ...frame, ip_ttl: ttl }, { kind: 'router', iface: out });
  }

  /** ARP as Linux does it: answer requests for our address (learning the asker), learn replies. */
  private arpIn(me: Interface, self: Endpoint, frame: Headers): void {
    const { arp_op: op, arp_spa: spa, arp_sha: sha, arp_tpa: tpa } = frame;
    if (spa === undefined || sha === undefined) return;
    if (op === 1 && tpa === me.ip) {
      this.learn(me, self, spa, sha);
      this.emit(self, { eth_src: me.mac, eth_dst: sha, eth_type: ETH_ARP, arp_op: 2, arp_sha: me.mac, arp_spa: me.ip, arp_tha: sha, arp_tpa: spa });
    } else if (op === 2 && frame.eth_dst === me.mac) {
      this.learn(me, self, spa, sha);
    }
  }

  private learn(me: Interface, self: Endpoint, ip: string, mac: Mac): void {
    me.arp.set(ip, mac);
    const waiting = me.waiting.get(ip) ?? [];
    me.waiting.delete(ip);
    for (const f of waiting) this.emit(self, { ...f, eth_dst: mac });
  }

  /** Sends to a next hop, ARPing for it first if needed. */
  private transmit(me: Interface, nextHop: string, frame: Headers, self: Endpoint): void {
    const mac = me.arp.get(nextHop);
    const out = { ...frame, eth_src: me.mac };
    if (mac !== undefined) { this.emit(self, { ...out, eth_dst: mac }); return; }
    const first = !me.waiting.has(nextHop);
    me.waiting.set(nextHop, [...(me.waiting.get(nextHop) ?? []), out]);
    if (first) {
      this.emit(self, { eth_src: me.mac, eth_dst: BROADCAST, eth_type: ETH_ARP, arp_op: 1, arp_sha: me.mac, arp_spa: me.ip, arp_tha: '00:00:00:00:00:00', arp_tpa: nextHop });
    }
  }
}
