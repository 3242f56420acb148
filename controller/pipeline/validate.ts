// Checks rules against the table and rule-kind declarations (tables.ts): matched fields,
// written fields (set_field and Nicira moves), outputs, goto targets (forward only), phases and
// cookies. The compiler's output must pass; tests run this over everything it generates.

import {
  OFPCML_NO_BUFFER, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_MAX, parseNxRegMove,
  type Action, type NxmFieldName, type OxmName,
} from '../openflow/index.js';
import { classifyCookie } from './cookie.js';
import type { Rule } from './rule.js';
import { ruleKey } from './rule-key.js';
import { RULE_KINDS, tableDecl, type OutputKind, type TableDecl, type WritableField } from './tables.js';

/** What a Nicira move writes, in the declaration's vocabulary. */
const NXM_TO_FIELD: Partial<Record<NxmFieldName, WritableField>> = {
  NXM_OF_ETH_DST: 'eth_dst', NXM_OF_ETH_SRC: 'eth_src', NXM_OF_ARP_SPA: 'arp_spa', NXM_OF_ARP_TPA: 'arp_tpa',
  NXM_NX_ARP_SHA: 'arp_sha', NXM_NX_ARP_THA: 'arp_tha', NXM_NX_REG0: 'reg0',
};

const IPV4_FIELDS: readonly OxmName[] = ['ipv4_src', 'ipv4_dst', 'ip_proto', 'ip_dscp', 'ip_ecn'];
const ARP_FIELDS: readonly OxmName[] = ['arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha'];

/** Problems with one rule; empty when it fits its declarations. */
export function validateRule(rule: Rule): string[] {
  const decl = tableDecl(rule.table);
  if (decl === undefined) return [`table ${rule.table} is not declared`];
  const problems = [...checkMatch(rule, decl), ...checkInstructions(rule, decl), ...checkKind(rule), ...checkCookie(rule)];
  return problems.map((p) => `${decl.name} p=${rule.priority} ${rule.kind ?? ''}: ${p}`);
}

/** Problems across all switches, including two rules with one identity on a switch. */
export function validateRules(rulesByDpid: ReadonlyMap<string, readonly Rule[]>): string[] {
  const problems: string[] = [];
  for (const [dpid, rules] of rulesByDpid) {
    const seen = new Map<string, Rule>();
    for (const r of rules) {
      problems.push(...validateRule(r).map((p) => `${dpid}: ${p}`));
      const key = ruleKey(r);
      const other = seen.get(key);
      if (other !== undefined) problems.push(`${dpid}: two rules with identity ${key} (${other.kind} and ${r.kind})`);
      seen.set(key, r);
    }
  }
  return problems;
}

function checkMatch(rule: Rule, decl: TableDecl): string[] {
  const fields = Object.keys(rule.match).filter((k) => k !== 'unknown') as OxmName[];
  const problems = fields.filter((f) => !decl.match.includes(f)).map((f) => `matches ${f}, not allowed in ${decl.name}`);
  if (rule.match.unknown !== undefined && rule.match.unknown.length > 0) problems.push('matches raw OXM fields');
  const ethType = rule.match.eth_type;
  if (fields.some((f) => IPV4_FIELDS.includes(f)) && ethType !== 0x0800) problems.push('IPv4 field without eth_type=0x0800');
  if (fields.some((f) => ARP_FIELDS.includes(f)) && ethType !== 0x0806) problems.push('ARP field without eth_type=0x0806');
  return problems;
}

function checkInstructions(rule: Rule, decl: TableDecl): string[] {
  const problems: string[] = [];
  const kinds = rule.instructions.map((i) => i.type);
  if (kinds.some((k) => k !== 'APPLY_ACTIONS' && k !== 'GOTO_TABLE')) problems.push(`instructions ${kinds.join(',')}: only APPLY_ACTIONS and GOTO_TABLE are used`);
  if (kinds.filter((k) => k === 'APPLY_ACTIONS').length > 1 || kinds.filter((k) => k === 'GOTO_TABLE').length > 1) problems.push('repeated instruction');
  let outputs = 0;
  for (const i of rule.instructions) {
    if (i.type === 'GOTO_TABLE') {
      if (i.tableId <= rule.table) problems.push(`goto_table:${i.tableId} goes backwards`);
      else if (!decl.next.includes(i.tableId)) problems.push(`goto_table:${i.tableId} not allowed after ${decl.name}`);
    }
    if (i.type !== 'APPLY_ACTIONS') continue;
    i.actions.forEach((a, n) => {
      problems.push(...checkAction(a, decl));
      if (a.type === 'OUTPUT') {
        outputs++;
        if (n !== i.actions.length - 1) problems.push('output is not the last action');
      }
    });
  }
  if (outputs > 0 && kinds.includes('GOTO_TABLE')) problems.push('both outputs and continues to another table');
  return problems;
}

function checkAction(a: Action, decl: TableDecl): string[] {
  switch (a.type) {
    case 'SET_FIELD':
      return decl.set.includes(a.field) ? [] : [`sets ${a.field}, not allowed in ${decl.name}`];
    case 'EXPERIMENTER': {
      const move = parseNxRegMove(a);
      if (move === undefined) return ['experimenter action other than a Nicira move'];
      const field = NXM_TO_FIELD[move.dst];
      return field !== undefined && decl.set.includes(field) ? [] : [`moves into ${move.dst}, not allowed in ${decl.name}`];
    }
    case 'OUTPUT': {
      const kind = outputKind(a.port);
      if (kind === undefined || !decl.outputs.includes(kind)) return [`outputs to port ${a.port.toString(16)}, not allowed in ${decl.name}`];
      if (kind === 'controller' && (a.maxLen ?? OFPCML_NO_BUFFER) !== OFPCML_NO_BUFFER) return ['controller output must send whole packets (NO_BUFFER)'];
      return [];
    }
    default:
      return [`action ${a.type} is never used`];
  }
}

function outputKind(port: number): OutputKind | undefined {
  if (port === OFPP_IN_PORT) return 'in_port';
  if (port === OFPP_CONTROLLER) return 'controller';
  if (port === OFPP_FLOOD) return 'flood';
  return port >= 1 && port <= OFPP_MAX ? 'port' : undefined;
}

function checkKind(rule: Rule): string[] {
  if (rule.kind === undefined) return ['no rule kind'];
  const k = RULE_KINDS[rule.kind];
  const problems: string[] = [];
  if (k.table !== rule.table || k.priority !== rule.priority) problems.push(`declared at table ${k.table} p=${k.priority}`);
  if (k.phase !== rule.phase) problems.push(`phase ${rule.phase}, declared ${k.phase}`);
  return problems;
}

function checkCookie(rule: Rule): string[] {
  const c = classifyCookie(rule.cookie);
  if (rule.phase === 'base') return c.kind === 'base' ? [] : [`base rule with a ${c.kind} cookie`];
  if (c.kind !== 'binding') return [`per-binding rule with a ${c.kind} cookie`];
  return c.bindingId === rule.owner ? [] : [`cookie names binding ${c.bindingId}, owner is ${rule.owner}`];
}

