// The Fabric: the composition of the runtime. It builds the modules that handle each step of the
// data's way (ingress -> forwarding | mover -> table sync), subscribes them to the switches'
// streams, and offers what the API and main need: the bindings, the desired rules, reconcile,
// removal, intents. Everything a user may want to watch leaves through events$ and counters.

import type { Registry } from 'prom-client';
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { Logger } from '../log.js';
import {
  MoveDetector, type ActivityCheck, type Binding, type BindingEvent, type BindingRegistry, type BindingService, type MigrationIntents, type SubnetMap,
} from '../mobility/index.js';
import type { Mac } from '../openflow/index.js';
import { compile, type Compiled } from '../pipeline/index.js';
import { formatDpid } from '../switch/dpid.js';
import { FrameBuffers } from './buffers.js';
import { ClaimLimiter } from './claim-limiter.js';
import { systemClock, type Clock, type Timer } from './clock.js';
import { ConflictReporter } from './conflicts.js';
import { FlapDamper } from './damping.js';
import { newCounters, type FabricCounters, type FabricEvent } from './events.js';
import { Flights } from './flights.js';
import { Forwarding } from './forwarding.js';
import { Gateways } from './gateways.js';
import { Ingress } from './ingress.js';
import { L2Learner } from './l2-learner.js';
import { MapCache } from './map-cache.js';
import { FabricMetrics } from './metrics.js';
import type { MoveCoordination, SwitchRoles } from './roles.js';
import { MigrationLog } from './migration-log.js';
import { Mover } from './moves.js';
import { Outbox } from './outbox.js';
import { Persister } from './persist.js';
import { MigrationPhases } from './phases.js';
import { LostSearch } from './search.js';
import { SwitchSync } from './switch-sync.js';
import { Prestager } from './prestage.js';
import type { FabricSwitches } from './switches.js';
import { TableSync, type UpdateResult } from './table-sync.js';
import { TopologyView, type TopologyState } from './topology.js';
import { DEFAULT_FABRIC_OPTIONS, type FabricOptions } from './options.js';
import { isPortDown, MoveVerifier, type Verdict } from './verify.js';

export interface FabricDeps {
  readonly switches: FabricSwitches;
  readonly subnets: SubnetMap;
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly options?: Partial<FabricOptions>;
  /** Where the runtime registers its metrics (default: a registry of its own). */
  readonly metrics?: Registry;
  /** Several replicas (docs/cluster.md): the switches this one masters, and the agreement on each move. */
  readonly roles?: SwitchRoles;
  readonly coordination?: MoveCoordination;
  /** Several replicas: a probe of a switch another replica masters, run by that replica. */
  readonly remoteProbe?: (check: ActivityCheck, timeoutMs: number) => Promise<Verdict | undefined>;
}

export class Fabric {
  readonly events$: Observable<FabricEvent>;
  readonly counters: FabricCounters = newCounters();
  readonly migrations = new MigrationLog(1000);
  readonly options: FabricOptions;
  readonly outbox: Outbox;
  readonly learner: L2Learner;
  readonly flights: Flights;
  readonly metrics: FabricMetrics;
  readonly buffers: FrameBuffers;
  /** What a migration's phases ask of the runtime: stage, copy, hold, move ahead, deliver, call off (intents from the API, OVSDB, a host agent, another replica). */
  readonly phases: MigrationPhases;

  private readonly events = new Subject<FabricEvent>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly sync: TableSync;
  private readonly gateways: Gateways;
  private readonly mapCache: MapCache;
  private readonly prestage: Prestager;
  private readonly ingress: Ingress;
  private readonly mover: Mover;
  private readonly verifier: MoveVerifier;
  private readonly persister: Persister;
  private readonly topology: TopologyView;

  private readonly switchSync: SwitchSync;
  private readonly search: LostSearch;
  private readonly subscriptions: Subscription[] = [];
  private edgeCheck: Timer | undefined;

