// The update planner: pure. (installed, desired) per switch -> three ordered steps of FLOW_MODs
// (make-before-break):
//   step 1 "receive": base and phase-1 adds on every switch        -> barriers, wait for all
//   step 2 "send":    phase-2 adds and phase-2 removes              -> barriers, wait; release the gate
//   step 3 "cleanup": after a grace period, phase-1 and base removes -> barriers
// Removes are DELETE_STRICT with the exact cookie, so a rule that an add overwrote in the
// meantime (same identity, new cookie) survives. Only compiled rules (base and binding
// cookies) are ever added or removed; learned and foreign rules are not the planner's.

import {
  OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY_STRICT,
  type FlowMod, type FlowStats, type Instruction, type Match,
} from '../openflow/index.js';
import { classifyCookie, isCompiledCookie } from './cookie.js';
import { toFlowMod, type Rule } from './rule.js';
import { canonicalInstructions, canonicalMatch, ruleKey } from './rule-key.js';
import { phaseOf, type Phase } from './tables.js';

export { canonicalInstructions, canonicalMatch, ruleKey };

/** A rule known to be on a switch: compiled earlier, or read back with flow stats. */
export interface InstalledRule {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
  readonly cookie: bigint;
  readonly idleTimeout?: number;
  readonly phase?: Phase;
}

export interface RuleDiff {
  /** New identities, or known ones whose cookie or instructions changed (ADD overwrites). */
  readonly adds: Rule[];
  /** Compiled rules whose identity is no longer desired. */
  readonly removes: InstalledRule[];
}

export function diffRules(installed: readonly InstalledRule[], desired: readonly Rule[]): RuleDiff {
  const { adds, removes } = diffKeyed(installed, desired);
  return { adds: adds.map((k) => k.rule), removes: removes.map((k) => k.rule) };
}

interface Keyed<R> { readonly key: string; readonly rule: R }

/** The diff with each rule's identity computed once (plans touch every rule of every switch). */
function diffKeyed(installed: readonly InstalledRule[], desired: readonly Rule[]): { adds: Keyed<Rule>[]; removes: Keyed<InstalledRule>[] } {
  const have = new Map<string, InstalledRule>();
  for (const r of installed) if (isCompiledCookie(r.cookie)) have.set(ruleKey(r), r);
  const want = new Map<string, Rule>();
  for (const r of desired) want.set(ruleKey(r), r);
  const adds: Keyed<Rule>[] = [];
  for (const [key, rule] of want) {
    const h = have.get(key);
    if (h === undefined || h.cookie !== rule.cookie || (h.instructions !== rule.instructions && canonicalInstructions(h.instructions) !== canonicalInstructions(rule.instructions))) {
      adds.push({ key, rule });
    }
  }
  const removes: Keyed<InstalledRule>[] = [];
  for (const [key, rule] of have) if (!want.has(key)) removes.push({ key, rule });
  return { adds, removes };
}

export type StepName = 'receive' | 'send' | 'cleanup';

export interface PlanStep {
  readonly name: StepName;
  /** Normalised FLOW_MODs per switch (formatDpid keys); switches with nothing to do are absent. */
  readonly mods: Map<string, FlowMod[]>;
}

export interface UpdatePlan {
  readonly steps: readonly [PlanStep, PlanStep, PlanStep];
}

/** The phase of an installed rule: recorded, or derived from its table and priority. */
export function installedPhase(r: InstalledRule): Phase {
  if (r.phase !== undefined) return r.phase;
  if (classifyCookie(r.cookie).kind === 'base') return 'base';
  // Unknown kinds are removed last: keeping a rule too long is safer than cutting a path early.
  return phaseOf(r.table, r.priority) ?? 'receive';
}

/** Plans for every switch in `desired`; switches only in `installed` (gone) are left alone. */
export function planUpdate(
  installedByDpid: ReadonlyMap<string, readonly InstalledRule[]>,
  desiredByDpid: ReadonlyMap<string, readonly Rule[]>,
): UpdatePlan {
  const steps: [PlanStep, PlanStep, PlanStep] = [
    { name: 'receive', mods: new Map() }, { name: 'send', mods: new Map() }, { name: 'cleanup', mods: new Map() },
  ];
  for (const [dpid, desired] of desiredByDpid) {
    const { adds, removes } = diffKeyed(installedByDpid.get(dpid) ?? [], desired);
    const batches: Keyed<FlowMod>[][] = [[], [], []];
    for (const { key, rule } of adds) batches[rule.phase === 'send' ? 1 : 0]!.push({ key, rule: toFlowMod(rule, OFPFC_ADD) });
    for (const { key, rule } of removes) batches[installedPhase(rule) === 'send' ? 1 : 2]!.push({ key, rule: toFlowMod(rule, OFPFC_DELETE_STRICT) });
    batches.forEach((batch, i) => { if (batch.length > 0) steps[i]!.mods.set(dpid, normaliseKeyed(batch)); });
  }
  return { steps };
}

export function isEmptyPlan(plan: UpdatePlan): boolean {
  return plan.steps.every((s) => s.mods.size === 0);
}

