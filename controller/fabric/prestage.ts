// Moves announced ahead. An intent that names the port a VM will appear on (from the hypervisor's
// tap in OVSDB, or an orchestrator through the API) lets its receive side (phase 1: delivery of
// its new locator, ARP answers, correspondents' source rewrites) be installed before the VM
// resumes, with the very locator address the move will get. When its first frame arrives only the
// send side remains: one barrier round instead of two. Staged rules that the move does not use
// (the intent expired, or the VM went elsewhere) are reconciled away.

import type { Logger } from '../log.js';
import { PoolExhaustedError, type Binding, type BindingRegistry, type MigrationIntent, type SubnetMap } from '../mobility/index.js';
import type { Ipv4 } from '../packet/index.js';
import { encodeAhead } from '../openflow/index.js';
import { formatDpid } from '../switch/dpid.js';
import { bindingInputsKey, planBindingChange, sameBindingRules, type PlanStep, type UpdatePlan } from '../pipeline/index.js';
import type { Clock, Timer } from './clock.js';
import type { FabricEvent } from './events.js';
import type { TableSync, UpdateResult } from './table-sync.js';
import type { TopologyState, TopologyView } from './topology.js';

interface Staged {
  readonly intent: MigrationIntent;
  /** The binding as it was when the move was staged, and what the move will make of it. */
  readonly previous: Binding;
  readonly next: Binding;
  /** The whole move, planned when it was staged (its receive side is on the switches). */
  readonly plan: UpdatePlan;
  /** What that plan was made in (bindingInputsKey, and the subnets); undefined when it could not be compiled (not reused). */
  readonly inputs: { readonly key: string; readonly subnets: TopologyState['subnets'] } | undefined;
  /** Switches that received staged rules (what a cancellation reconciles). */
  readonly dpids: readonly string[];
  readonly timer: Timer;
}

export interface PrestagerDeps {
  readonly registry: BindingRegistry;
  readonly subnets: SubnetMap;
  readonly sync: TableSync;
  readonly topology: () => TopologyView;
  readonly clock: Clock;
  readonly log: Logger;
  readonly emit: (event: FabricEvent) => void;
  readonly onUpdate: (result: UpdateResult, dpids: string[]) => void;
  /** Brings these switches to the compiled state (removes what nothing needs any more). */
  readonly reconcile: (dpids: readonly string[]) => Promise<void>;
}

const EMPTY_STEP = (name: 'send' | 'cleanup'): PlanStep => ({ name, mods: new Map() });

export class Prestager {
  private readonly staged = new Map<Ipv4, Staged>();

  constructor(private readonly deps: PrestagerDeps) {}

  /** The prepared binding of a staged move, if any. */
  get(eid: Ipv4): Binding | undefined {
    return this.staged.get(eid)?.next;
  }

  /**
   * Stages the receive side of the move `intent` announces: 'staged'; 'kept' when that very move is
   * staged already (the tap in OVSDB, then the hypervisor's signal: one staging, the later expiry);
   * false when there is nothing to stage.
   */
  async stage(intent: MigrationIntent, now: number): Promise<'staged' | 'kept' | false> {
    const { registry, subnets, clock } = this.deps;
    const binding = registry.bindings.byEid(intent.eid);
    if (intent.toDpid === undefined || intent.toPort === undefined || binding === undefined) return false;
    const subnet = subnets.ofDpid(intent.toDpid);
    if (subnet === undefined || (binding.locator.dpid === intent.toDpid && binding.locator.port === intent.toPort)) return false;
    const earlier = this.staged.get(intent.eid);
    if (earlier !== undefined && earlier.intent.toDpid === intent.toDpid && earlier.intent.toPort === intent.toPort) {
      this.keep(earlier, intent, now);
      return 'kept';
    }
    if (earlier !== undefined) await this.cancel(intent.eid, now);
    const choice = subnet.name === binding.homeSubnet ? 'home' : subnet.name === binding.locator.subnet ? 'keep' : 'allocate';
    let next: Binding | undefined;
    try {
      next = registry.prepareMove(intent.eid, { subnet: subnet.name, dpid: intent.toDpid, port: intent.toPort }, choice, now);
    } catch (error) {
      if (!(error instanceof PoolExhaustedError)) throw error;
      this.deps.log.warn('move not staged: no free locator', { eid: intent.eid, subnet: subnet.name });
      return false;
    }
    if (next === undefined) return false;
    const state = this.deps.topology().state();
    const { plan, problem } = planBindingChange(binding, next, state);
    const receive = plan.steps[0];
    const dpids = [...receive.mods.keys()];
    const inputs = problem === undefined ? { key: bindingInputsKey(state, binding.id), subnets: state.subnets } : undefined;
    // What the move will send when the VM shows up, encoded now (sending it then is a copy).
    if (problem === undefined) for (const mods of plan.steps[1].mods.values()) for (const m of mods) encodeAhead(m);
    this.staged.set(intent.eid, { intent, previous: binding, next, plan, inputs, dpids, timer: this.expiry(intent.eid, intent.expiresAt, now) });
    const result = await this.deps.sync.apply({ steps: [receive, EMPTY_STEP('send'), EMPTY_STEP('cleanup')] });
    this.deps.onUpdate(result, dpids);
    this.deps.emit({ type: 'MOVE_STAGED', eid: intent.eid, dpid: formatDpid(intent.toDpid), port: intent.toPort, locator: next.locator.address, at: now });
    this.deps.log.info('move staged ahead', { eid: intent.eid, dpid: formatDpid(intent.toDpid), port: intent.toPort, locator: next.locator.address, source: intent.source, flowMods: result.flowMods });
    return 'staged';
  }