  constructor(private readonly deps: FabricDeps) {
    const options = (this.options = { ...DEFAULT_FABRIC_OPTIONS, ...deps.options });
    const clock = (this.clock = deps.clock ?? systemClock);
    const log = (this.log = deps.log.child({ component: 'fabric' }));
    const { switches, subnets, registry, intents } = deps;
    this.events$ = this.events.asObservable();
    const emit = (e: FabricEvent) => this.events.next(e);
    const onUpdate = (r: UpdateResult, dpids: string[]) => this.noteUpdate(r.flowMods, dpids);
    const outbox = (this.outbox = new Outbox(log, deps.roles));
    const probeMac = options.probeMac.toLowerCase();
    this.learner = new L2Learner({ idleTimeoutSec: options.learnIdleTimeoutSec, resendAfterMs: 1000, maxMacsPerPort: options.maxMacsPerPort, maxMacsPerSwitch: options.maxMacsPerSwitch });
    this.sync = new TableSync(switches, { graceMs: options.graceMs, log, clock, outbox, onBarrier: (step, ms) => this.metrics.barrierWait.observe({ step }, ms / 1000) });
    this.gateways = new Gateways(subnets);
    this.flights = new Flights(options.maxHeldPackets);
    this.metrics = new FabricMetrics(deps.metrics, {
      counters: this.counters, outbox, flights: this.flights, learner: this.learner, buffers: () => this.buffers, search: () => this.search, connected: () => switches.list().map((sw) => sw.dpidText),
    });
    this.events$.subscribe((e) => {
      if (e.type === 'BINDING_ADDED' || e.type === 'BINDING_MOVED') this.search.bindingChanged(e.binding.id);
      if (e.type !== 'MIGRATION_COMPLETED') return;
      this.metrics.reconvergence.observe(e.migration.reconvergenceMs / 1000);
      this.metrics.release.observe(e.migration.releaseMs / 1000);
    });
    this.persister = new Persister(() => registry.flush(clock.now()), log);
    const persist = () => { this.persister.request().catch((e: Error) => log.error('could not persist bindings', { error: e.message })); };
    const detector = new MoveDetector(subnets, { maxEndpointsPerPort: options.maxEndpointsPerPort });
    const conflicts = new ConflictReporter(log, this.counters, emit);
    this.verifier = new MoveVerifier(switches, outbox, clock, {
      mode: options.verification, probeWindowMs: options.probeWindowMs, probeCount: options.probeCount, probeMac, activityWindowMs: options.activityWindowMs,
      ...(deps.remoteProbe === undefined ? {} : { remoteProbe: deps.remoteProbe }),
    }, log);
    this.mapCache = new MapCache({ bindings: registry.bindings, sync: this.sync, outbox, topology: () => this.topology, log, onUpdate });
    this.buffers = new FrameBuffers(switches, outbox, subnets, clock, options.buffer);
    this.topology = new TopologyView(switches, subnets, this.gateways, options, (id) => this.mapCache.edgesOf(id), () => this.buffers.modes());
    this.prestage = new Prestager({
      registry, subnets, sync: this.sync, topology: () => this.topology, clock, log, emit, onUpdate,
      reconcile: (dpids) => this.switchSync.reconcile(dpids),
    });
    const forwarding = new Forwarding({ subnets, bindings: registry.bindings, learner: this.learner, outbox, log, rewrite: options.rewrite, routerPort: (dpid) => this.gateways.routerPort(dpid) });
    const mover = (this.mover = new Mover({
      switches, registry, intents, detector, verifier: this.verifier, flights: this.flights, sync: this.sync, forwarding, learner: this.learner, outbox, probeMac,
      damper: new FlapDamper(options.damping), mapCache: this.mapCache, prestage: this.prestage, buffers: this.buffers, migrations: this.migrations,
      topology: () => this.topology, graceMs: options.graceMs, clock, log, counters: this.counters, conflicts, emit, persist, onUpdate,
      ...(deps.coordination === undefined ? {} : { coordination: deps.coordination }), coordinationTimeoutMs: options.coordinationTimeoutMs,
      onRemoved: (binding) => this.forgetBinding(binding),
      onResumed: (binding) => this.resumedAt(binding, 'first frame'),
      redispatch: (held) => this.ingress.handle({ sw: held.sw, dpid: held.sw.dpid, message: held.message }),
    }));
    this.ingress = new Ingress({
      registry, detector, verifier: this.verifier, flights: this.flights, forwarding, gateways: this.gateways, mapCache: this.mapCache, mover, buffers: this.buffers,
      clock, log, counters: this.counters, conflicts, limiter: new ClaimLimiter(options.claims), rewrite: options.rewrite, probeMac, emit, persist,
      searchAnswered: (mac, eid) => this.search.answered(mac, eid),
      onGatewayLearned: () => void this.reconcile().catch((e: Error) => log.error('reconcile failed', { error: e.message })),
      onResumed: (binding) => this.resumedAt(binding, 'first frame'),
    });
    this.phases = new MigrationPhases({
      registry, intents, buffers: this.buffers, mover, prestage: this.prestage, sync: this.sync, outbox, topology: () => this.topology,
      clock, log, rewrite: options.rewrite, graceMs: options.graceMs, counters: this.counters, emit, onUpdate,
      queueAtDestination: options.buffer.queueAtDestination,
      portUp: (dpid, port) => { const sw = switches.get(dpid); return sw !== undefined && !isPortDown(sw, port); },
    });
    this.search = new LostSearch({
      switches, bindings: registry.bindings, subnets, outbox, flights: this.flights, buffers: () => this.buffers, routerPort: (dpid) => this.gateways.routerPort(dpid),
      clock, log, probeMac,
      onLost: (b, since) => emit({ type: 'ENDPOINT_LOST', eid: b.eid, mac: b.mac, dpid: formatDpid(b.locator.dpid), port: b.locator.port, since, at: clock.now() }),
      options: options.rewrite ? options.lostSearch : { ...options.lostSearch, firstAfterMs: 0 }, // the plain L2 baseline learns, and never acts on, where endpoints are
    });
    this.switchSync = new SwitchSync({
      registry, subnets, sync: this.sync, outbox, learner: this.learner, mapCache: this.mapCache, buffers: this.buffers, phases: this.phases,
      connected: (sw) => deps.switches.get(sw.dpid) === sw, clock: this.clock,
      topology: () => this.topology, options, log, noteUpdate: (flowMods, dpids) => this.noteUpdate(flowMods, dpids),
    });
  }

