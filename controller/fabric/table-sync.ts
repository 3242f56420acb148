// TableSync: the one place that changes compiled rules on switches. It keeps a mirror of the
// compiled rules each switch holds, turns (mirror, desired) into a make-before-break plan
// (pipeline/plan) and runs it: step 1 everywhere, barriers; step 2 everywhere, barriers; then
// step 3 after a grace period. A step whose rules every switch already holds is skipped (no
// barrier round). Updates that share a switch run one at a time, in order, so a switch's mirror is
// never read while a step is in flight there; updates of other switches do not wait for them (a
// switch that never answers a barrier holds up its own updates only, for the request timeout).
// Every message leaves through the Outbox.

import { flowMod, OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, type FlowMod, type FlowRemoved, type FlowStats } from '../openflow/index.js';
import type { Logger } from '../log.js';
import {
  canonicalMatch, COOKIE_MASK_EXACT, InstalledTable, installedFromFlowStats, planUpdate,
  type PlanStep, type Rule, type UpdatePlan,
} from '../pipeline/index.js';
import type { Clock, Timer } from './clock.js';
import type { Outbox } from './outbox.js';
import type { FabricSwitch, FabricSwitches } from './switches.js';

export interface UpdateResult {
  /** FLOW_MODs sent in steps 1 and 2 (step 3 runs later). */
  readonly flowMods: number;
  /** Switches that took part in steps 1 and 2. */
  readonly switches: number;
  /** Barrier rounds steps 1 and 2 took (0, 1 or 2). */
  readonly rounds: number;
  /** Milliseconds from the start of step 1 to the last barrier reply of step 2. */
  readonly confirmMs: number;
  /** Milliseconds from the start of step 1 to afterSend (step 2 queued everywhere). */
  readonly releaseMs: number;
  /** Resolves when step 3 (cleanup) is done. */
  readonly cleanup: Promise<void>;
  /** Switch-level failures (the update went on elsewhere). */
  readonly failures: string[];
}

/**
 * Work that must follow the send side: re-inject held packets. It runs once step 2 is *queued* on
 * every switch, before its barrier replies: a switch applies one connection's messages in order, so a
 * PACKET_OUT queued after its step-2 FLOW_MODs is translated with them, and what other switches must
 * hold for such a frame (the receive side) was confirmed in step 1. The frames go a barrier round
 * earlier; the reconvergence time still counts until every barrier of step 2 is back.
 */
export type AfterSend = () => void;

/**
 * Work between the confirmed receive side and the send side: deliver a stopping VM's buffered
 * frames at its new place (and wait for that switch's barrier), so that none is overtaken by
 * traffic the send side turns there.
 */
export type BeforeSend = () => Promise<void>;

export interface TableSyncOptions {
  /** Delay before removing receive-side rules that are no longer desired. */
  readonly graceMs: number;
  readonly log: Logger;
  readonly clock: Clock;
  readonly outbox: Outbox;
  /** Told each switch's barrier round (metrics). */
  readonly onBarrier?: (step: string, ms: number) => void;
}

export class TableSync {
  /** Per switch, the compiled rules it holds (keyed: a step re-keys only its own FLOW_MODs). */
  private readonly mirror = new Map<string, InstalledTable>();
  /**
   * Cleanup steps waiting for their grace period. A later update that installs (or keeps) a rule
   * one of them would delete takes it out of that cleanup: planned when the rule was no longer
   * wanted, the deletion must not undo the newer update (a staged move withdrawn and staged again
   * shares most rules with its first staging).
   */
  private readonly pendingCleanups = new Set<PlanStep>();
  /** Per switch, the last update that touches it: an update waits for those of its own switches. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly cleanupTimers = new Set<Timer>();
  private closed = false;

  constructor(private readonly switches: FabricSwitches, private readonly options: TableSyncOptions) {}

  /** A switch (re)connected: its flows are the truth; returns them for the learner. */
  async adopt(sw: FabricSwitch): Promise<FlowStats[]> {
    const flows = await sw.flowStats();
    this.mirror.set(sw.dpidText, new InstalledTable(installedFromFlowStats(flows)));
    return flows;
  }

  forget(dpid: string): void {
    this.mirror.delete(dpid);
  }

  /** A rule left the switch by itself (idle timeout, FLOW_REMOVED): the mirror follows. */
  removedBySwitch(dpid: string, removed: FlowRemoved): void {
    const mod = flowMod({ command: OFPFC_DELETE_STRICT, tableId: removed.tableId, priority: removed.priority, match: removed.match, cookie: removed.cookie, cookieMask: COOKIE_MASK_EXACT });
    this.mirror.get(dpid)?.apply([mod]);
  }

  /** Brings every switch in `desired` to its desired rules; `afterSend` runs once step 2 is queued. */
  update(desired: ReadonlyMap<string, readonly Rule[]>, afterSend?: AfterSend): Promise<UpdateResult> {
    return this.enqueue([...desired.keys()], () => planUpdate(new Map([...this.mirror].map(([dpid, table]) => [dpid, table.rules()])), onlyConnected(desired, this.switches)), afterSend);
  }

  /**
   * Runs a plan made elsewhere (one binding's change, planned incrementally: work proportional to
   * the switches that binding touches, not to every rule of every switch).
   */
  apply(plan: UpdatePlan, afterSend?: AfterSend, beforeSend?: BeforeSend): Promise<UpdateResult> {
    return this.enqueue(dpidsOf(plan.steps), () => plan, afterSend, beforeSend);
  }

  /** Stops scheduled cleanups (shutdown). */
  close(): void {
    this.closed = true;
    for (const t of this.cleanupTimers) this.options.clock.clearTimeout(t);
    this.cleanupTimers.clear();
  }

