// The Fabric: the runtime that ties the layers together. Switch events and packet-ins come in
// (switch/), sightings are judged (mobility/MoveDetector) and applied (BindingRegistry), the
// desired rules are compiled (pipeline/) and TableSync brings switches to them. Ordinary
// traffic is handled as a learning switch would (L2Learner). Everything a user may want to
// watch leaves through events$ and the read-only accessors.

import { Subject, type Observable, type Subscription } from 'rxjs';
import {
  OFPP_TABLE, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN, outputPort, packetOut,
  type FlowMod, type FlowRemoved, type FlowStats, type Mac, type PacketIn,
} from '../openflow/index.js';
import type { Logger } from '../log.js';
import {
  isAway, MoveDetector, type Binding, type BindingEvent, type BindingRegistry, type Locator, type MigrationIntents,
  type MoveDecision, type MoveEvidence, type Sighting, type SubnetMap, sightingFromPacket,
} from '../mobility/index.js';
import { parsePacket, type Packet } from '../packet/index.js';
import {
  classifyCookie, compile, planBindingChange, resolveGatewayMacs, RULE_KINDS, switchInfos, TABLE_SRC_REWRITE,
  type Compiled, type CompileState, type SwitchInfo,
} from '../pipeline/index.js';
import { formatDpid, type SwitchConnection, type SwitchMessage, type SwitchRegistry } from '../switch/index.js';
import { Gateways } from './gateways.js';
import { attachmentActive, Flights, type Flight, type Held } from './flights.js';
import { L2Learner } from './l2-learner.js';
import { MigrationLog, type MigrationRecord } from './migration-log.js';
import { TableSync } from './table-sync.js';

export interface FabricOptions {
  /** false = baseline: plain L2 learning, bindings are learned but nothing is rewritten. */
  readonly rewrite: boolean;
  /** How long receive-side rules outlive a move (in-flight packets, cached datapath flows). */
  readonly graceMs: number;
  /** An attachment seen this recently is still active (move detection). */
  readonly silenceMs: number;
  /**
   * Counter sampling window of the "old attachment fell silent" check. Open vSwitch pushes
   * datapath counters to OpenFlow rules about every 500 ms (revalidators), so a shorter
   * window would see a busy VM as silent.
   */
  readonly activityWindowMs: number;
  /** Idle timeout of learned L2 rules, seconds. */
  readonly learnIdleTimeoutSec: number;
  /** Packets held per endpoint while its rules are being installed. */
  readonly maxHeldPackets: number;
  /** After this long, configured edges that never connected are reported. */
  readonly edgeCheckMs: number;
  /** Correspondent rules at every edge (eager) or only where conversations are seen (on-demand). */
  readonly correspondentRules: 'eager' | 'on-demand';
  /** Idle timeout of on-demand correspondent rules, seconds. */
  readonly cacheIdleTimeoutSec: number;
}

export const DEFAULT_FABRIC_OPTIONS: FabricOptions = {
  rewrite: true, graceMs: 500, silenceMs: 100, activityWindowMs: 1100, learnIdleTimeoutSec: 300, maxHeldPackets: 256, edgeCheckMs: 30_000,
  correspondentRules: 'eager', cacheIdleTimeoutSec: 300,
};

export type FabricEvent =
  | BindingEvent
  | { readonly type: 'MIGRATION_COMPLETED'; readonly migration: MigrationRecord; readonly at: number }
  | { readonly type: 'CONFLICT'; readonly eid: string; readonly mac: string; readonly reason: string; readonly detail: string; readonly dpid: string; readonly port: number; readonly at: number }
  | { readonly type: 'RULES_UPDATED'; readonly dpids: readonly string[]; readonly flowMods: number; readonly at: number };

export interface FabricCounters {
  packetIns: number;
  malformedFrames: number;
  flowMods: number;
  moves: number;
  conflicts: number;
}

export interface FabricDeps {
  readonly switches: SwitchRegistry;
  readonly subnets: SubnetMap;
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly log: Logger;
  readonly options?: Partial<FabricOptions>;
}

export class Fabric {
  readonly events$: Observable<FabricEvent>;
  readonly counters: FabricCounters = { packetIns: 0, malformedFrames: 0, flowMods: 0, moves: 0, conflicts: 0 };
  readonly migrations = new MigrationLog(1000);
  readonly options: FabricOptions;

