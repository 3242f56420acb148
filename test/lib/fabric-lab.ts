// The case study with the real runtime: the Fabric (every module of controller/fabric) drives
// FakeSwitches over a FakeNetwork (hosts with Linux's ARP, the unmodified router), on fake timers.
// Topology: subnets A, B, C (10.0.{1,2,3}.0/24), one edge each (dpids 1, 2, 3): the router on port 1,
// the subnet's correspondent on port 2, the VM at home on s1 port 3; an external host behind the router.

import FakeTimers from '@sinonjs/fake-timers';
import type { Clock } from '../../controller/fabric/clock.js';
import { Fabric, type FabricEvent, type FabricOptions } from '../../controller/fabric/index.js';
import { createLogger, type Logger } from '../../controller/log.js';
import {
  BindingRegistry, MemoryBindingRepository, MigrationIntents, SubnetMap, type Binding, type BindingRepository, type IntentPhase, type MigrationIntent, type Subnet,
} from '../../controller/mobility/index.js';
import { classifyCookie } from '../../controller/pipeline/index.js';
import { caseStudySubnets, VM } from '../unit/mobility/fixtures.js';
import type { FakeFlowTable, Headers } from './fake-flow-table.js';
import { FakeNetwork, type Host, type RouterIface } from './fake-network.js';
import { FakeSwitches, type FakeSwitch } from './fake-switches.js';

export const GW = { A: '02:00:00:00:01:01', B: '02:00:00:00:02:01', C: '02:00:00:00:03:01' } as const;
export const START = 1_700_000_000_000;

export type Announce = 'rarp' | 'garp' | 'both' | 'ipv6-then-garp' | 'none';

export interface MigrateOptions {
  /** The hypervisor keeps the source's tap (the old port stays up): true, as QEMU and libvirt do. */
  readonly keepOldPort?: boolean;
  readonly pauseMs?: number;
  readonly announce?: Announce;
  /** The hypervisor tells the controller the VM is stopping (loss-free migration) before it pauses. */
  readonly stopping?: boolean;
  /** Called while the VM is paused and moved (before it resumes). */
  readonly duringPause?: () => void;
}

export interface LabOptions {
  readonly fabric?: Partial<FabricOptions>;
  readonly subnets?: Subnet[];
  /** Learn the VM at home first (default true). */
  readonly learnVm?: boolean;
  /** The binding store (default: in memory). */
  readonly repository?: BindingRepository;
}

export class FabricLab {
  readonly net = new FakeNetwork();
  readonly timers = FakeTimers.createClock(START);
  readonly clock: Clock;
  readonly switches: FakeSwitches;
  readonly events: FabricEvent[] = [];
  readonly logLines: string[] = [];
  readonly log: Logger;
  readonly map: SubnetMap;
  readonly intents: MigrationIntents;
  fabric!: Fabric;
  registry!: BindingRegistry;
  readonly vm: Host;
  readonly cnA: Host;
  readonly cnB: Host;
  readonly cnC: Host;
  readonly ext: Host;
  readonly router: { A: RouterIface; B: RouterIface; C: RouterIface; ext: RouterIface };

  private constructor(readonly subnets: Subnet[]) {
    const t = this.timers;
    this.clock = {
      now: () => t.now, monotonic: () => t.now,
      setTimeout: (fn, ms) => t.setTimeout(fn, ms) as unknown as ReturnType<Clock['setTimeout']>,
      clearTimeout: (timer) => { if (timer !== undefined) t.clearTimeout(timer as never); },
    };
    this.log = createLogger({ level: 'debug', format: 'json', sink: (line) => this.logLines.push(line), clock: () => new Date(t.now) });
    this.map = new SubnetMap(subnets);
    this.intents = new MigrationIntents(this.map);
    const n = this.net;
    for (const dpid of [1n, 2n, 3n]) n.addSwitch(dpid);
    this.vm = n.addHost('vm', VM.mac, `${VM.eid}/24`, '10.0.1.1', { dpid: 1n, port: 3 });
    this.cnA = n.addHost('cnA', '02:00:00:00:01:14', '10.0.1.20/24', '10.0.1.1', { dpid: 1n, port: 2 });
    this.cnB = n.addHost('cnB', '02:00:00:00:02:14', '10.0.2.20/24', '10.0.2.1', { dpid: 2n, port: 2 });
    this.cnC = n.addHost('cnC', '02:00:00:00:03:14', '10.0.3.20/24', '10.0.3.1', { dpid: 3n, port: 2 });
    this.ext = n.addHost('ext', '02:00:00:00:ff:0a', '203.0.113.10/24', '203.0.113.1');
    this.router = {
      A: n.addRouterIface('r-eth0', GW.A, '10.0.1.1/24', { dpid: 1n, port: 1 }),
      B: n.addRouterIface('r-eth1', GW.B, '10.0.2.1/24', { dpid: 2n, port: 1 }),
      C: n.addRouterIface('r-eth2', GW.C, '10.0.3.1/24', { dpid: 3n, port: 1 }),
      ext: n.addRouterIface('r-eth3', '02:00:00:00:ff:01', '203.0.113.1/24', this.ext),
    };
    this.switches = new FakeSwitches(n, this.clock);
  }

