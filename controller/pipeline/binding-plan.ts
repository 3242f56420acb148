// Incremental planning for one binding change: the rules of the previous version against those
// of the new one, on every switch either touches. O(edges) per move instead of recompiling
// every binding; a periodic or post-restart full plan (planUpdate) catches any drift.
// Sound because per-binding rules of different bindings never share an identity (each names
// the binding's EID, locator or VM port; the validator checks this over compiled worlds).

import type { Binding } from '../mobility/binding.js';
import { formatDpid } from '../switch/dpid.js';
import { bindingRules } from './binding-rules.js';
import { bindingContext, type CompileState } from './compiler.js';
import { planUpdate, type UpdatePlan } from './plan.js';
import type { Rule } from './rule.js';

export interface BindingPlan {
  readonly plan: UpdatePlan;
  /** Why the new version got no rules (e.g. an unresolved gateway MAC); undefined when compiled. */
  readonly problem?: string;
}

/**
 * Plans the move from `previous` to `next` (either may be undefined: added / removed), assuming
 * the switches hold exactly `previous`'s rules for this binding.
 */
export function planBindingChange(
  previous: Binding | undefined, next: Binding | undefined, state: Omit<CompileState, 'bindings'>,
  /** The state `next` is compiled in, when it differs (e.g. an on-demand cache that grew or shrank). */
  nextState: Omit<CompileState, 'bindings'> = state,
): BindingPlan {
  const contexts = [bindingContext(state), nextState === state ? undefined : bindingContext(nextState)];
  const rulesOf = (b: Binding | undefined, which: 0 | 1): Map<string, Rule[]> | string => {
    const out = new Map<string, Rule[]>();
    if (b === undefined) return out;
    const perSwitch = bindingRules(b, contexts[which] ?? contexts[0]!);
    if (typeof perSwitch === 'string') return perSwitch;
    for (const [dpid, rules] of perSwitch) out.set(formatDpid(dpid), rules);
    return out;
  };
  const before = rulesOf(previous, 0);
  const after = rulesOf(next, 1);
  const installed = typeof before === 'string' ? new Map<string, Rule[]>() : before;
  const desired = typeof after === 'string' ? new Map<string, Rule[]>() : after;
  for (const dpid of installed.keys()) if (!desired.has(dpid)) desired.set(dpid, []);
  const plan = planUpdate(installed, desired);
  return typeof after === 'string' ? { plan, problem: after } : { plan };
}

/**
 * Everything besides the binding itself that `bindingRules` reads for binding `bindingId` in
 * `state`, as one string: two states with the same key (and the same subnets) compile that
 * binding to the same rules, so a plan made in one holds in the other. The subnets are compared
 * by identity (they come from the configuration), not serialised here.
 */
export function bindingInputsKey(state: Omit<CompileState, 'bindings'>, bindingId: number): string {
  const switches = state.switches.map((s) => `${s.dpid}/${s.subnet ?? ''}/${s.routerPort ?? ''}`).join(',');
  const gateways = [...state.gatewayMacs].map(([name, mac]) => `${name}=${mac}`).sort().join(',');
  const c = state.correspondents;
  const correspondents = c === undefined || c.mode === 'eager' ? 'eager' : `on-demand/${c.idleTimeoutSec}/${[...c.cached(bindingId)].sort().join(',')}`;
  return `${switches}|${gateways}|${correspondents}|${state.buffering?.(bindingId) ?? ''}`;
}

/** The same binding as far as its rules go (lastSeen and createdAt aside). */
export function sameBindingRules(a: Binding, b: Binding): boolean {
  return a.id === b.id && a.eid === b.eid && a.mac === b.mac && a.homeSubnet === b.homeSubnet && a.version === b.version
    && a.locator.subnet === b.locator.subnet && a.locator.dpid === b.locator.dpid && a.locator.port === b.locator.port && a.locator.address === b.locator.address;
}
