// What a migration's phases ask of the runtime (intents from the API, a host agent, the
// hypervisor's OVSDB, another replica): staging the move's receive side, and for a loss-free
// migration copying the VM's frames while it migrates, holding them while it is stopped, making
// its move ahead of the resume, and delivering what waited once it runs again (buffers.ts keeps
// the frames; the compiler turns each buffer mode into the VM's rules).

import type { Logger } from '../log.js';
import type { BindingRegistry, MigrationIntent, MigrationIntents } from '../mobility/index.js';
import { planBindingChange, type UpdatePlan } from '../pipeline/index.js';
import { formatDpid } from '../switch/dpid.js';
import type { FrameBuffers } from './buffers.js';
import type { Clock } from './clock.js';
import type { FabricCounters, FabricEvent } from './events.js';
import type { Mover } from './moves.js';
import type { Outbox } from './outbox.js';
import type { Prestager } from './prestage.js';
import type { TableSync, UpdateResult } from './table-sync.js';
import type { TopologyView } from './topology.js';

export interface MigrationPhaseDeps {
  readonly registry: BindingRegistry;
  readonly intents: MigrationIntents;
  readonly buffers: FrameBuffers;
  readonly mover: Mover;
  readonly prestage: Prestager;
  readonly sync: TableSync;
  readonly outbox: Outbox;
  readonly topology: () => TopologyView;
  readonly clock: Clock;
  readonly log: Logger;
  readonly rewrite: boolean;
  readonly graceMs: number;
  /** Hand a stopped VM's frames to its destination port when that is up already (BufferLimits.queueAtDestination). */
  readonly queueAtDestination: boolean;
  /** Is this switch port up (link and admin)? */
  readonly portUp: (dpid: bigint, port: number) => boolean;
  readonly counters: FabricCounters;
  readonly emit: (event: FabricEvent) => void;
  readonly onUpdate: (result: UpdateResult, dpids: string[]) => void;
}

export class MigrationPhases {
  constructor(private readonly deps: MigrationPhaseDeps) {}

  /**
   * A migration intent (from the API or the hypervisor's OVSDB): registered as evidence, and when
   * it names the port, the move's receive side is staged at once.
   */
  async announce(intent: MigrationIntent): Promise<boolean> {
    if (!this.deps.rewrite) return false;
    const staged = await this.deps.prestage.stage(intent, this.deps.clock.now());
    if (staged === 'staged') this.deps.counters.staged++;
    return staged !== false;
  }

  /**
   * What an intent's phase asks of the runtime (the API's, a host agent's, another replica's):
   * migrating: its move is staged (`stage`, not for one another replica staged already) and, for a
   * loss-free migration, the VM's frames are copied from now; stopping: they are held; resumed:
   * they go to the VM where it runs now.
   */
  async onIntent(intent: MigrationIntent, stage = true): Promise<void> {
    if (!this.deps.rewrite) return;
    switch (intent.phase ?? 'migrating') {
      case 'migrating':
        if (stage) await this.announce(intent);
        if (intent.lossFree === true) await this.copying(intent);
        return;
      case 'stopping':
        await this.stopping(intent.eid, intent.stoppedAt);
        return;
      case 'resumed':
        await this.resumed(intent.eid);
        return;
    }
  }

  /**
   * Loss-free migration, the VM migrates: until it stops, what its edge delivers to it is also
   * copied to the controller, which keeps the last few milliseconds (the frames it may miss before
   * 'stopping' arrives). Ends with the intent.
   */
  async copying(intent: MigrationIntent): Promise<boolean> {
    const binding = this.deps.registry.bindings.byEid(intent.eid);
    if (binding === undefined) return false;
    if (!this.roomFor(binding.id, binding.eid, 'migrating')) return false;
    const asked = this.deps.clock.monotonic();
    const forMs = Math.max(0, intent.expiresAt - this.deps.clock.now());
    const onEnd = () => { this.rebuffer(binding.eid, () => true).catch((e: Error) => this.deps.log.error('could not stop copying', { eid: binding.eid, error: e.message })); };
    const copying = await this.rebuffer(binding.eid, () => this.deps.buffers.copy(binding.id, forMs, onEnd, binding.locator));
    if (!copying) return false;
    this.deps.buffers.watchReads(binding.id); // the copy rules are in place
    // Frames that reach the VM's port before its copy rules are lost if it stops meanwhile: how long they took says how much lead the signal needs.
    this.deps.log.info('VM migrating: its frames are copied', { eid: binding.eid, dpid: formatDpid(binding.locator.dpid), port: binding.locator.port, rulesMs: Math.round(this.deps.clock.monotonic() - asked) });
    return true;
  }