  /** The lab with its switches connected and synchronised, and the VM learned at home (s1 port 3). */
  static async create(options: LabOptions = {}): Promise<FabricLab> {
    const lab = new FabricLab(options.subnets ?? caseStudySubnets());
    const { registry } = await BindingRegistry.open(lab.map, options.repository ?? new MemoryBindingRepository(), { reuseGraceMs: 60_000 });
    lab.registry = registry;
    lab.fabric = new Fabric({ switches: lab.switches, subnets: lab.map, registry, intents: lab.intents, log: lab.log, clock: lab.clock, options: options.fabric ?? {} });
    lab.fabric.events$.subscribe((e) => lab.events.push(e));
    lab.fabric.start();
    for (const dpid of [1n, 2n, 3n]) lab.switches.connect(dpid);
    await lab.settle();
    if (options.learnVm !== false) {
      lab.net.send(lab.vm, '10.0.1.20', 'hello');
      await lab.settle();
    }
    return lab;
  }

  /** A host plugged into a switch port, and the switch reports the new port (PORT_STATUS add). */
  plug(name: string, mac: string, cidr: string, gateway: string, at: { dpid: bigint; port: number }): Host {
    const host = this.net.addHost(name, mac, cidr, gateway, at);
    this.switches.portStatus(at.dpid, at.port, 'add');
    return host;
  }

  get binding(): Binding {
    return this.registry.bindings.byEid(VM.eid)!;
  }

  sw(dpid: bigint): FakeSwitch {
    return this.switches.get(dpid)!;
  }

  table(dpid: bigint): FakeFlowTable {
    return this.net.switches.get(dpid)!;
  }