  private readonly events = new Subject<FabricEvent>();
  private readonly learner: L2Learner;
  private readonly sync: TableSync;
  private readonly detector: MoveDetector;
  private readonly flights: Flights;
  private readonly gateways: Gateways;
  /** On-demand mode: per binding id, the edges that hold its correspondent rules (the map-cache). */
  private readonly cached = new Map<number, Set<bigint>>();
  private readonly subscriptions: Subscription[] = [];
  private readonly log: Logger;
  private flushing: Promise<void> | undefined;
  private edgeCheck: NodeJS.Timeout | undefined;
  private flushAgain = false;

  constructor(private readonly deps: FabricDeps) {
    this.options = { ...DEFAULT_FABRIC_OPTIONS, ...deps.options };
    this.log = deps.log.child({ component: 'fabric' });
    this.events$ = this.events.asObservable();
    this.learner = new L2Learner({ idleTimeoutSec: this.options.learnIdleTimeoutSec, resendAfterMs: 1000 });
    this.sync = new TableSync(deps.switches, { graceMs: this.options.graceMs, log: this.log });
    this.detector = new MoveDetector(deps.subnets, { silenceMs: this.options.silenceMs });
    this.gateways = new Gateways(deps.subnets);
    this.flights = new Flights(this.options.maxHeldPackets);
  }

  start(): void {
    const { switches } = this.deps;
    this.subscriptions.push(
      switches.switchUp$.subscribe((sw) => void this.onSwitchUp(sw)),
      switches.switchDown$.subscribe((sw) => this.onSwitchDown(sw)),
      switches.packetIn$.subscribe((event) => this.guard('packet-in', () => this.onPacketIn(event))),
      switches.portStatus$.subscribe((event) => this.guard('port-status', () => this.onPortStatus(event.sw, event.message.reason, event.message.port.portNo))),
      switches.flowRemoved$.subscribe((event) => this.guard('flow-removed', () => this.onFlowRemoved(event.sw, event.message))),
    );
    this.edgeCheck = setTimeout(() => {
      const missing = this.missingEdges();
      if (missing.length > 0) this.log.warn('configured edge switches have not connected', { missing });
    }, this.options.edgeCheckMs);
    this.edgeCheck.unref();
  }

  /** Configured edge switches that are not connected (the dashboard and a start-up check report them). */
  missingEdges(): string[] {
    return this.deps.subnets.subnets.flatMap((s) => s.edges.filter((e) => this.deps.switches.get(e.dpid) === undefined).map((e) => `${s.name}/${formatDpid(e.dpid)}`));
  }

  stop(): void {
    clearTimeout(this.edgeCheck);
    for (const s of this.subscriptions) s.unsubscribe();
    this.sync.close();
    this.events.complete();
  }

  get bindings() {
    return this.deps.registry.bindings;
  }

  /** The rules every connected switch should hold now, and what could not be compiled. */
  desired(): Compiled {
    return compile({ ...this.topology(), bindings: this.options.rewrite ? this.deps.registry.bindings.list() : [] });
  }

  /** What rules depend on besides bindings: subnets, connected switches, router ports, gateway MACs. */
  private topology(edgesOf: (bindingId: number) => ReadonlySet<bigint> = (id) => this.cached.get(id) ?? NO_EDGES): Omit<CompileState, 'bindings'> {
    const connected = this.deps.switches.list().map((sw) => sw.dpid);
    const switches: SwitchInfo[] = switchInfos(this.deps.subnets.subnets, connected).map((info) => {
      const learned = this.gateways.learnedRouterPort(info.dpid);
      return info.routerPort === undefined && learned !== undefined ? { ...info, routerPort: learned } : info;
    });
    return {
      subnets: this.deps.subnets.subnets,
      switches,
      gatewayMacs: resolveGatewayMacs(this.deps.subnets.subnets, this.gateways.learnedMacs()),
      correspondents: this.options.correspondentRules === 'eager'
        ? { mode: 'eager' }
        : { mode: 'on-demand', cached: edgesOf, idleTimeoutSec: this.options.cacheIdleTimeoutSec },
    };
  }

  /** Where the router is behind a switch: configured, or learned from the gateway's frames. */
  routerPort(dpid: bigint): number | undefined {
    return this.gateways.routerPort(dpid);
  }

  gatewayMac(subnet: string): Mac | undefined {
    return this.gateways.gatewayMac(subnet);
  }