  /**
   * The VM of `eid` stopped for the stop-and-copy of a live migration (as the hypervisor said, at
   * `stoppedAt` by its clock): frames for it wait at the controller from now, starting with the
   * copies of those it may have missed. When an intent names the port it will run at, the move is
   * made at once (ahead of its resume). Otherwise the move waits for its first frame elsewhere; if
   * nothing ends the stop within the buffer's time bound, the frames go to where it is.
   */
  async stopping(eid: string, stoppedAt?: number): Promise<boolean> {
    const lateMs = stoppedAt === undefined ? undefined : Math.round(this.deps.clock.now() - stoppedAt);
    const found = this.deps.registry.bindings.byEid(eid);
    if (found === undefined || !this.deps.rewrite) return false;
    // Which copies its port had not handed on when it stopped, by the port's counters (a tap counts
    // what the VM read). Where they cannot tell (undefined) or cannot decide alone (not `trusted`:
    // few readings, or reads that swung), the copies of replayBeforeStopMs before the stop are
    // replayed as well. Read first: a move may end the copying meanwhile, which what follows sees.
    const counted = await this.deps.buffers.unreadAtStop(found.id);
    const unread = 'from' in counted ? counted : undefined;
    const binding = this.deps.registry.bindings.byId(found.id);
    if (binding === undefined) return false;
    const late = this.deps.buffers.recoverLate(binding.id, stoppedAt);
    if (late !== undefined) {
      // It stopped, resumed elsewhere and was moved before the signal came: nothing to hold any
      // more, but the frames its old port took meanwhile were lost there; the copies go to it now.
      if (this.deps.outbox.canWrite(binding.locator.dpid)) this.deps.buffers.deliver(binding, late.frames);
      this.deps.log.info('VM stop signalled after its move: the frames its old port took since the stop are delivered', { eid, frames: late.frames.length });
      this.warnMissed(eid, late.missed, lateMs);
      return true;
    }
    if (!this.roomFor(binding.id, eid, 'stopping')) return true;
    let atStop: ReturnType<FrameBuffers['holding']>;
    const started = await this.rebuffer(eid, () => {
      const held = this.deps.buffers.hold(binding.id, () => this.endHold(binding.id, 'time bound'), stoppedAt, unread);
      atStop = this.deps.buffers.holding(binding.id);
      return held;
    });
    if (!started) return true;
    const intent = this.deps.intents.get(eid, this.deps.clock.now());
    const ahead = intent !== undefined && await this.deps.mover.moveAhead(binding, intent);
    this.deps.log.info('VM stopped: frames for it wait at the controller', {
      eid, dpid: formatDpid(binding.locator.dpid), port: binding.locator.port, recovered: atStop?.frames ?? 0, copies: atStop?.copies ?? 0, byPortCounters: unread !== undefined,
      ...(unread === undefined ? {} : { readsSpread: unread.spread, readings: unread.samples, countTrusted: unread.trusted, readAtStop: unread.read, unreadFromCopy: unread.from, takenByCount: atStop?.byCount ?? 0 }),
      ...('cannotTell' in counted ? { countersCannotTell: counted.cannotTell } : {}), movedAhead: ahead, signalLateMs: lateMs,
    });
    this.warnMissed(eid, atStop?.missed ?? 0, lateMs);
    // Moved ahead to a port that is up while the VM is still stopped: a hypervisor's tap, which
    // keeps what it is given until the VM reads it. The frames go there now, in order, and newer
    // ones follow by the rules; no need to wait for the news that the VM runs.
    const moved = this.deps.registry.bindings.byId(binding.id);
    if (ahead && this.deps.queueAtDestination && moved !== undefined && this.deps.portUp(moved.locator.dpid, moved.locator.port)) {
      await this.endHold(binding.id, 'destination port up');
    }
    return true;
  }

  /**
   * The VM of `eid` runs again (the hypervisor said so; or its first frame, or its port came up, at
   * the place its move was made ahead to): the frames that waited go to it first, then the hold
   * rules go.
   */
  async resumed(eid: string): Promise<boolean> {
    const binding = this.deps.registry.bindings.byEid(eid);
    if (binding === undefined || !this.deps.buffers.isHolding(binding.id)) return false;
    if (!this.deps.buffers.isAhead(binding.id)) return false; // its move is yet to be made: its first frame there will
    await this.endHold(binding.id, 'resumed');
    return true;
  }