const isDelete = (m: FlowMod): boolean => m.command === OFPFC_DELETE || m.command === OFPFC_DELETE_STRICT;

/**
 * Drops duplicates (for one identity the last add wins), puts deletes first, and orders adds
 * from the last table to the first: a packet never enters a chain (goto) whose later tables
 * are not in place yet, e.g. the VM's gate lands after its rewrites.
 */
export function normaliseBatch(mods: readonly FlowMod[]): FlowMod[] {
  return normaliseKeyed(mods.map((m) => ({ key: ruleKey({ table: m.tableId, priority: m.priority, match: m.match }), rule: m })));
}

function normaliseKeyed(mods: readonly Keyed<FlowMod>[]): FlowMod[] {
  const deletes = new Map<string, FlowMod>();
  const adds = new Map<string, FlowMod>();
  for (const { key, rule: m } of mods) {
    if (isDelete(m)) deletes.set(`${m.command}/${key}/${m.cookie}/${m.cookieMask}`, m);
    else {
      adds.delete(key); // re-insert so the last one keeps its place in the order
      adds.set(key, m);
    }
  }
  const byTable = (dir: 1 | -1) => (a: FlowMod, b: FlowMod) => dir * (a.tableId - b.tableId);
  return [...[...deletes.values()].sort(byTable(1)), ...[...adds.values()].sort(byTable(-1))];
}

/** The compiled rules among a switch's flows (for resync after a restart). */
export function installedFromFlowStats(flows: readonly FlowStats[]): InstalledRule[] {
  return flows.filter((f) => isCompiledCookie(f.cookie)).map((f) => ({
    table: f.tableId, priority: f.priority, match: f.match, instructions: f.instructions, cookie: f.cookie,
    ...(f.idleTimeout === 0 ? {} : { idleTimeout: f.idleTimeout }),
  }));
}

/**
 * The compiled rules one switch holds, by identity (table, priority, match): a mirror that follows
 * what is sent to the switch. Each rule's key is computed once, when it enters; applying or
 * filtering a few FLOW_MODs then costs keys for those only, not for the switch's hundreds of rules
 * (a move's steps used to re-key every installed rule of every switch they touched, twice).
 */
export class InstalledTable {
  private readonly byKey = new Map<string, InstalledRule>();

  constructor(rules: Iterable<InstalledRule> = []) {
    for (const r of rules) this.byKey.set(ruleKey(r), r);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The rules, in the order they first came (a rule overwritten keeps its place). */
  rules(): InstalledRule[] {
    return [...this.byKey.values()];
  }

  /**
   * What the switch holds after `mods` (ADD overwrite by identity; DELETE_STRICT honouring the
   * cookie mask, MODIFY_STRICT). Non-strict MODIFY/DELETE are not modelled (the planner never
   * sends them).
   */
  apply(mods: readonly FlowMod[]): void {
    for (const m of mods) {
      const key = `${m.tableId}/${m.priority}/${canonicalMatch(m.match)}`;
      if (m.command === OFPFC_ADD) {
        this.byKey.set(key, { table: m.tableId, priority: m.priority, match: m.match, instructions: m.instructions, cookie: m.cookie, ...(m.idleTimeout === 0 ? {} : { idleTimeout: m.idleTimeout }) });
      } else if (m.command === OFPFC_DELETE_STRICT) {
        const r = this.byKey.get(key);
        if (r !== undefined && (r.cookie & m.cookieMask) === (m.cookie & m.cookieMask)) this.byKey.delete(key);
      } else if (m.command === OFPFC_MODIFY_STRICT) {
        const r = this.byKey.get(key);
        if (r !== undefined) this.byKey.set(key, { ...r, instructions: m.instructions });
      }
    }
  }

  /**
   * `mods` without the ADDs the switch already holds exactly (same identity, cookie and
   * instructions): a rule staged ahead of a move, or re-planned after a resync, costs nothing to
   * keep, and a step left empty saves its barrier round.
   */
  without(mods: readonly FlowMod[]): FlowMod[] {
    return mods.filter((m) => {
      if (m.command !== OFPFC_ADD) return true;
      const r = this.byKey.get(`${m.tableId}/${m.priority}/${canonicalMatch(m.match)}`);
      return r === undefined || r.cookie !== m.cookie || (r.idleTimeout ?? 0) !== m.idleTimeout
        || canonicalInstructions(r.instructions) !== canonicalInstructions(m.instructions);
    });
  }
}

/** What a switch holds after `mods` (InstalledTable.apply, on a list). */
export function applyToInstalled(installed: readonly InstalledRule[], mods: readonly FlowMod[]): InstalledRule[] {
  const table = new InstalledTable(installed);
  table.apply(mods);
  return table.rules();
}

/** `mods` without the ADDs a switch already holds exactly (InstalledTable.without, on a list). */
export function withoutInstalled(mods: readonly FlowMod[], installed: readonly InstalledRule[]): FlowMod[] {
  if (installed.length === 0) return [...mods];
  return new InstalledTable(installed).without(mods);
}