  start(): void {
    const { switches } = this.deps;
    this.subscriptions.push(
      switches.switchUp$.subscribe((sw) => {
        this.search.switchUp(sw.dpid); // a switch (re)connected: what happened while it was away from us is looked for
        this.switchSync.up(sw).catch((e: Error) => this.log.error('could not synchronise a switch', { dpid: sw.dpidText, error: e.message }));
      }),
      switches.switchDown$.subscribe((sw) => this.switchSync.down(sw)),
      switches.packetIn$.subscribe((event) => this.guard('packet-in', () => {
        const started = this.clock.monotonic();
        this.ingress.handle(event);
        this.metrics.packetInHandling.observe((this.clock.monotonic() - started) / 1000);
      })),
      switches.portStatus$.subscribe((event) => this.guard('port-status', () => {
        this.switchSync.portStatus(event);
        this.search.portChanged(event.sw.dpid, event.message.port.portNo);
      })),
      switches.flowRemoved$.subscribe((event) => this.guard('flow-removed', () => this.switchSync.flowRemoved(event))),
    );
    this.edgeCheck = this.clock.setTimeout(() => {
      const missing = this.missingEdges();
      if (missing.length > 0) this.log.warn('configured edge switches have not connected', { missing });
    }, this.options.edgeCheckMs);
    this.edgeCheck.unref?.();
    this.search.start();
  }

  stop(): void {
    this.clock.clearTimeout(this.edgeCheck);
    this.search.stop();
    for (const s of this.subscriptions) s.unsubscribe();
    this.sync.close();
    this.events.complete();
  }

  /** Resolves when queued binding writes are durable (shutdown, tests). */
  idle(): Promise<void> {
    return this.persister.idle();
  }

  /** Configured edge switches that are not connected (the dashboard and a start-up check report them). */
  missingEdges(): string[] {
    return this.deps.subnets.subnets.flatMap((s) => s.edges.filter((e) => this.deps.switches.get(e.dpid) === undefined).map((e) => `${s.name}/${formatDpid(e.dpid)}`));
  }

  get bindings(): BindingService {
    return this.deps.registry.bindings;
  }

