// FakeNetwork: edge switches (FakeFlowTable), hosts, and a model of the unmodified Linux router
// of the case study, wired by links. Frames are header records; delivery runs to completion
// through a FIFO queue. Hosts and the router resolve next hops with real ARP through the
// network (queueing packets until the answer arrives, as Linux does), answer ARP probes as Linux
// does (RFC 5227: no cache update) and the router drops packets whose source is one of its own
// addresses (accept_local=0, Linux's default). With a controller attached (FakeSwitches), the
// switches' packet-ins go to it and its PACKET_OUTs come back through the same queue: the real
// runtime drives the fake data plane.

import type { Mac } from '../../controller/openflow/index.js';
import { ipv4ToInt, maskInt } from '../../controller/packet/address.js';
import { FakeFlowTable, type Headers } from './fake-flow-table.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const ZERO_IP = '0.0.0.0';

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
  /** A paused VM (stop-and-copy): it neither receives nor sends. */
  paused: boolean;
  /**
   * A hypervisor's tap in front of it (set it to []): what reaches a paused VM waits here, up to
   * 1,000 frames, and reaches it when it runs again, as a QEMU tap keeps what it is given until
   * the VM reads it. Unset: frames for a paused VM are lost.
   */
  tapQueue?: Headers[];
  /** The switch port each frame of tapQueue came out of: its transmit count grows when the VM takes the frame. */
  tapVia?: (string | undefined)[];
}

export interface RouterIface extends Interface {}

type Endpoint = { kind: 'host'; host: Host } | { kind: 'router'; iface: RouterIface } | { kind: 'switch'; dpid: bigint; port: number };
/** `via`: the switch port it left by (`sw:dpid:port`), whose transmit count it adds to when taken. */
type Delivery = { to: Endpoint; frame: Headers; via?: string } | { to: 'call'; run: () => void };

export interface PacketInRecord {
  readonly dpid: bigint;
  readonly port: number;
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly headers: Headers;
  readonly metadata?: bigint;
}

