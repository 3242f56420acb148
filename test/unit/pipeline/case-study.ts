// The case-study topology in a FakeNetwork, driven by the real pure core: the binding registry
// decides moves, the compiler computes rules, the planner diffs them against what the fake
// switches hold (read back like flow stats) and the steps are applied in order.

import {
  BindingRegistry, MemoryBindingRepository, MoveDetector, SubnetMap, type Binding, type Subnet,
} from '../../../controller/mobility/index.js';
import type { FlowStats } from '../../../controller/openflow/index.js';
import {
  compileRules, forgetLearned, installedFromFlowStats, planUpdate, resolveGatewayMacs, switchInfos, type InstalledRule, type Rule, type UpdatePlan,
} from '../../../controller/pipeline/index.js';
import { formatDpid, parseDpid } from '../../../controller/switch/dpid.js';
import type { FakeFlowTable, Headers } from '../../lib/fake-flow-table.js';
import { caseStudySubnets, VM } from '../mobility/fixtures.js';
import { FakeNetwork, type Host, type RouterIface } from './fake-network.js';

export const GW = { A: '02:00:00:00:01:01', B: '02:00:00:00:02:01', C: '02:00:00:00:03:01' } as const;

export class CaseStudy {
  readonly net = new FakeNetwork();
  readonly subnets: Subnet[] = caseStudySubnets();
  readonly map = new SubnetMap(this.subnets);
  readonly detector = new MoveDetector(this.map);
  readonly vm: Host;
  readonly cnA: Host;
  readonly cnB: Host;
  readonly cnC: Host;
  readonly ext: Host;
  readonly router: { A: RouterIface; B: RouterIface; C: RouterIface; ext: RouterIface };
  private now = 1000;

  private constructor(readonly registry: BindingRegistry) {
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
    n.awayMacs = () => new Set(this.registry.bindings.list().filter((b) => b.locator.subnet !== b.homeSubnet).map((b) => b.mac));
  }

  /** The network with base rules installed and the VM learned at home on s1 port 3. */
  static async create(): Promise<CaseStudy> {
    const { registry } = await BindingRegistry.open(new SubnetMap(caseStudySubnets()), new MemoryBindingRepository(), { reuseGraceMs: 60_000 });
    const cs = new CaseStudy(registry);
    cs.sight(1n, 3);
    cs.reconcile();
    return cs;
  }

  get binding(): Binding {
    return this.registry.bindings.byEid(VM.eid)!;
  }

  switch(dpid: bigint): FakeFlowTable {
    return this.net.switches.get(dpid)!;
  }

  /** The VM's hypervisor moved its link; the controller sees it there (old port down) and flushes what the learner knew of m. */
  moveVm(dpid: bigint, port: number): void {
    this.net.move(this.vm, { dpid, port });
    this.sight(dpid, port, true);
    for (const t of this.net.switches.values()) t.applyAll(forgetLearned(VM.mac));
  }

  desired(): Map<string, Rule[]> {
    const switches = switchInfos(this.subnets, this.net.switches.keys());
    return compileRules({ bindings: this.registry.bindings.list(), subnets: this.subnets, switches, gatewayMacs: resolveGatewayMacs(this.subnets) });
  }

  /** What the switches hold, read back as a resync would (flow stats, compiled cookies only). */
  installed(): Map<string, InstalledRule[]> {
    return new Map([...this.net.switches].map(([dpid, t]) => [formatDpid(dpid), installedFromFlowStats(t.flows().map(asFlowStats))]));
  }

  plan(): UpdatePlan {
    return planUpdate(this.installed(), this.desired());
  }

  applyStep(plan: UpdatePlan, step: 0 | 1 | 2): void {
    for (const [dpid, mods] of plan.steps[step].mods) this.switch(parseDpid(dpid)).applyAll(mods);
  }

  reconcile(): UpdatePlan {
    const plan = this.plan();
    for (const step of [0, 1, 2] as const) this.applyStep(plan, step);
    return plan;
  }

  /** a -> b, then b -> a; returns what each side received. */
  exchange(a: Host, b: Host, tag: string): { there?: Headers; back?: Headers } {
    this.net.send(a, b.ip, `${tag}>`);
    this.net.send(b, a.ip, `${tag}<`);
    const there = this.net.lastIp(b, `${tag}>`);
    const back = this.net.lastIp(a, `${tag}<`);
    return { ...(there === undefined ? {} : { there }), ...(back === undefined ? {} : { back }) };
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

  private sight(dpid: bigint, port: number, oldPortDown = false): void {
    this.now += 1000;
    const decision = this.detector.decide(this.registry.bindings, { dpid, port, mac: VM.mac, ip: VM.eid, kind: 'garp', now: this.now }, { oldPortDown });
    this.registry.apply(decision, this.now);
  }
}

function asFlowStats(f: { table: number; priority: number; match: FlowStats['match']; instructions: FlowStats['instructions']; cookie: bigint; idleTimeout: number; packets: number }): FlowStats {
  return {
    tableId: f.table, priority: f.priority, match: f.match, instructions: f.instructions, cookie: f.cookie,
    idleTimeout: f.idleTimeout, hardTimeout: 0, flags: 0, durationSec: 0, durationNsec: 0, packetCount: BigInt(f.packets), byteCount: 0n,
  };
}