  /** The staged move is announced again: its rules stand, and it lasts until the later of the two intents expires. */
  private keep(earlier: Staged, intent: MigrationIntent, now: number): void {
    this.deps.clock.clearTimeout(earlier.timer);
    const expiresAt = Math.max(earlier.intent.expiresAt, intent.expiresAt);
    this.staged.set(intent.eid, { ...earlier, intent: { ...intent, expiresAt }, timer: this.expiry(intent.eid, expiresAt, now) });
  }

  /** The timer that withdraws a staged move when its intent expires. */
  private expiry(eid: Ipv4, expiresAt: number, now: number): Timer {
    const { clock } = this.deps;
    const timer = clock.setTimeout(() => {
      this.cancel(eid, clock.now()).catch((e: Error) => this.deps.log.error('could not withdraw a staged move', { eid, error: e.message }));
    }, Math.max(0, expiresAt - now));
    timer.unref?.();
    return timer;
  }

  /**
   * The plan of the staged move, when `previous -> next` is that very move and nothing its rules
   * depend on changed since it was staged (`before`: the state `previous` was planned in, `after`:
   * the one `next` is): the move then sends its send side without planning again. Undefined
   * otherwise (the move is planned as any other).
   */
  plannedMove(previous: Binding, next: Binding, before: TopologyState, after: TopologyState): UpdatePlan | undefined {
    const s = this.staged.get(next.eid);
    const inputs = s?.inputs;
    if (s === undefined || inputs === undefined || !sameBindingRules(s.previous, previous) || !sameBindingRules(s.next, next)) return undefined;
    if (before.subnets !== inputs.subnets || after.subnets !== inputs.subnets) return undefined;
    if (bindingInputsKey(before, previous.id) !== inputs.key || bindingInputsKey(after, next.id) !== inputs.key) return undefined;
    return s.plan;
  }

  /**
   * The binding moved: if it went where the staged rules expected, they are its own now;
   * otherwise they are reconciled away (after the move's own plan, in TableSync's order).
   */
  async settle(moved: Binding): Promise<void> {
    const s = this.take(moved.eid);
    if (s === undefined) return;
    const same = s.next.locator.dpid === moved.locator.dpid && s.next.locator.port === moved.locator.port
      && s.next.locator.address === moved.locator.address && s.next.version === moved.version;
    if (!same) await this.deps.reconcile(s.dpids);
  }

  /** The intent expired or was withdrawn: the staged rules go, the locator address is given back. */
  async cancel(eid: Ipv4, now: number): Promise<void> {
    const s = this.take(eid);
    if (s === undefined) return;
    this.deps.registry.cancelPrepared(eid, now);
    await this.deps.reconcile(s.dpids);
    this.deps.log.info('staged move withdrawn', { eid });
  }

  private take(eid: Ipv4): Staged | undefined {
    const s = this.staged.get(eid);
    if (s === undefined) return undefined;
    this.staged.delete(eid);
    this.deps.clock.clearTimeout(s.timer);
    return s;
  }
}