/** Where packet-ins go: the controller's side of the switches (FakeSwitches). */
export type PacketInSink = (record: PacketInRecord) => void;

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
  /** Frames the router dropped because their source is its own address (accept_local=0). */
  readonly martians: Headers[] = [];
  /** The router answers packets for its own addresses with a reply tagged `${tag}<` (as ping and TCP do). */
  routerEchoes = true;
  private readonly links = new Map<string, Endpoint>();
  /** Frames each switch port transmitted, as Linux counts them: a host's port (a tap) when the host takes them, others when sent. */
  private readonly tx = new Map<string, number>();
  private queue: Delivery[] = [];
  private sink: PacketInSink | undefined;

  addSwitch(dpid: bigint): FakeFlowTable {
    const table = new FakeFlowTable(dpid);
    this.switches.set(dpid, table);
    return table;
  }

  /** Packet-ins go to `sink` (through the queue, in order with everything else). */
  attachController(sink: PacketInSink): void {
    this.sink = sink;
  }

  addHost(name: string, mac: Mac, cidr: string, gateway: string, at?: { dpid: bigint; port: number }): Host {
    const host: Host = { ...iface(name, mac, cidr), gateway, inbox: [], paused: false };
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

  /** Moves a host's link (live migration: stop, move, resume). `keepOldPort`: the old port stays (a hypervisor's tap). */
  move(host: Host, to: { dpid: bigint; port: number }, options: { keepOldPort?: boolean } = {}): void {
    for (const [key, e] of this.links) {
      if (e.kind === 'host' && e.host === host && key.startsWith('sw:')) {
        this.links.delete(key);
        const [, dpid, port] = key.split(':');
        if (options.keepOldPort !== true) this.switches.get(BigInt(dpid!))?.ports.delete(Number(port));
      }
    }
    this.plug(to.dpid, to.port, { kind: 'host', host });
  }

  /** The host sends an IPv4 packet (UDP-like) to `dst`; runs the network until it is quiet. */
  send(from: Host, dst: string, tag = ''): void {
    if (from.paused) return;
    const frame: Headers = { eth_src: from.mac, eth_type: ETH_IP, ipv4_src: from.ip, ipv4_dst: dst, ip_proto: 17, ip_ttl: 64, tag };
    this.transmit(from, onLink(from, dst) ? dst : from.gateway, frame, { kind: 'host', host: from });
    this.run();
  }

  /** The router itself sends to `dst` (from the address of the interface its route picks). */
  routerSend(dst: string, tag: string): void {
    const out = this.routerIfaces.find((i) => onLink(i, dst));
    if (out === undefined) return;
    const frame: Headers = { eth_type: ETH_IP, ipv4_src: out.ip, ipv4_dst: dst, ip_proto: 17, ip_ttl: 64, tag };
    this.transmit(out, dst, frame, { kind: 'router', iface: out });
    this.run();
  }

  /** Injects a raw frame as if `from` sent it (GARP, ARP probes, IPv6). */
  inject(from: Host, frame: Headers): void {
    this.emit({ kind: 'host', host: from }, frame);
    this.run();
  }

  /** A frame leaves switch `dpid` through `port` (a rule's or a PACKET_OUT's output). */
  fromSwitch(dpid: bigint, port: number, frame: Headers): void {
    const via = `sw:${dpid}:${port}`;
    const peer = this.links.get(via);
    if (peer === undefined) return;
    if (peer.kind !== 'host') this.count(via);
    this.queue.push({ to: peer, frame, via });
  }

  /**
   * Frames the port transmitted (its tx_packets): a host's port is a tap, which counts a frame
   * when the host takes it, so not while it is paused (the frame waits in the tap and is lost if
   * the host moves away); other ports count a frame as it goes.
   */
  txPackets(dpid: bigint, port: number): number {
    return this.tx.get(`sw:${dpid}:${port}`) ?? 0;
  }

  /** A frame runs through a switch's pipeline as if it entered on `inPort` (PACKET_OUT to OFPP_TABLE). */
  throughSwitch(dpid: bigint, inPort: number, frame: Headers): void {
    this.queue.push({ to: 'call', run: () => this.atSwitch(dpid, inPort, frame) });
  }

  /**
   * A paused host's reader takes what its tap queued but the newest `keep` frames (a guest that
   * reads late: its tap never empties); its port counts them as sent.
   */
  readTap(host: Host, keep: number): void {
    const queue = host.tapQueue ?? [];
    const n = Math.max(0, queue.length - keep);
    const vias = host.tapVia ?? [];
    const frames = queue.splice(0, n);
    const from = vias.splice(0, n);
    host.paused = false;
    frames.forEach((frame, i) => this.atHost(host, frame, from[i]));
    host.paused = true;
  }

  /** The frame a host last received with this tag, if any. */
  lastIp(host: Host, tag: string): Headers | undefined {
    return [...host.inbox].reverse().find((f) => f.tag === tag);
  }

  /** Runs the queue until it is empty. */
  run(): void {
    for (const host of this.hosts.values()) {
      if (host.paused || host.tapQueue === undefined || host.tapQueue.length === 0) continue;
      for (const { frame, via } of host.tapQueue.splice(0).map((f, i) => ({ frame: f, via: host.tapVia?.[i] }))) this.queue.push({ to: { kind: 'host', host }, frame, ...(via === undefined ? {} : { via }) });
      host.tapVia = [];
    }
    let budget = 10_000;
    while (this.queue.length > 0) {
      if (--budget === 0) throw new Error('FakeNetwork: forwarding loop');
      const d = this.queue.shift()!;
      if (d.to === 'call') d.run();
      else if (d.to.kind === 'switch') this.atSwitch(d.to.dpid, d.to.port, d.frame);
      else if (d.to.kind === 'host') this.atHost(d.to.host, d.frame, d.via);
      else this.atRouter(d.to.iface, d.frame);
    }
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
    if (from.kind === 'host' && from.host.paused) return;
    const key = from.kind === 'host' ? `host:${from.host.name}` : from.kind === 'router' ? `router:${from.iface.name}` : '';
    const peer = this.links.get(key);
    if (peer !== undefined) this.queue.push({ to: peer, frame });
  }

  private atSwitch(dpid: bigint, port: number, frame: Headers): void {
    const table = this.switches.get(dpid);
    if (table === undefined) return;
    const result = table.process(port, frame);
    for (const out of result.outputs) this.fromSwitch(dpid, out.port, out.headers);
    for (const pin of result.toController) {
      const record: PacketInRecord = { dpid, port, ...pin };
      this.packetIns.push(record);
      const sink = this.sink;
      if (sink !== undefined) this.queue.push({ to: 'call', run: () => sink(record) });
    }
  }

  private count(via: string): void {
    this.tx.set(via, (this.tx.get(via) ?? 0) + 1);
  }

  private atHost(host: Host, frame: Headers, via?: string): void {
    if (host.paused) {
      if (host.tapQueue !== undefined && host.tapQueue.length < 1000) {
        host.tapQueue.push(frame);
        (host.tapVia ??= []).push(via);
      }
      return;
    }
    if (via !== undefined) this.count(via);
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
    if (this.routerIfaces.some((i) => i.ip === frame.ipv4_src)) { this.martians.push(frame); return; }
    if (this.routerIfaces.some((i) => i.ip === frame.ipv4_dst)) {
      this.routerInbox.push(frame);
      if (this.routerEchoes && frame.ipv4_src !== undefined && !(frame.tag ?? '').endsWith('<')) this.echoFromRouter(frame);
      return;
    }
    const out = this.routerIfaces.find((i) => onLink(i, frame.ipv4_dst!));
    const ttl = (frame.ip_ttl ?? 64) - 1;
    if (out === undefined || ttl <= 0) return;
    this.transmit(out, frame.ipv4_dst, { ...frame, ip_ttl: ttl }, { kind: 'router', iface: out });
  }

  /** A reply from the address that was asked, routed like any packet the router sends. */
  private echoFromRouter(frame: Headers): void {
    const out = this.routerIfaces.find((i) => onLink(i, frame.ipv4_src!));
    if (out === undefined) return;
    const reply: Headers = { eth_type: ETH_IP, ipv4_src: frame.ipv4_dst!, ipv4_dst: frame.ipv4_src!, ip_proto: 17, ip_ttl: 64, tag: `${frame.tag ?? ''}<` };
    this.transmit(out, frame.ipv4_src!, reply, { kind: 'router', iface: out });
  }

  /**
   * ARP as Linux does it: answer requests for our address (learning the asker unless it probes), learn
   * replies. A router answers for any of its addresses on any of its interfaces, with the MAC of the
   * one the request came in on (arp_ignore=0, the default): a VM's ARP for its home gateway that
   * leaks to another subnet's router port learns that port's MAC.
   */
  private arpIn(me: Interface, self: Endpoint, frame: Headers): void {
    const { arp_op: op, arp_spa: spa, arp_sha: sha, arp_tpa: tpa } = frame;
    if (spa === undefined || sha === undefined) return;
    const mine = tpa === me.ip || (self.kind === 'router' && this.routerIfaces.some((i) => i.ip === tpa));
    if (op === 1 && mine) {
      if (spa !== ZERO_IP) this.learn(me, self, spa, sha);
      this.emit(self, { eth_src: me.mac, eth_dst: sha, eth_type: ETH_ARP, arp_op: 2, arp_sha: me.mac, arp_spa: tpa, arp_tha: sha, arp_tpa: spa });
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
