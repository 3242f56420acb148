// On-demand correspondent rules (a map-cache, as LISP does): a moved VM's correspondent rules
// live only on its home edges and on edges where a conversation with it shows up. A packet from
// the router with a locator source an edge has no rule for comes to the controller (locatorMiss);
// the edge joins the binding's cache, its rules are installed (idle timeout, SEND_FLOW_REM) and
// the packet is re-injected. An idled-out rule takes the edge out of the cache again.

import type { Logger } from '../log.js';
import { isAway, type Binding, type BindingService } from '../mobility/index.js';
import type { FlowRemoved, FlowStats, PacketIn } from '../openflow/index.js';
import type { Ipv4 } from '../packet/index.js';
import { classifyCookie, planBindingChange, RULE_KINDS, TABLE_SRC_REWRITE } from '../pipeline/index.js';
import type { Outbox } from './outbox.js';
import type { FabricSwitch } from './switches.js';
import type { TableSync, UpdateResult } from './table-sync.js';
import type { TopologyView } from './topology.js';

const NO_EDGES: ReadonlySet<bigint> = new Set();

export interface MapCacheDeps {
  readonly bindings: BindingService;
  readonly sync: TableSync;
  readonly outbox: Outbox;
  readonly topology: () => TopologyView;
  readonly log: Logger;
  readonly onUpdate: (result: UpdateResult, dpids: string[]) => void;
}

export class MapCache {
  private readonly cached = new Map<number, Set<bigint>>();

  constructor(private readonly deps: MapCacheDeps) {}

  edgesOf(bindingId: number): ReadonlySet<bigint> | undefined {
    return this.cached.get(bindingId);
  }

  forget(bindingId: number): void {
    this.cached.delete(bindingId);
  }

  /** A packet from the router with a locator source this edge has no rule for: cache the binding here. */
  async onMiss(sw: FabricSwitch, inPort: number, source: Ipv4, message: PacketIn): Promise<void> {
    const binding = this.deps.bindings.byLocatorAddress(source);
    if (binding === undefined || !isAway(binding) || binding.locator.address !== source) {
      this.deps.log.debug('packet from an unbound locator address dropped', { dpid: sw.dpidText, source });
      return;
    }
    const edges = this.cached.get(binding.id) ?? new Set<bigint>();
    const reinject = () => { this.deps.outbox.reinject(sw, inPort, message.data); };
    if (edges.has(sw.dpid)) return reinject(); // rules on their way: same connection, in order
    this.cached.set(binding.id, edges);
    const plan = this.planChange(binding, () => edges.add(sw.dpid));
    const result = await this.deps.sync.apply(plan, reinject);
    this.deps.onUpdate(result, [sw.dpidText]);
    this.deps.log.debug('correspondent rules cached', { eid: binding.eid, dpid: sw.dpidText, flowMods: result.flowMods });
  }

  /** A cached correspondent rule idled out: drop the edge from the cache and the binding's other rules there. */
  async onFlowRemoved(sw: FabricSwitch, removed: FlowRemoved): Promise<void> {
    const owner = classifyCookie(removed.cookie);
    if (owner.kind !== 'binding' || removed.tableId !== TABLE_SRC_REWRITE) return;
    const edges = this.cached.get(owner.bindingId);
    const binding = this.deps.bindings.list().find((b) => b.id === owner.bindingId);
    if (edges === undefined || binding === undefined || !edges.has(sw.dpid)) return;
    const plan = this.planChange(binding, () => edges.delete(sw.dpid));
    const result = await this.deps.sync.apply(plan);
    this.deps.onUpdate(result, [sw.dpidText]);
  }

  /** After a (re)connect: the edges holding a binding's correspondent rules are in the switch's flows. */
  restore(dpid: bigint, flows: readonly FlowStats[]): void {
    for (const f of flows) {
      const owner = classifyCookie(f.cookie);
      if (owner.kind !== 'binding' || f.tableId !== TABLE_SRC_REWRITE || f.priority !== RULE_KINDS.correspondentSrc.priority) continue;
      const edges = this.cached.get(owner.bindingId) ?? new Set<bigint>();
      edges.add(dpid);
      this.cached.set(owner.bindingId, edges);
    }
  }

  /** Plans the rules of `binding` before and after `change` mutates its cached edge set. */
  private planChange(binding: Binding, change: () => void) {
    const topology = this.deps.topology();
    const before = new Set(this.cached.get(binding.id) ?? NO_EDGES);
    const beforeState = topology.state((id) => (id === binding.id ? before : this.cached.get(id) ?? NO_EDGES));
    change();
    return planBindingChange(binding, binding, beforeState, topology.state()).plan;
  }
}
