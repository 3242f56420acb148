// A rule as the compiler produces it, and its FLOW_MOD forms.

import {
  OFP_NO_BUFFER, OFPFC_ADD, OFPFC_DELETE_STRICT, OFPFC_MODIFY_STRICT, OFPG_ANY, OFPP_ANY,
  type FlowMod, type Instruction, type Match,
} from '../openflow/index.js';
import { COOKIE_MASK_EXACT } from './cookie.js';
import type { Phase, RuleKind } from './tables.js';

export interface Rule {
  readonly table: number;
  readonly priority: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
  readonly cookie: bigint;
  readonly idleTimeout?: number;
  /** OFPFF_* (e.g. SEND_FLOW_REM for rules that idle out). */
  readonly flags?: number;
  readonly phase: Phase;
  /** The binding a per-binding rule serves. */
  readonly owner?: number;
  /** Which declared rule kind this is (for validation, the dashboard and debugging). */
  readonly kind?: RuleKind;
}

export type RuleCommand = typeof OFPFC_ADD | typeof OFPFC_MODIFY_STRICT | typeof OFPFC_DELETE_STRICT;

/**
 * ADD installs (or atomically overwrites the rule with the same table, priority and match);
 * DELETE_STRICT removes the rule only while it still carries this exact cookie.
 */
export function toFlowMod(rule: Omit<Rule, 'phase'>, command: RuleCommand = OFPFC_ADD): FlowMod {
  // A literal rather than flowMod({...}): this runs for every rule of every plan.
  const remove = command === OFPFC_DELETE_STRICT;
  return {
    type: 'FLOW_MOD', xid: 0, cookie: rule.cookie, cookieMask: remove ? COOKIE_MASK_EXACT : 0n, tableId: rule.table, command,
    idleTimeout: remove ? 0 : rule.idleTimeout ?? 0, hardTimeout: 0, priority: rule.priority, bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0, match: rule.match, instructions: remove ? [] : rule.instructions,
  };
}
