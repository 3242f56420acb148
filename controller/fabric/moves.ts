// Moves: a known endpoint claimed at a new attachment. The claim is judged (MoveDetector, with
// the evidence at hand), verified when no evidence is at hand (MoveVerifier), applied to the
// bindings (BindingRegistry), planned for this binding only (pipeline) and synchronised on the
// switches (TableSync: receive side, send side, cleanup). The endpoint's frames are held
// meanwhile (Flights) and released once its send side is confirmed. Refused claims are conflicts.

import {
  isAway, type Binding, type BindingEvent, type BindingRegistry, type MigrationIntent, type MigrationIntents, type MoveDecision, type MoveDetector, type MoveEvidence, type Sighting,
} from '../mobility/index.js';
import type { Mac } from '../openflow/index.js';
import { parsePacket } from '../packet/index.js';
import { formatDpid } from '../switch/dpid.js';
import { isProbeAnswer } from './classify.js';
import type { Clock } from './clock.js';
import type { ConflictReporter } from './conflicts.js';
import type { FabricCounters } from './events.js';
import type { Flight, Flights, Held } from './flights.js';
import type { Forwarding } from './forwarding.js';
import type { MigrationLog } from './migration-log.js';
import { MoveApplier, type MoveApplierDeps } from './move-apply.js';
import { isAnnouncement } from './ingress.js';
import { isPortDown, type MoveVerifier } from './verify.js';

/** What the Mover needs besides what applying a move needs (MoveApplierDeps: switches, sync, buffers, coordination...). */
export interface MoverDeps extends MoveApplierDeps {
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly detector: MoveDetector;
  readonly verifier: MoveVerifier;
  readonly flights: Flights;
  readonly forwarding: Forwarding;
  /** Source MAC of the controller's ARP probes: answers to them were for us. */
  readonly probeMac: Mac;
  /** A stopped VM whose move was made ahead runs at its new place (its frames held meanwhile go to it). */
  readonly onResumed: (binding: Binding) => void;
  readonly migrations: MigrationLog;
  readonly clock: Clock;
  readonly counters: FabricCounters;
  readonly conflicts: ConflictReporter;
  readonly persist: () => void;
  /** Hands a held frame back to packet-in handling (it came from a third place during a move). */
  readonly redispatch: (held: Held) => void;
}

type Claim = Extract<MoveDecision, { kind: 'move' | 'pending' }>;

export class Mover {
  private readonly applier: MoveApplier;

  constructor(private readonly deps: MoverDeps) {
    this.applier = new MoveApplier(deps);
  }

  /** The evidence at hand without asking a switch: the old port's state, an intent, damping. */
  evidence(s: Sighting): MoveEvidence {
    const { registry, intents, switches, damper } = this.deps;
    const b = (s.ip === undefined ? undefined : registry.bindings.byEid(s.ip)) ?? registry.bindings.byMac(s.mac);
    if (b === undefined) return {};
    const intent = intents.get(b.eid, s.now);
    const old = switches.get(b.locator.dpid);
    const oldPortDown = old === undefined || isPortDown(old, b.locator.port);
    return { oldPortDown, flapping: damper.isSuspended(b.eid, s.now), ...(intent === undefined ? {} : { intent }) };
  }

  /** A move, or a claim that needs its old attachment verified first. Frames are held from now on. */
  claim(decision: Claim, sighting: Sighting, first: Held): void {
    const flight = this.deps.flights.begin(decision.binding.mac, first, this.deps.clock.monotonic());
    const work = decision.kind === 'move' ? this.move(decision, sighting, flight) : this.verifyThenMove(decision, sighting, flight);
    work.catch((error: unknown) => this.fail(decision.binding, flight, error));
  }

  /** A claim refused: the binding stays; frames from its real place go on, the claimant's are dropped. */
  refuse(binding: Binding, reason: string, detail: string, s: Sighting, flight?: Flight): void {
    this.deps.conflicts.report({ eid: binding.eid, mac: s.mac, reason, detail, dpid: s.dpid, port: s.port, now: s.now });
    if (flight === undefined) return;
    this.deps.flights.end(flight);
    for (const h of flight.held) {
      if (h.sw.dpid === binding.locator.dpid && h.inPort === binding.locator.port) this.deps.redispatch(h);
      else this.deps.flights.dropped++;
    }
  }