  /**
   * Applies the current desired state (after a config-level change or an API removal), on every
   * switch or only on `only`: a switch's rules depend on the bindings and on that switch alone,
   * so a switch that (re)connects is reconciled by itself (no work on the others).
   */
  async reconcile(only?: bigint): Promise<void> {
    const topology = this.topology();
    const switches = only === undefined ? topology.switches : topology.switches.filter((sw) => sw.dpid === only);
    const { problems, rules } = compile({ ...topology, switches, bindings: this.options.rewrite ? this.deps.registry.bindings.list() : [] });
    for (const p of problems) this.log.warn('rule compilation problem', { problem: p });
    const result = await this.sync.update(rules);
    this.noteUpdate(result.flowMods, [...rules.keys()]);
  }

  /** Removes a binding (an operator's decision, e.g. a stale VM) and its rules. */
  async removeBinding(eid: string): Promise<Binding | undefined> {
    const now = Date.now();
    const event = this.deps.registry.remove(eid, now);
    if (event === undefined) return undefined;
    this.cached.delete(event.binding.id);
    this.emit(event);
    void this.persist(now);
    const { dpid } = event.binding.locator;
    const sw = this.deps.switches.get(dpid);
    if (sw !== undefined) this.sendQuietly(sw, this.learner.forget(dpid, event.binding.mac));
    await this.reconcile();
    return event.binding;
  }

  // ---- switches ---------------------------------------------------------------------------

  private async onSwitchUp(sw: SwitchConnection): Promise<void> {
    try {
      const flows = await this.sync.adopt(sw);
      const learned = this.learner.restore(sw.dpid, flows);
      this.restoreCache(sw.dpid, flows);
      const subnet = this.deps.subnets.ofDpid(sw.dpid);
      this.log.info('switch up: resynchronising its tables', { dpid: sw.dpidText, subnet: subnet?.name ?? null, flows: flows.length, learnedHosts: learned });
      if (subnet === undefined) this.log.warn('switch is in no configured subnet: plain L2 learning only, no mobility', { dpid: sw.dpidText });
      await this.reconcile(sw.dpid);
    } catch (error) {
      this.log.error('could not synchronise a switch', { dpid: sw.dpidText, error: (error as Error).message });
    }
  }

  private onSwitchDown(sw: SwitchConnection): void {
    this.sync.forget(sw.dpidText);
    this.learner.dropSwitch(sw.dpid);
  }

  private onPortStatus(sw: SwitchConnection, reason: number, port: number): void {
    const info = sw.ports.get(port);
    const down = info === undefined || (info.state & OFPPS_LINK_DOWN) !== 0 || (info.config & OFPPC_PORT_DOWN) !== 0;
    if (down) this.sendQuietly(sw, this.learner.forgetPort(sw.dpid, port));
    this.log.debug('port status', { dpid: sw.dpidText, port, reason, down });
  }

  // ---- packet-in --------------------------------------------------------------------------

  private onPacketIn({ sw, dpid, message }: SwitchMessage<PacketIn>): void {
    this.counters.packetIns++;
    const inPort = message.match.in_port;
    if (typeof inPort !== 'number') return;
    const parsed = parsePacket(message.data);
    if (!parsed.ok) {
      this.counters.malformedFrames++;
      this.log.warn('malformed frame in packet-in, ignored', { dpid: sw.dpidText, port: inPort, error: parsed.error.reason });
      return;
    }
    const packet = parsed.value;
    if (message.tableId === TABLE_SRC_REWRITE && packet.kind === 'ipv4') return void this.onLocatorMiss(sw, inPort, packet.ipv4.src, message);
    this.learnGateway(dpid, inPort, packet);
    const flight = this.flights.get(packet.eth.src);
    if (flight !== undefined) return this.flights.hold(flight, { sw, message });
    if (this.gateways.isRouterSide(dpid, inPort, packet)) return this.forwardLearned(sw, inPort, packet, message);
    const sighting = sightingFromPacket(packet, dpid, inPort, Date.now());
    if (sighting === undefined) return this.forwardLearned(sw, inPort, packet, message);
    const decision = this.detector.decide(this.bindings, sighting, this.evidence(sighting));
    this.act(decision, sighting, { sw, message }, packet);
  }