  /** The rules every connected switch should hold now, and what could not be compiled. */
  desired(): Compiled {
    return compile({ ...this.topology.state(), bindings: this.options.rewrite ? this.deps.registry.bindings.list() : [] });
  }

  /** What compiled rules depend on besides the bindings, now (the planner's input). */
  topologyState(): TopologyState {
    return this.topology.state();
  }

  /** Since when an endpoint has been lost (its port down or gone, no move to follow: it is looked for), or undefined. */
  lostSince(binding: Binding): number | undefined {
    return this.search.lostSince(binding);
  }

  /** Where the router is behind a switch: configured, or learned from the gateway's frames. */
  routerPort(dpid: bigint): number | undefined {
    return this.gateways.routerPort(dpid);
  }

  gatewayMac(subnet: string): Mac | undefined {
    return this.gateways.gatewayMac(subnet);
  }

  /** Brings every switch (or only `only`) to the desired state: after a config-level change, an API removal, a reconnect. */
  async reconcile(only?: bigint): Promise<void> {
    await this.switchSync.reconcile(only === undefined ? undefined : [formatDpid(only)]);
  }

  /** An operator unlocks a subnet's learned gateway (the router was replaced); the next router ARP teaches it again. */
  async forgetGateway(subnet: string): Promise<boolean> {
    if (!this.gateways.forget(subnet)) return false;
    await this.reconcile();
    return true;
  }

  /** Removes a binding (an operator's decision, e.g. a stale VM) and its rules. */
  async removeBinding(eid: string): Promise<Binding | undefined> {
    const now = this.clock.now();
    await this.prestage.cancel(eid, now);
    const result = await this.deps.registry.commit({ kind: 'remove', eid }, now);
    if (result.status !== 'committed') return undefined;
    this.events.next(result.event);
    this.persister.request().catch((e: Error) => this.log.error('could not persist bindings', { error: e.message }));
    await this.forgetBinding(result.event.binding);
    return result.event.binding;
  }

  /**
   * Bindings another replica changed (the shared store's feed): the switches this replica masters
   * follow, in step with the replicas that master the others.
   */
  async follow(events: readonly BindingEvent[]): Promise<void> {
    for (const event of events) {
      this.events.next(event);
      await this.mover.follow(event).catch((e: Error) => this.log.error('could not follow a change of another replica', { eid: event.binding.eid, error: e.message }));
    }
  }

  /** Verifies an old attachment on a switch this replica masters (another replica asked). */
  verifyAttachment(check: ActivityCheck): Promise<Verdict> {
    return this.verifier.verify(check);
  }

  /** This replica became the master of a switch: its flows are read and brought to the desired state. */
  async becameMaster(dpid: bigint): Promise<void> {
    this.search.hurry(); // an endpoint may have moved while nobody mastered the switch: its announcements were lost
    const sw = this.deps.switches.get(dpid);
    if (sw !== undefined) await this.switchSync.up(sw);
  }

  /** Another replica masters the switch now: this one forgets what it believed the switch holds. */
  lostMastership(dpid: bigint): void {
    const sw = this.deps.switches.get(dpid);
    if (sw !== undefined) this.switchSync.down(sw);
  }

  /** A binding is gone: its buffer, cache and learned rules here, and its compiled rules everywhere this replica writes. */
  private async forgetBinding(binding: Binding): Promise<void> {
    this.mapCache.forget(binding.id);
    this.buffers.forget(binding.id);
    const sw = this.deps.switches.get(binding.locator.dpid);
    if (sw !== undefined) this.outbox.send(sw, this.learner.forget(sw.dpid, binding.mac));
    await this.reconcile();
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** A stopped VM moved ahead shows it runs at its new place: the hold ends. */
  private resumedAt(binding: Binding, why: string): void {
    this.phases.endHold(binding.id, why).catch((e: Error) => this.log.error('could not end a stop', { eid: binding.eid, error: e.message }));
  }

  private noteUpdate(flowMods: number, dpids: string[]): void {
    if (flowMods > 0) this.events.next({ type: 'RULES_UPDATED', dpids, flowMods, at: this.clock.now() });
  }

  private guard(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.log.error(`internal error handling ${what}`, { error: (error as Error).message, stack: (error as Error).stack });
    }
  }
}