  /**
   * A new endpoint at a port that already holds one: it is learned only if that one is gone (its
   * probe unanswered). Its frames wait meanwhile; refused, they are dropped.
   */
  verifyPort(decision: Extract<MoveDecision, { kind: 'verify-port' }>, sighting: Sighting, first: Held, learn: (d: MoveDecision, s: Sighting, h: Held) => void): void {
    const flight = this.deps.flights.begin(decision.mac, first, this.deps.clock.monotonic());
    const work = (async () => {
      const verdict = await this.deps.verifier.verify(decision.check);
      const later: Sighting = { ...sighting, now: this.deps.clock.now() };
      const next = this.deps.detector.decide(this.deps.registry.bindings, later, { oldAttachment: verdict });
      this.deps.flights.end(flight);
      if (next.kind === 'refused') {
        this.deps.conflicts.report({ eid: next.eid, mac: next.mac, reason: next.reason, detail: next.detail, dpid: sighting.dpid, port: sighting.port, now: later.now });
        this.deps.flights.dropped += flight.held.length;
        return;
      }
      const [head, ...rest] = flight.held;
      if (head !== undefined) learn(next, later, head);
      for (const h of rest) this.deps.redispatch(h);
    })();
    work.catch((error: unknown) => {
      this.deps.flights.end(flight);
      this.deps.log.error('port check failed', { eid: decision.eid, error: (error as Error).message });
    });
  }

  private async verifyThenMove(decision: Extract<MoveDecision, { kind: 'pending' }>, sighting: Sighting, flight: Flight): Promise<void> {
    const verdict = await this.deps.verifier.verify(decision.check);
    const now = this.deps.clock.now();
    const later: Sighting = { ...sighting, now };
    const next = this.deps.detector.decide(this.deps.registry.bindings, later, { ...this.evidence(later), oldAttachment: verdict });
    if (next.kind === 'move') return this.move(next, later, flight);
    if (next.kind === 'conflict') return this.refuse(next.binding, next.reason, next.detail, sighting, flight);
    this.deps.flights.end(flight);
    this.deps.log.debug('move check ended without a move (another frame or replica settled it)', { eid: decision.binding.eid, decision: next.kind });
    for (const h of flight.held) this.deps.redispatch(h);
  }

  /**
   * Loss-free migration: the VM stopped, and an intent names the port it will run at. The move is
   * made now, ahead of its resume: its frames keep waiting at the controller (held at its new edge
   * from now on) and its send side is ready when it runs; then the held frames go to it first
   * (Fabric.endHold). False when the move cannot be made ahead (the claim is judged as any other:
   * refused, or a move already under way); the VM's first frame there then makes it.
   */
  async moveAhead(binding: Binding, intent: MigrationIntent): Promise<boolean> {
    const { clock, detector, registry, flights, log } = this.deps;
    if (intent.toDpid === undefined || intent.toPort === undefined || flights.get(binding.mac) !== undefined) return false;
    const sighting: Sighting = { dpid: intent.toDpid, port: intent.toPort, mac: binding.mac, ip: binding.eid, kind: 'signal', now: clock.now() };
    const decision = detector.decide(registry.bindings, sighting, this.evidence(sighting));
    if (decision.kind !== 'move') {
      log.info('move not made ahead of the resume', { eid: binding.eid, decision: decision.kind, ...('reason' in decision ? { reason: decision.reason } : {}) });
      return false;
    }
    const flight = flights.begin(binding.mac, undefined, clock.monotonic());
    try {
      await this.move(decision, sighting, flight, { ahead: true });
      return true;
    } catch (error) {
      this.fail(binding, flight, error);
      return false;
    }
  }

  private async move(decision: Extract<MoveDecision, { kind: 'move' }>, sighting: Sighting, flight: Flight, how: { ahead?: boolean } = {}): Promise<void> {
    const { clock, log } = this.deps;
    const previous = decision.binding;
    const detectedAt = clock.now();
    const event = await this.commitMove(decision, sighting, flight);
    if (event === undefined) return;
    // From here the move is a fact (journaled or committed): whatever the switches do, it is recorded as such.
    if (how.ahead === true) this.deps.buffers.markAhead(event.binding.id);
    this.deps.emit(event);
    const binding = event.binding;
    let releasedAt = 0;
    // The journal's fsync waits until the switches have the move: it was always asynchronous (the
    // move is a fact in the registry now), and its file work would compete with reading the barriers.
    const applied = this.applier.apply(event, () => { releasedAt = clock.monotonic(); this.release(binding, flight); });
    void applied.finally(() => this.deps.persist()).catch(() => undefined);
    const { plan, result, plannedAhead } = await applied;
    this.deps.counters.moves++;
    this.deps.onUpdate(result, [...new Set(plan.steps.flatMap((step) => [...step.mods.keys()]))]);
    const record = this.deps.migrations.add({
      eid: binding.eid, mac: binding.mac, from: previous.locator, to: binding.locator, version: binding.version,
      reason: decision.reason, trigger: sighting.kind, detectedAt,
      reconvergenceMs: clock.monotonic() - flight.startedAt, releaseMs: releasedAt - flight.startedAt, confirmMs: result.confirmMs, rounds: result.rounds, plannedAhead,
      flowMods: result.flowMods, switches: result.switches, failures: result.failures,
    });
    log.info('migration completed', { ...record, from: locatorText(record.from), to: locatorText(record.to) });
    this.deps.emit({ type: 'MIGRATION_COMPLETED', migration: record, at: clock.now() });
  }

