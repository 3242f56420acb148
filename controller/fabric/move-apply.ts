// Applying a committed move on the switches this replica masters (for its own moves and, with
// several replicas, for the others'): the learner forgets the VM, the binding's change is planned
// (pipeline) and synchronised (TableSync: receive side, then, after every replica confirmed its
// receive side and a stopped VM's held frames went out, the send side; cleanup after the grace).

import type { Logger } from '../log.js';
import type { Binding, BindingEvent } from '../mobility/index.js';
import { isAway } from '../mobility/index.js';
import { planBindingChange, type UpdatePlan } from '../pipeline/index.js';
import { parseDpid } from '../switch/dpid.js';
import type { BufferedFrame, FrameBuffers } from './buffers.js';
import type { FlapDamper } from './damping.js';
import type { FabricEvent } from './events.js';
import type { L2Learner } from './l2-learner.js';
import type { MapCache } from './map-cache.js';
import type { Outbox } from './outbox.js';
import type { Prestager } from './prestage.js';
import type { MoveCoordination } from './roles.js';
import type { FabricSwitches } from './switches.js';
import type { TableSync, UpdateResult } from './table-sync.js';
import type { TopologyView } from './topology.js';

export interface MoveApplierDeps {
  readonly switches: FabricSwitches;
  readonly sync: TableSync;
  readonly learner: L2Learner;
  readonly outbox: Outbox;
  readonly damper: FlapDamper;
  readonly mapCache: MapCache;
  readonly prestage: Prestager;
  readonly buffers: FrameBuffers;
  /** Several replicas: the agreement on each move's receive side (absent: this process writes every switch). */
  readonly coordination?: MoveCoordination;
  readonly coordinationTimeoutMs: number;
  /** A binding removed (by another replica): its rules go from the switches this replica masters. */
  readonly onRemoved: (binding: Binding) => Promise<void>;
  readonly topology: () => TopologyView;
  /** How long a move's old receive side stays (stragglers to a buffer are delivered that long). */
  readonly graceMs: number;
  readonly log: Logger;
  readonly emit: (event: FabricEvent) => void;
  readonly onUpdate: (result: UpdateResult, dpids: string[]) => void;
}

export class MoveApplier {
  constructor(private readonly deps: MoveApplierDeps) {}

  /**
   * Another replica moved (or removed) a binding: this replica brings the switches it masters to
   * the new rules, in step with the others (coordination).
   */
  async follow(event: BindingEvent): Promise<void> {
    if (event.type === 'BINDING_ADDED') return;
    if (event.type === 'BINDING_REMOVED') return this.deps.onRemoved(event.binding);
    this.deps.damper.recordMove(event.binding.eid, event.at);
    const { plan, result } = await this.apply(event);
    this.deps.onUpdate(result, [...new Set(plan.steps.flatMap((step) => [...step.mods.keys()]))]);
  }

  /** What every replica does for a committed move on the switches it masters. */
  async apply(event: Extract<BindingEvent, { type: 'BINDING_MOVED' }>, afterSend?: () => void): Promise<{ plan: UpdatePlan; result: UpdateResult; plannedAhead: boolean }> {
    const { log } = this.deps;
    const { previous, binding } = event;
    const until = this.deps.damper.recordMove(binding.eid, event.at);
    if (until !== undefined) {
      log.warn('endpoint moves too often: further claims refused for a while', { eid: binding.eid, mac: binding.mac });
      this.deps.emit({ type: 'ENDPOINT_SUSPENDED', eid: binding.eid, mac: binding.mac, until, at: event.at });
    }
    this.forgetLearned(previous);
    // Planned with the map-cache as it is: the previous version's cached correspondent rules must go too.
    // A stopped VM's buffer ends with the move (its rules are the previous version's only), unless
    // the move was made ahead of its resume: then its frames wait on, at its new edge.
    const before = this.deps.topology().state();
    if (!this.deps.buffers.isAhead(binding.id)) this.deps.buffers.release(binding.id, this.deps.graceMs + 1000, true);
    const after = this.deps.topology().state();
    // A move staged ahead was planned then: unless what its rules depend on changed, only its send side is left to send.
    const staged = this.deps.prestage.plannedMove(previous, binding, before, after);
    const { plan, problem } = staged === undefined ? planBindingChange(previous, binding, before, after) : { plan: staged, problem: undefined };
    if (!isAway(binding)) this.deps.mapCache.forget(binding.id);
    if (problem !== undefined) log.warn('rule compilation problem', { problem });
    const beforeSend = async (): Promise<void> => {
      await this.coordinate(plan, binding);
      await this.replay(previous, binding);
    };
    const result = await this.deps.sync.apply(plan, afterSend, beforeSend);
    this.deps.coordination?.done(binding.id, binding.version);
    await this.deps.prestage.settle(binding).catch((e: Error) => result.failures.push(`staged rules: ${e.message}`));
    return { plan, result, plannedAhead: staged !== undefined };
  }

  /**
   * Several replicas: each confirms the receive side on the switches it masters, and none installs
   * its send side before every switch of the move has it (make-before-break across replicas). A
   * replica that does not answer in time is dead: its switches' next master reconciles them.
   */
  private async coordinate(plan: UpdatePlan, binding: Binding): Promise<void> {
    const coordination = this.deps.coordination;
    if (coordination === undefined) return;
    const all = [...plan.steps[0].mods.keys()].map((d) => parseDpid(d));
    const mine = all.filter((d) => this.deps.outbox.canWrite(d));
    await coordination.confirmReceive(binding.id, binding.version, mine);
    if (!(await coordination.receiveConfirmed(binding.id, binding.version, all, this.deps.coordinationTimeoutMs))) {
      this.deps.log.warn('receive side not confirmed by every replica in time; going on', { eid: binding.eid, version: binding.version });
    }
  }

  /**
   * The frames that waited for the VM during its stop go to it at its new place, in order, before
   * the send side turns newer traffic there: a barrier on that switch confirms they are out. When
   * another replica masters that switch, they go back into the old switch's pipeline instead, marked,
   * which the move's rules there send on to the VM (in order among themselves).
   */
  private async replay(previous: Binding, binding: Binding): Promise<void> {
    const { buffers, outbox } = this.deps;
    const send = (frames: readonly BufferedFrame[]) => (outbox.canWrite(binding.locator.dpid) ? buffers.deliver(binding, frames) : buffers.redirect(previous, binding, frames));
    const frames = buffers.takePending(binding.id, false);
    if (frames.length === 0) return void buffers.takePending(binding.id, true);
    try {
      if (!outbox.canWrite(binding.locator.dpid)) return send(frames);
      await buffers.replay(binding.id, binding, frames); // resolves once the switch confirmed them out
    } finally {
      send(buffers.takePending(binding.id, true)); // the stragglers that came meanwhile, behind them
    }
  }

  /**
   * A learned rule for the VM anywhere would swallow its frames (no packet-in, no sighting) or,
   * away from home, let them in before the send side is ready. Only where the learner has it,
   * plus the old switch: no per-move work on unrelated switches.
   */
  private forgetLearned(previous: Binding): void {
    for (const sw of this.deps.switches.list()) {
      if (sw.dpid !== previous.locator.dpid && this.deps.learner.portOf(sw.dpid, previous.mac) === undefined) continue;
      this.deps.outbox.send(sw, this.deps.learner.forget(sw.dpid, previous.mac));
    }
  }
}