  private act(decision: MoveDecision, sighting: Sighting, held: Held, packet: Packet): void {
    const { sw, message } = held;
    const inPort = sighting.port;
    switch (decision.kind) {
      case 'ignore':
        return this.forwardLearned(sw, inPort, packet, message);
      case 'learn-new': {
        const event = this.deps.registry.apply(decision, sighting.now);
        if (event !== undefined) {
          this.emit(event);
          void this.persist(sighting.now);
          this.log.info('endpoint learned', { eid: decision.eid, mac: decision.mac, dpid: sw.dpidText, port: inPort });
        }
        return this.forwardLearned(sw, inPort, packet, message);
      }
      case 'same-place':
        this.deps.registry.apply(decision, sighting.now);
        // Away from home the compiled gate lets the VM's traffic in; only its announcements come here.
        if (this.options.rewrite && isAway(decision.binding)) return this.reinjectUnlessAnnounce(sw, inPort, packet, message);
        return this.forwardLearned(sw, inPort, packet, message);
      case 'move':
        if (!this.options.rewrite) return this.forwardLearned(sw, inPort, packet, message);
        return void this.move(decision, sighting, this.flights.begin(decision.binding.mac, held));
      case 'pending':
        if (!this.options.rewrite) return this.forwardLearned(sw, inPort, packet, message);
        return void this.checkThenMove(decision, sighting, this.flights.begin(decision.binding.mac, held));
      case 'conflict':
        if (!this.options.rewrite) return this.forwardLearned(sw, inPort, packet, message);
        return this.conflict(decision.binding, decision.reason, decision.detail, sighting);
    }
  }

  /** The evidence we hold without asking a switch: the old port's state and the intents. */
  private evidence(s: Sighting): MoveEvidence {
    const b = (s.ip === undefined ? undefined : this.bindings.byEid(s.ip)) ?? this.bindings.byMac(s.mac);
    if (b === undefined) return {};
    const intent = this.deps.intents.get(b.eid, s.now);
    const old = this.deps.switches.get(b.locator.dpid);
    const port = old?.ports.get(b.locator.port);
    const oldPortDown = old !== undefined && (port === undefined || (port.state & OFPPS_LINK_DOWN) !== 0 || (port.config & OFPPC_PORT_DOWN) !== 0);
    return { oldPortDown, ...(intent === undefined ? {} : { intent }) };
  }

  // ---- moves ------------------------------------------------------------------------------

  /** The "fell silent" check: did the old attachment's fast-path rule count packets in the window? */
  private async checkThenMove(decision: Extract<MoveDecision, { kind: 'pending' }>, sighting: Sighting, flight: Flight): Promise<void> {
    const { check } = decision;
    const active = await this.attachmentActive(check.dpid, check.port, check.mac);
    const now = Date.now();
    const evidence: MoveEvidence = { ...this.evidence({ ...sighting, now }), oldAttachmentLastActivity: active ? now : 0 };
    const next = this.detector.decide(this.bindings, { ...sighting, now }, evidence);
    if (next.kind === 'move') return this.move(next, { ...sighting, now }, flight);
    this.flights.end(decision.binding.mac);
    if (next.kind === 'conflict') return this.conflict(next.binding, next.reason, next.detail, sighting);
    this.log.warn('move check ended without a move', { eid: decision.binding.eid, decision: next.kind });
  }

  private async attachmentActive(dpid: bigint, port: number, mac: Mac): Promise<boolean> {
    try {
      return await attachmentActive(this.deps.switches.get(dpid), port, mac, this.options.activityWindowMs);
    } catch (error) {
      this.log.warn('activity check failed; treating the old attachment as silent', { dpid: formatDpid(dpid), port, error: (error as Error).message });
      return false;
    }
  }