  /**
   * Applies the decision to the bindings: at once with this process's own store; with a shared one,
   * as a compare-and-swap that another replica may win (then the claim is judged again against
   * what it did, a few times at most). Undefined when there is no move to make after all.
   */
  private async commitMove(decision: Extract<MoveDecision, { kind: 'move' }>, sighting: Sighting, flight: Flight): Promise<Extract<BindingEvent, { type: 'BINDING_MOVED' }> | undefined> {
    const { registry } = this.deps;
    let current: MoveDecision = decision;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (current.kind !== 'move') break;
      const result = await registry.commit(current, sighting.now);
      if (result.status === 'committed' && result.event.type === 'BINDING_MOVED') {
        this.deps.intents.consume(current.binding.eid);
        return result.event;
      }
      if (result.status !== 'conflict') throw new Error(`the store refused the move of ${current.binding.eid}`);
      const again: Sighting = { ...sighting, now: this.deps.clock.now() };
      current = this.deps.detector.decide(registry.bindings, again, this.evidence(again));
    }
    this.deps.flights.end(flight);
    if (current.kind === 'conflict') this.refuse(current.binding, current.reason, current.detail, sighting);
    else if (current.kind !== 'move') for (const h of flight.held) this.deps.redispatch(h);
    else throw new Error(`the move of ${current.binding.eid} lost every race for the store`);
    return undefined;
  }

  /** Another replica moved (or removed) a binding: the switches this replica masters follow (MoveApplier). */
  follow(event: BindingEvent): Promise<void> {
    return this.applier.follow(event);
  }

  /**
   * Step 2 is confirmed: at home the learner's rules open the way; held frames from the new place
   * go back into its pipeline (marked: they cannot come back), except the VM's announcements
   * (RARP, its gratuitous ARP) and its answer to a probe, which were for us. Frames it sent from a third place
   * meanwhile are handled afresh: a move during a move.
   */
  private release(binding: Binding, flight: Flight): void {
    const { dpid, port } = binding.locator;
    this.deps.flights.end(flight);
    // A move made ahead of a stopped VM's resume: a frame of the VM at its new port while the move
    // was being applied says it runs there already (its RARP came before the move was done).
    if (this.deps.buffers.isAhead(binding.id) && flight.held.some((h) => h.sw.dpid === dpid && h.inPort === port)) this.deps.onResumed(binding);
    const sw = this.deps.switches.get(dpid);
    if (sw !== undefined && !isAway(binding)) this.deps.forwarding.learnEndpoint(sw, port, binding.mac, this.deps.clock.monotonic());
    for (const h of flight.held) {
      if (h.sw.dpid !== dpid || h.inPort !== port) { this.deps.redispatch(h); continue; }
      const packet = parsePacket(h.message.data);
      if (!packet.ok || isAnnouncement(packet.value, binding.eid) || isProbeAnswer(packet.value, this.deps.probeMac)) continue;
      this.deps.outbox.reinject(h.sw, h.inPort, h.message.data);
    }
  }

  private fail(binding: Binding, flight: Flight, error: unknown): void {
    this.deps.flights.end(flight);
    this.deps.counters.failedMoves++;
    const message = (error as Error).message ?? String(error);
    this.deps.log.error('migration failed', { eid: binding.eid, error: message });
    this.deps.emit({ type: 'MIGRATION_FAILED', eid: binding.eid, mac: binding.mac, error: message, at: this.deps.clock.now() });
  }
}

export function locatorText(l: Binding['locator']): string {
  return `${l.subnet}/${formatDpid(l.dpid)}:${l.port}/${l.address}`;
}
