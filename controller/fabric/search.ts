// The shell of the lost-endpoint search (mobility/lost-search.ts): once a second it finds the
// bindings whose port is down or gone on a connected switch (and that no move or stop is under
// way for) among the suspects events named (a port changed, a switch came up, a binding was added
// or moved: never a scan of every binding), asks the planner which to look for now, and sends each
// one's ARP probe for its EID, unicast to its MAC, out of every up host port of the edge switches
// this replica masters (one PACKET_OUT per switch). The endpoint's answer is its sighting (Ingress): the move follows as any
// other, with its checks (claim limits, conflicts, damping).

import type { Logger } from '../log.js';
import { LostEndpointSearch, type Binding, type BindingService, type LostEndpoint, type LostSearchOptions, type SubnetMap } from '../mobility/index.js';
import { OFPP_MAX, type Mac } from '../openflow/index.js';
import { buildArpProbe } from '../packet/index.js';
import type { FrameBuffers } from './buffers.js';
import type { Clock, Timer } from './clock.js';
import type { Flights } from './flights.js';
import type { Outbox } from './outbox.js';
import type { FabricSwitch, FabricSwitches } from './switches.js';
import { isPortDown } from './verify.js';

export interface SearchCounters {
  /** Rounds sent for lost endpoints (one round: every up host port of every edge this replica masters). */
  rounds: number;
  /** Lost endpoints whose answer to a round was their sighting. */
  answers: number;
}

export interface SearchDeps {
  readonly switches: FabricSwitches;
  readonly bindings: BindingService;
  readonly subnets: SubnetMap;
  readonly outbox: Outbox;
  readonly flights: Flights;
  readonly buffers: () => FrameBuffers;
  readonly routerPort: (dpid: bigint) => number | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly probeMac: Mac;
  readonly options: LostSearchOptions;
  /** An endpoint's first round was due: it is reported lost (once, until it is no longer lost). */
  readonly onLost: (binding: Binding, since: number) => void;
  /** How often lost endpoints are looked for (the planner spaces each one's rounds). */
  readonly tickMs?: number;
}

export class LostSearch {
  readonly counters: SearchCounters = { rounds: 0, answers: 0 };
  private readonly planner: LostEndpointSearch;
  /** Endpoints whose loss was reported (their first round was due), until they are no longer lost. */
  private readonly reported = new Set<number>();
  /** Bindings that may be lost: checked at each look, dropped once their port is up or their switch away. */
  private readonly suspects = new Set<number>();
  private timer: Timer | undefined;

  /** Off (firstAfterMs 0): nothing is looked for, nor kept as a suspect. */
  private readonly enabled: boolean;

  constructor(private readonly deps: SearchDeps) {
    this.planner = new LostEndpointSearch(deps.options);
    this.enabled = deps.options.firstAfterMs > 0;
  }

  start(): void {
    if (!this.enabled) return;
    const every = this.deps.tickMs ?? 1000;
    const tick = (): void => {
      try {
        this.tick();
      } catch (error) {
        this.deps.log.error('lost-endpoint search failed', { error: (error as Error).message });
      }
      this.timer = this.deps.clock.setTimeout(tick, every);
      this.timer.unref?.();
    };
    this.timer = this.deps.clock.setTimeout(tick, every);
    this.timer.unref?.();
  }

  stop(): void {
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** This replica became a switch's master: what happened while nobody did is looked for at once. */
  hurry(): void {
    this.planner.hurry(this.deps.clock.now());
  }

  /** A port changed (PORT_STATUS): the bindings there may have lost it. */
  portChanged(dpid: bigint, port: number): void {
    if (!this.enabled) return;
    for (const b of this.deps.bindings.atAttachment(dpid, port)) this.suspects.add(b.id);
  }

  /** A switch came up: its bindings' ports may have gone while it was away (its own bindings, from the store's index by switch). */
  switchUp(dpid: bigint): void {
    if (!this.enabled) return;
    for (const b of this.deps.bindings.atSwitch(dpid)) this.suspects.add(b.id);
    this.hurry();
  }

  /** A binding was added or moved (here or by another replica): its port may be down already. */
  bindingChanged(id: number): void {
    if (this.enabled) this.suspects.add(id);
  }

  /** An answer to a probe from this MAC for this EID: is it one of ours for a lost endpoint? */
  answered(mac: Mac, eid: string): boolean {
    if (!this.planner.wanted(mac, eid)) return false;
    this.counters.answers++;
    return true;
  }

  /** Endpoints lost now. */
  get lost(): number {
    return this.planner.size;
  }

  /**
   * Since when the binding has been lost (epoch ms), or undefined: its loss was reported (its first
   * round was due: what the API, the event and the timeline say agree) and its port is still down or gone.
   */
  lostSince(b: Binding): number | undefined {
    if (!this.reported.has(b.id)) return undefined;
    const since = this.planner.since(b.id);
    const sw = this.deps.switches.get(b.locator.dpid);
    return since !== undefined && sw !== undefined && isPortDown(sw, b.locator.port) ? since : undefined;
  }

  tick(): void {
    const { deps } = this;
    const now = deps.clock.now();
    const buffers = deps.buffers();
    const lost: LostEndpoint[] = [];
    const byId = new Map<number, Binding>();
    for (const id of this.suspects) {
      const b = deps.bindings.byId(id);
      const sw = b === undefined ? undefined : deps.switches.get(b.locator.dpid);
      // Gone, its port up, or its switch away (which says nothing about the endpoint; its return names it again).
      if (b === undefined || sw === undefined || !isPortDown(sw, b.locator.port)) { this.suspects.delete(id); continue; }
      if (deps.flights.get(b.mac) !== undefined || buffers.isHolding(b.id) || buffers.isAhead(b.id)) continue; // its move or stop is under way: looked at again next time
      lost.push({ id: b.id, eid: b.eid, mac: b.mac });
      byId.set(b.id, b);
    }
    for (const id of this.reported) if (!byId.has(id)) this.reported.delete(id);
    const due = this.planner.due(lost, now);
    if (due.length === 0) return;
    const edges = deps.switches.list().filter((sw) => deps.outbox.canWrite(sw.dpid) && deps.subnets.ofDpid(sw.dpid) !== undefined)
      .map((sw) => ({ sw, out: this.hostPorts(sw) })).filter((e) => e.out.length > 0);
    for (const endpoint of due) {
      const frame = buildArpProbe({ senderMac: deps.probeMac, targetMac: endpoint.mac, targetIp: endpoint.eid });
      let ports = 0;
      for (const { sw, out } of edges) if (deps.outbox.emit(sw, out, frame)) ports += out.length;
      // Lost is a fact about the binding, reported once, whether or not this replica masters an edge to ask at.
      const b = byId.get(endpoint.id)!;
      if (!this.reported.has(b.id)) {
        this.reported.add(b.id);
        deps.onLost(b, this.planner.since(b.id) ?? now);
      }
      if (ports === 0) continue; // this replica masters no edge now (hurry() starts again when it does)
      this.counters.rounds++;
      deps.log.info('looking for a lost endpoint: its port is down and no move told where it went', { eid: endpoint.eid, mac: endpoint.mac, switches: edges.length, ports });
    }
  }

  /** The switch's up ports a host can sit behind: not reserved, not the router's. */
  private hostPorts(sw: FabricSwitch): number[] {
    const router = this.deps.routerPort(sw.dpid);
    const out: number[] = [];
    for (const portNo of sw.ports.keys()) {
      if (portNo >= OFPP_MAX || portNo === router || isPortDown(sw, portNo)) continue;
      out.push(portNo);
    }
    return out;
  }
}