  private async move(decision: Extract<MoveDecision, { kind: 'move' }>, sighting: Sighting, flight: Flight): Promise<void> {
    const previous = decision.binding;
    const detectedAt = Date.now();
    try {
      const event = this.deps.registry.apply(decision, sighting.now);
      if (event === undefined || event.type !== 'BINDING_MOVED') throw new Error(`the store refused the move of ${previous.eid}`);
      this.deps.intents.consume(previous.eid);
      this.emit(event);
      void this.persist(sighting.now);
      // A learned rule for the VM anywhere would swallow its frames (no packet-in, no sighting) or,
      // away from home, let them in before the send side is ready.
      // (Only where the learner has it, plus the old switch: no per-move work on unrelated switches.)
      for (const sw of this.deps.switches.list()) {
        if (sw.dpid !== previous.locator.dpid && this.learner.portOf(sw.dpid, previous.mac) === undefined) continue;
        this.sendQuietly(sw, this.learner.forget(sw.dpid, previous.mac));
      }
      const binding = event.binding;
      // Only this binding's rules change: plan them incrementally (the switches either version
      // touches), not by recompiling every binding.
      const { plan, problem } = planBindingChange(previous, binding, this.topology());
      if (problem !== undefined) this.log.warn('rule compilation problem', { problem });
      const result = await this.sync.apply(plan, () => this.release(binding, flight));
      this.counters.moves++;
      this.noteUpdate(result.flowMods, [...new Set(plan.steps.flatMap((step) => [...step.mods.keys()]))]);
      const record = this.migrations.add({
        eid: binding.eid, mac: binding.mac, from: previous.locator, to: binding.locator, version: binding.version,
        reason: decision.reason, trigger: sighting.kind, detectedAt,
        reconvergenceMs: performance.now() - flight.startedAt, confirmMs: result.confirmMs,
        flowMods: result.flowMods, switches: result.switches, failures: result.failures,
      });
      this.log.info('migration completed', { ...record, from: locatorText(record.from), to: locatorText(record.to) });
      this.emit({ type: 'MIGRATION_COMPLETED', migration: record, at: Date.now() });
    } catch (error) {
      this.flights.end(previous.mac);
      this.log.error('migration failed', { eid: previous.eid, error: (error as Error).message });
    }
  }

  /** Step 2 is confirmed: at home the learner's rules open the way; then held packets go. */
  private async release(binding: Binding, flight: Flight): Promise<void> {
    const { dpid, port } = binding.locator;
    const sw = this.deps.switches.get(dpid);
    this.flights.end(binding.mac);
    if (!isAway(binding)) this.cached.delete(binding.id);
    if (sw === undefined) return;
    if (!isAway(binding)) await sw.sendBatch(this.learner.learn(dpid, port, binding.mac).mods).catch((e: Error) => this.log.warn('learner rules failed', { error: e.message }));
    for (const h of flight.held) {
      if (h.sw.dpid !== dpid) continue;
      const packet = parsePacket(h.message.data);
      if (packet.ok && packet.value.kind === 'rarp') continue;
      this.reinject(h.sw, h.message.match.in_port as number, h.message);
    }
  }

  private conflict(binding: Binding, reason: string, detail: string, s: Sighting): void {
    this.counters.conflicts++;
    this.log.warn('conflicting claim: binding kept', { eid: binding.eid, reason, detail, dpid: formatDpid(s.dpid), port: s.port, mac: s.mac });
    this.emit({ type: 'CONFLICT', eid: binding.eid, mac: s.mac, reason, detail, dpid: formatDpid(s.dpid), port: s.port, at: s.now });
  }

  // ---- on-demand correspondent rules (the map-cache) ------------------------------------------

  /** A packet from the router with a locator source this edge has no rule for: cache the binding here. */
  private async onLocatorMiss(sw: SwitchConnection, inPort: number, source: string, message: PacketIn): Promise<void> {
    const binding = this.bindings.byLocatorAddress(source);
    if (binding === undefined || !isAway(binding) || binding.locator.address !== source) {
      this.log.debug('packet from an unbound locator address dropped', { dpid: sw.dpidText, source });
      return;
    }
    const edges = this.cached.get(binding.id) ?? new Set<bigint>();
    if (edges.has(sw.dpid)) return this.reinject(sw, inPort, message); // rules on their way: same connection, in order
    this.cached.set(binding.id, edges);
    const { plan } = this.planCacheChange(binding, () => edges.add(sw.dpid));
    const result = await this.sync.apply(plan, () => this.reinject(sw, inPort, message));
    this.noteUpdate(result.flowMods, [sw.dpidText]);
    this.log.debug('correspondent rules cached', { eid: binding.eid, dpid: sw.dpidText, flowMods: result.flowMods });
  }

  /** A cached correspondent rule idled out: drop the edge from the cache and the binding's other rules there. */
  private onFlowRemoved(sw: SwitchConnection, removed: FlowRemoved): void {
    this.sync.removedBySwitch(sw.dpidText, removed);
    const owner = classifyCookie(removed.cookie);
    if (owner.kind !== 'binding' || removed.tableId !== TABLE_SRC_REWRITE) return;
    const edges = this.cached.get(owner.bindingId);
    const binding = this.bindings.list().find((b) => b.id === owner.bindingId);
    if (edges === undefined || binding === undefined || !edges.has(sw.dpid)) return;
    const { plan } = this.planCacheChange(binding, () => edges.delete(sw.dpid));
    void this.sync.apply(plan).then((r) => this.noteUpdate(r.flowMods, [sw.dpidText]), (e: Error) => this.log.warn('cache eviction failed', { error: e.message }));
  }

