// TableSync: the one place that changes compiled rules on switches. It keeps a mirror of the
// compiled rules each switch holds, turns (mirror, desired) into a make-before-break plan
// (pipeline/plan) and runs it: step 1 everywhere, barriers; step 2 everywhere, barriers; then
// step 3 after a grace period. Updates run one at a time, in order, so the mirror is never
// read while a step is in flight.

import { flowMod, OFPFC_DELETE_STRICT, type FlowRemoved, type FlowStats } from '../openflow/index.js';
import type { Logger } from '../log.js';
import {
  applyToInstalled, COOKIE_MASK_EXACT, installedFromFlowStats, planUpdate, type InstalledRule, type PlanStep, type Rule, type UpdatePlan,
} from '../pipeline/index.js';
import type { SwitchConnection, SwitchRegistry } from '../switch/index.js';

export interface UpdateResult {
  /** FLOW_MODs sent in steps 1 and 2 (step 3 runs later). */
  readonly flowMods: number;
  /** Switches that took part in steps 1 and 2. */
  readonly switches: number;
  /** Milliseconds from the start of step 1 to the last barrier reply of step 2. */
  readonly confirmMs: number;
  /** Resolves when step 3 (cleanup) is done. */
  readonly cleanup: Promise<void>;
  /** Switch-level failures (the update went on elsewhere). */
  readonly failures: string[];
}

/** Work that must follow a confirmed send side: release a gate, re-inject held packets. */
export type AfterSend = () => void | Promise<void>;

export interface TableSyncOptions {
  /** Delay before removing receive-side rules that are no longer desired. */
  readonly graceMs: number;
  readonly log: Logger;
}

export class TableSync {
  private readonly mirror = new Map<string, InstalledRule[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private cleanupTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly switches: SwitchRegistry, private readonly options: TableSyncOptions) {}

  /** The compiled rules we believe a switch holds. */
  installed(dpid: string): readonly InstalledRule[] {
    return this.mirror.get(dpid) ?? [];
  }

  /** A switch (re)connected: its flows are the truth; returns them for the learner. */
  async adopt(sw: SwitchConnection): Promise<FlowStats[]> {
    const flows = await sw.flowStats();
    this.mirror.set(sw.dpidText, installedFromFlowStats(flows));
    return flows;
  }

  forget(dpid: string): void {
    this.mirror.delete(dpid);
  }

  /** A rule left the switch by itself (idle timeout, FLOW_REMOVED): the mirror follows. */
  removedBySwitch(dpid: string, removed: FlowRemoved): void {
    const mod = flowMod({ command: OFPFC_DELETE_STRICT, tableId: removed.tableId, priority: removed.priority, match: removed.match, cookie: removed.cookie, cookieMask: COOKIE_MASK_EXACT });
    this.mirror.set(dpid, applyToInstalled(this.mirror.get(dpid) ?? [], [mod]));
  }

  /**
   * Brings every switch in `desired` to its desired rules. `afterSend` runs once step 2 is
   * confirmed (before the grace period), in the update's turn; confirmMs includes it.
   */
  update(desired: ReadonlyMap<string, readonly Rule[]>, afterSend?: AfterSend): Promise<UpdateResult> {
    return this.enqueue(() => planUpdate(this.mirror, onlyConnected(desired, this.switches)), afterSend);
  }

  /**
   * Runs a plan made elsewhere (one binding's change, planned incrementally: work proportional to
   * the switches that binding touches, not to every rule of every switch).
   */
  apply(plan: UpdatePlan, afterSend?: AfterSend): Promise<UpdateResult> {
    return this.enqueue(() => plan, afterSend);
  }

  /** Stops scheduled cleanups (shutdown). */
  close(): void {
    this.closed = true;
    for (const t of this.cleanupTimers) clearTimeout(t);
    this.cleanupTimers.clear();
  }

  private enqueue(plan: () => UpdatePlan, afterSend?: AfterSend): Promise<UpdateResult> {
    const run = this.queue.then(() => this.run(plan(), afterSend));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(plan: UpdatePlan, afterSend?: AfterSend): Promise<UpdateResult> {
    const started = performance.now();
    const failures: string[] = [];
    const [receive, send, cleanupStep] = plan.steps;
    const sent1 = await this.runStep(receive, failures);
    const sent2 = await this.runStep(send, failures);
    await afterSend?.();
    const confirmMs = performance.now() - started;
    const cleanup = this.scheduleCleanup(cleanupStep, failures);
    return { flowMods: sent1 + sent2, switches: touched(plan).size, confirmMs, cleanup, failures };
  }

  private scheduleCleanup(step: PlanStep, failures: string[]): Promise<void> {
    if (step.mods.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.cleanupTimers.delete(timer);
        if (this.closed) return resolve();
        // The cleanup takes its turn in the queue: it must not interleave with a newer update.
        const run = this.queue.then(() => this.runStep(step, failures));
        this.queue = run.catch(() => undefined);
        void run.then(() => resolve(), () => resolve());
      }, this.options.graceMs);
      this.cleanupTimers.add(timer);
    });
  }

  /** Sends one step on every switch in parallel; resolves when every barrier is back. */
  private async runStep(step: PlanStep, failures: string[]): Promise<number> {
    let count = 0;
    await Promise.all([...step.mods].map(async ([dpid, mods]) => {
      const sw = this.switches.get(dpid);
      if (sw === undefined) return;
      count += mods.length;
      // Mirror first: what we sent is what the switch will hold unless it refuses.
      this.mirror.set(dpid, applyToInstalled(this.mirror.get(dpid) ?? [], mods));
      try {
        await sw.sendBatch(mods);
      } catch (error) {
        const message = `${dpid} ${step.name}: ${(error as Error).message}`;
        failures.push(message);
        this.options.log.error('rule update failed on a switch', { dpid, step: step.name, error: (error as Error).message });
        // The mirror may now be wrong: re-read the truth for the next update.
        await this.adopt(sw).catch(() => this.mirror.delete(dpid));
      }
    }));
    return count;
  }
}

function onlyConnected(desired: ReadonlyMap<string, readonly Rule[]>, switches: SwitchRegistry): Map<string, readonly Rule[]> {
  return new Map([...desired].filter(([dpid]) => switches.get(dpid) !== undefined));
}

function touched(plan: UpdatePlan): Set<string> {
  return new Set(plan.steps.slice(0, 2).flatMap((s) => [...s.mods.keys()]));
}