  /** Runs the network and the clock for `ms` milliseconds, one at a time. */
  async advance(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      this.net.run();
      await this.timers.tickAsync(1);
    }
    this.net.run();
  }

  /** Runs until nothing happened (no frame to the controller, no message from it) for `quietMs`, at most `maxMs`. */
  async settle(maxMs = 3000, quietMs = 100): Promise<void> {
    const activity = () => this.net.packetIns.length + this.switches.list().reduce((n, sw) => n + sw.received.length, 0);
    let last = activity();
    let quiet = 0;
    for (let i = 0; i < maxMs && quiet < quietMs; i++) {
      this.net.run();
      await this.timers.tickAsync(1);
      this.net.run();
      const now = activity();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
  }

  /**
   * A live migration as QEMU does it: the VM pauses (stop-and-copy), resumes at `to` and announces
   * itself; the source's tap, and so the old switch port, stays up.
   */
  async migrate(to: { dpid: bigint; port: number }, options: MigrateOptions = {}): Promise<void> {
    const { keepOldPort = true, pauseMs = 100, announce = 'both' } = options;
    if (options.stopping === true) {
      const stopping = this.fabric.phases.stopping(VM.eid);
      await this.settle(200, 5);
      await stopping;
    }
    this.vm.paused = true;
    const old = this.binding.locator;
    this.net.move(this.vm, to, { keepOldPort });
    if (!keepOldPort) this.switches.portStatus(old.dpid, old.port, 'delete');
    if (to.dpid !== old.dpid || to.port !== old.port) this.switches.portStatus(to.dpid, to.port, 'add');
    options.duringPause?.();
    await this.advance(pauseMs);
    this.vm.paused = false;
    this.announce(announce);
  }

  announce(kind: Announce): void {
    const m = VM.mac;
    const rarp: Headers = { eth_src: m, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x8035, arp_op: 3, arp_sha: m, arp_spa: '0.0.0.0', arp_tha: m, arp_tpa: '0.0.0.0' };
    const garp: Headers = { eth_src: m, eth_dst: 'ff:ff:ff:ff:ff:ff', eth_type: 0x0806, arp_op: 1, arp_sha: m, arp_spa: VM.eid, arp_tha: '00:00:00:00:00:00', arp_tpa: VM.eid };
    const ipv6: Headers = { eth_src: m, eth_dst: '33:33:00:00:00:16', eth_type: 0x86dd, tag: 'mld' };
    if (kind === 'rarp' || kind === 'both') this.net.inject(this.vm, rarp);
    if (kind === 'ipv6-then-garp') this.net.inject(this.vm, ipv6);
    if (kind === 'garp' || kind === 'both' || kind === 'ipv6-then-garp') this.net.inject(this.vm, garp);
  }

  /**
   * What a host agent tells the controller about the VM's migration (an intent of this phase, as
   * the API registers it), acted on; settles.
   */
  async signal(phase: IntentPhase, more: { toDpid?: bigint; toPort?: number; lossFree?: boolean; stoppedAt?: number; ttlMs?: number } = {}): Promise<MigrationIntent> {
    const now = this.clock.now();
    const { ttlMs = 30_000, ...rest } = more;
    const result = this.intents.register({ eid: VM.eid, phase, ...rest, expiresAt: now + ttlMs }, now);
    if (!result.ok) throw new Error(result.error);
    const done = this.fabric.phases.onIntent(result.intent);
    await this.settle(200, 5);
    await done;
    return result.intent;
  }

  /** a -> b, then b -> a; returns what each side received. */
  exchange(a: Host, b: Host, tag: string): { there?: Headers; back?: Headers } {
    this.net.send(a, b.ip, `${tag}>`);
    this.net.send(b, a.ip, `${tag}<`);
    const there = this.net.lastIp(b, `${tag}>`);
    const back = this.net.lastIp(a, `${tag}<`);
    return { ...(there === undefined ? {} : { there }), ...(back === undefined ? {} : { back }) };
  }

  /** Everyone talks to the VM and back (async: the controller may take part); returns the pairs that failed. */
  async allExchanges(round: string): Promise<string[]> {
    const failed: string[] = [];
    for (const peer of [this.cnA, this.cnB, this.cnC, this.ext]) {
      this.net.send(peer, VM.eid, `${round}:${peer.name}>`);
      await this.settle(200, 5);
      this.net.send(this.vm, peer.ip, `${round}:${peer.name}<`);
      await this.settle(200, 5);
      const there = this.net.lastIp(this.vm, `${round}:${peer.name}>`);
      const back = this.net.lastIp(peer, `${round}:${peer.name}<`);
      if (there === undefined || there.ipv4_src !== peer.ip || there.ipv4_dst !== VM.eid) failed.push(`${peer.name} -> vm`);
      if (back === undefined || back.ipv4_src !== VM.eid || back.ipv4_dst !== peer.ip) failed.push(`vm -> ${peer.name}`);
    }
    return failed;
  }

  /** Frames where a correspondent saw a locator as source, or the VM saw a locator as destination. */
  leaks(): string[] {
    return this.net.received.flatMap(({ host, frame }) => {
      const src = frame.ipv4_src ?? (frame.arp_op === undefined ? undefined : frame.arp_spa);
      if (host !== 'vm' && src !== undefined && this.map.poolOf(src) !== undefined) return [`${host} saw source ${src} (${frame.tag ?? 'arp'})`];
      if (host === 'vm' && frame.ipv4_dst !== undefined && frame.ipv4_dst !== VM.eid) return [`vm saw destination ${frame.ipv4_dst}`];
      return [];
    });
  }

  perBindingFlows(): { dpid: bigint; table: number; priority: number; cookie: bigint }[] {
    return [...this.net.switches].flatMap(([dpid, t]) => t.flows().filter((f) => classifyCookie(f.cookie).kind === 'binding').map((f) => ({ dpid, ...f })));
  }

  /** Packet-ins the switches sent since `from` (an index into net.packetIns). */
  packetInsSince(from: number) {
    return this.net.packetIns.slice(from);
  }

  logged(msg: string): Record<string, unknown>[] {
    return this.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);
  }

  stop(): void {
    this.fabric.stop();
  }
}