  private enqueue(dpids: readonly string[], plan: () => UpdatePlan, afterSend?: AfterSend, beforeSend?: BeforeSend): Promise<UpdateResult> {
    return this.after(dpids, () => this.run(plan(), afterSend, beforeSend));
  }

  /** Runs `work` once every earlier update of these switches is done; later ones of them wait for it. */
  private after<T>(dpids: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(dpids)];
    const run = Promise.all(unique.map((d) => this.tails.get(d))).then(work);
    const tail = run.then(() => undefined, () => undefined);
    for (const d of unique) this.tails.set(d, tail);
    tail.then(() => { for (const d of unique) if (this.tails.get(d) === tail) this.tails.delete(d); }, () => undefined);
    return run;
  }

  private async run(plan: UpdatePlan, afterSend?: AfterSend, beforeSend?: BeforeSend): Promise<UpdateResult> {
    const { clock } = this.options;
    const started = clock.monotonic();
    const failures: string[] = [];
    const [receive, send, cleanupStep] = plan.steps;
    const step1 = await this.runStep(receive, failures);
    try {
      await beforeSend?.();
    } catch (error) {
      failures.push(`before the send side: ${(error as Error).message}`);
    }
    const queued = this.runStep(send, failures); // every step-2 message is written when this returns
    try {
      afterSend?.();
    } catch (error) {
      failures.push(`after the send side: ${(error as Error).message}`);
    }
    const releaseMs = clock.monotonic() - started;
    const step2 = await queued;
    const confirmMs = clock.monotonic() - started;
    const cleanup = this.scheduleCleanup(cleanupStep, failures);
    const rounds = (step1.sent > 0 ? 1 : 0) + (step2.sent > 0 ? 1 : 0);
    return { flowMods: step1.sent + step2.sent, switches: new Set([...step1.switches, ...step2.switches]).size, rounds, confirmMs, releaseMs, cleanup, failures };
  }

  private scheduleCleanup(planned: PlanStep, failures: string[]): Promise<void> {
    if (planned.mods.size === 0) return Promise.resolve();
    const step: PlanStep = { name: planned.name, mods: new Map(planned.mods) }; // superseded deletions leave this copy
    this.pendingCleanups.add(step);
    return new Promise((resolve) => {
      const timer = this.options.clock.setTimeout(() => {
        this.cleanupTimers.delete(timer);
        this.pendingCleanups.delete(step);
        if (this.closed) return resolve();
        // The cleanup takes its turn after its switches' updates: it must not interleave with a newer one.
        const run = this.after([...step.mods.keys()], () => this.runStep(step, failures));
        void run.then(() => resolve(), () => resolve());
      }, this.options.graceMs);
      this.cleanupTimers.add(timer);
    });
  }

  /** Sends one step on every switch in parallel; resolves when every barrier is back. */
  private async runStep(step: PlanStep, failures: string[]): Promise<{ sent: number; switches: string[] }> {
    let sent = 0;
    const switches: string[] = [];
    await Promise.all([...step.mods].map(async ([dpid, planned]) => {
      const sw = this.switches.get(dpid);
      if (sw === undefined || !this.options.outbox.canWrite(sw.dpid)) return; // another replica writes it
      this.supersede(dpid, planned);
      let table = this.mirror.get(dpid);
      if (table === undefined) this.mirror.set(dpid, (table = new InstalledTable()));
      const mods = table.without(planned);
      if (mods.length === 0) return;
      sent += mods.length;
      switches.push(dpid);
      // Mirror first: what we sent is what the switch will hold unless it refuses.
      table.apply(mods);
      const started = this.options.clock.monotonic();
      try {
        await this.options.outbox.confirm(sw, mods);
        this.options.onBarrier?.(step.name, this.options.clock.monotonic() - started);
      } catch (error) {
        const message = `${dpid} ${step.name}: ${(error as Error).message}`;
        failures.push(message);
        this.options.log.error('rule update failed on a switch', { dpid, step: step.name, error: (error as Error).message });
        // The mirror may now be wrong: re-read the truth for the next update.
        await this.adopt(sw).catch(() => this.mirror.delete(dpid));
      }
    }));
    return { sent, switches };
  }

  /** Rules `planned` installs on `dpid` are wanted again: no pending cleanup deletes them. */
  private supersede(dpid: string, planned: readonly FlowMod[]): void {
    if (this.pendingCleanups.size === 0) return;
    const wanted = new Set(planned.filter((m) => m.command === OFPFC_ADD).map(modKey));
    if (wanted.size === 0) return;
    for (const cleanup of this.pendingCleanups) {
      const mods = cleanup.mods.get(dpid);
      if (mods === undefined) continue;
      const kept = mods.filter((m) => !((m.command === OFPFC_DELETE_STRICT || m.command === OFPFC_DELETE) && wanted.has(modKey(m))));
      if (kept.length === mods.length) continue;
      if (kept.length === 0) cleanup.mods.delete(dpid);
      else cleanup.mods.set(dpid, kept);
    }
  }
}

function modKey(m: FlowMod): string {
  return `${m.tableId}/${m.priority}/${canonicalMatch(m.match)}`;
}

function onlyConnected(desired: ReadonlyMap<string, readonly Rule[]>, switches: FabricSwitches): Map<string, readonly Rule[]> {
  return new Map([...desired].filter(([dpid]) => switches.get(dpid) !== undefined));
}

/** The switches a plan's steps touch. */
function dpidsOf(steps: readonly PlanStep[]): string[] {
  return [...new Set(steps.flatMap((step) => [...step.mods.keys()]))];
}