  /** Plans the rules of `binding` before and after `change` mutates its cached edge set. */
  private planCacheChange(binding: Binding, change: () => void) {
    const before = new Set(this.cached.get(binding.id) ?? NO_EDGES);
    const beforeState = this.topology((id) => (id === binding.id ? before : this.cached.get(id) ?? NO_EDGES));
    change();
    return planBindingChange(binding, binding, beforeState, this.topology());
  }

  /** After a (re)connect: the edges holding a binding's correspondent rules are in the switch's flows. */
  private restoreCache(dpid: bigint, flows: readonly FlowStats[]): void {
    if (this.options.correspondentRules !== 'on-demand') return;
    for (const f of flows) {
      const owner = classifyCookie(f.cookie);
      if (owner.kind !== 'binding' || f.tableId !== TABLE_SRC_REWRITE || f.priority !== RULE_KINDS.correspondentSrc.priority) continue;
      const edges = this.cached.get(owner.bindingId) ?? new Set<bigint>();
      edges.add(dpid);
      this.cached.set(owner.bindingId, edges);
    }
  }

  // ---- forwarding -------------------------------------------------------------------------

  /** Learning-switch behaviour: learn the source, then let the pipeline forward the packet. */
  private forwardLearned(sw: SwitchConnection, inPort: number, packet: Packet, message: PacketIn): void {
    const mac = packet.eth.src;
    const binding = this.bindings.byMac(mac);
    const ownedByGate = this.options.rewrite && binding !== undefined && isAway(binding) && binding.locator.dpid === sw.dpid && binding.locator.port === inPort;
    if (!ownedByGate && !isMulticast(mac)) this.sendQuietly(sw, this.learner.learn(sw.dpid, inPort, mac).mods);
    this.reinjectUnlessAnnounce(sw, inPort, packet, message);
  }

  /** RARP announces only teach us where a MAC is; the hosts have no use for them. */
  private reinjectUnlessAnnounce(sw: SwitchConnection, inPort: number, packet: Packet, message: PacketIn): void {
    if (packet.kind === 'rarp') return;
    this.reinject(sw, inPort, message);
  }

  private reinject(sw: SwitchConnection, inPort: number, message: PacketIn): void {
    sw.send(packetOut({ inPort, actions: [outputPort(OFPP_TABLE)], data: message.data }));
  }

  private sendQuietly(sw: SwitchConnection, mods: readonly FlowMod[]): void {
    if (mods.length === 0) return;
    this.counters.flowMods += mods.length;
    for (const m of mods) sw.send(m);
  }

  /** The router's own ARP tells its MAC and the port that leads to it; the rules depend on both. */
  private learnGateway(dpid: bigint, port: number, packet: Packet): void {
    const learned = this.gateways.observe(dpid, port, packet);
    if (learned === undefined) return;
    this.log.info('gateway learned', { subnet: learned.subnet, mac: learned.mac, dpid: formatDpid(dpid), port });
    void this.reconcile().catch((e: Error) => this.log.error('reconcile failed', { error: e.message }));
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private emit(event: FabricEvent): void {
    this.events.next(event);
  }

  private noteUpdate(flowMods: number, dpids: string[]): void {
    this.counters.flowMods += flowMods;
    if (flowMods > 0) this.emit({ type: 'RULES_UPDATED', dpids, flowMods, at: Date.now() });
  }

  /**
   * Makes journaled events durable. Flushes are coalesced: while one runs, later requests share
   * the next one, so a burst of new endpoints costs two fsyncs, not one per endpoint.
   */
  private persist(now: number): Promise<void> {
    if (this.flushing !== undefined) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await this.deps.registry.flush(now);
        } while (this.flushAgain);
      } catch (error) {
        this.log.error('could not persist bindings', { error: (error as Error).message });
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private guard(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.log.error(`internal error handling ${what}`, { error: (error as Error).message, stack: (error as Error).stack });
    }
  }
}

const NO_EDGES: ReadonlySet<bigint> = new Set();

function isMulticast(mac: Mac): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

function locatorText(l: Locator): string {
  return `${l.subnet}/${formatDpid(l.dpid)}:${l.port}/${l.address}`;
}