  /** An intent was withdrawn (its tap left OVSDB, an API delete: the migration was called off). */
  async withdraw(eid: string): Promise<void> {
    await this.deps.prestage.cancel(eid, this.deps.clock.now());
    const binding = this.deps.registry.bindings.byEid(eid);
    if (binding === undefined) return;
    const mode = this.deps.buffers.mode(binding.id);
    if (mode === 'copy') await this.rebuffer(eid, () => { this.deps.buffers.release(binding.id, this.deps.graceMs + 1000); return true; });
    // Stopped and not moved: the source runs on; its frames go back to it. (Moved ahead: the VM's
    // frames at its old place move it back, and the held frames go with that move.)
    if (mode === 'hold' && !this.deps.buffers.isAhead(binding.id)) await this.endHold(binding.id, 'called off');
  }

  /**
   * A stop ends: the held frames go to the VM where its binding is, in order, and then the hold
   * rules go at once (one connection to the switch: the frames are out before newer ones pass).
   */
  async endHold(bindingId: number, why: string): Promise<void> {
    const binding = this.deps.registry.bindings.byId(bindingId);
    if (binding === undefined || !this.deps.buffers.isHolding(bindingId)) return;
    const heldSince = this.deps.buffers.heldSince(bindingId) ?? this.deps.clock.now();
    const before = this.deps.topology().state();
    // The held frames; stragglers (frames the hold rules still take) queue behind them until they are out.
    this.deps.buffers.release(bindingId, this.deps.graceMs + 1000, true);
    const frames = this.deps.buffers.takePending(bindingId, false);
    // When the frames began to go out: the hold rules' removal below waits for the last of them, its barrier, and its turn.
    const releasedAt = this.deps.clock.now();
    if (this.deps.outbox.canWrite(binding.locator.dpid)) {
      await this.deps.buffers.replay(bindingId, binding, frames, () => this.deps.registry.bindings.byId(bindingId));
    }
    // The stragglers, unless a move came meanwhile (its own replay takes them, to the new place).
    if (this.deps.registry.bindings.byId(bindingId)?.version === binding.version) this.deps.buffers.deliver(binding, this.deps.buffers.takePending(bindingId, true));
    const { plan } = planBindingChange(binding, binding, before, this.deps.topology().state());
    const result = await this.deps.sync.apply(withoutGrace(plan));
    this.deps.onUpdate(result, [...new Set(plan.steps.flatMap((s) => [...s.mods.keys()]))]);
    this.deps.emit({ type: 'VM_RESUMED', eid: binding.eid, mac: binding.mac, trigger: why, frames: frames.length, heldMs: releasedAt - heldSince, at: releasedAt });
    this.deps.log.info('VM runs again: the frames that waited for it are delivered', {
      eid: binding.eid, trigger: why, frames: frames.length, heldMs: releasedAt - heldSince, releasedAt: new Date(releasedAt).toISOString(),
      rulesMs: this.deps.clock.now() - releasedAt, dropped: this.deps.buffers.counters.dropped,
    });
  }

  /** True when a copy or hold may begin; otherwise says why not (too many VMs buffered at once; the buffers count it). */
  private roomFor(bindingId: number, eid: string, phase: string): boolean {
    if (this.deps.buffers.admits(bindingId)) return true;
    this.deps.log.warn('loss-free migration without a buffer: too many VMs buffered at once', { eid, phase, hint: 'mobility.bufferMaxVms' });
    return false;
  }

  /** Copies a late stop signal found gone (the copy window or its bounds let them go): counted by the buffer, said here. */
  private warnMissed(eid: string, missed: number, lateMs: number | undefined): void {
    if (missed === 0) return;
    this.deps.log.warn('VM stop signalled later than its copies are kept: frames its old port took after the stop are lost', {
      eid, frames: missed, signalLateMs: lateMs, hint: 'raise mobility.bufferCopyWindowMs (and the buffer bounds) above the stop signal\'s delay',
    });
  }

  /** Changes how a binding's frames come to the buffer (`change` says whether it did) and its rules with it. */
  private async rebuffer(eid: string, change: () => boolean): Promise<boolean> {
    const binding = this.deps.registry.bindings.byEid(eid);
    if (binding === undefined) return false;
    const before = this.deps.topology().state();
    if (!change()) return false;
    const { plan } = planBindingChange(binding, binding, before, this.deps.topology().state());
    const result = await this.deps.sync.apply(plan);
    this.deps.onUpdate(result, [...plan.steps[0].mods.keys()]);
    return true;
  }
}

/** A hold ends at once: the stale rules go in the send step, not after the grace period (nothing is in flight to them). */
function withoutGrace(plan: UpdatePlan): UpdatePlan {
  const [receive, send, cleanup] = plan.steps;
  const merged = new Map(send.mods);
  for (const [dpid, mods] of cleanup.mods) merged.set(dpid, [...(merged.get(dpid) ?? []), ...mods]);
  return { steps: [receive, { name: 'send', mods: merged }, { name: 'cleanup', mods: new Map() }] };
}
