// The rule compiler: pure. (bindings, subnets, connected switches, gateway MACs) -> the rules
// every switch should hold. One place (the controller app) turns the difference between that
// and what is installed into FLOW_MODs (plan.ts).

import type { Binding } from '../mobility/binding.js';
import type { Subnet } from '../mobility/subnet.js';
import { rangeToPrefixes, type Prefix } from '../mobility/prefix.js';
import { applyActions, gotoTable, OFPP_CONTROLLER, OFPP_FLOOD, outputPort, type Instruction, type Mac, type Match } from '../openflow/index.js';
import { formatDpid } from '../switch/dpid.js';
import { bindingRules, type BindingContext, type BufferMode, type EdgeView } from './binding-rules.js';
import { COOKIE_BASE } from './cookie.js';
import type { Rule } from './rule.js';
import { RULE_KINDS, TABLE_DST_REWRITE, TABLE_L2_FORWARD, TABLE_SRC_REWRITE, type RuleKind } from './tables.js';

/** A connected switch. `subnet` absent = unmanaged (plain L2 learning, base rules only). */
export interface SwitchInfo {
  readonly dpid: bigint;
  readonly subnet?: string;
  readonly routerPort?: number;
}

/**
 * Which edges get a moved binding's correspondent rules. eager: every managed edge (fastest first
 * packet, rules grow with the number of edges). on-demand: only edges where a conversation with
 * the binding was seen (a map-cache, as LISP does): a packet from the router with a locator source
 * the edge has no rule for goes to the controller, which adds the edge to the binding's cache;
 * cached rules idle out. Rules then grow with live conversations, not with the edges.
 */
export type CorrespondentScope =
  | { readonly mode: 'eager' }
  | { readonly mode: 'on-demand'; readonly cached: (bindingId: number) => ReadonlySet<bigint>; readonly idleTimeoutSec: number };

export interface CompileState {
  readonly bindings: readonly Binding[];
  readonly subnets: readonly Subnet[];
  readonly switches: readonly SwitchInfo[];
  /** Resolved gateway MAC per subnet name (see resolveGatewayMacs). */
  readonly gatewayMacs: ReadonlyMap<string, Mac>;
  /** Default: eager. */
  readonly correspondents?: CorrespondentScope;
  /** Source MAC of the controller's ARP probes (their answers come back to it); default PROBE_MAC. */
  readonly probeMac?: Mac;
  /** Loss-free migration: how a binding's frames go to the controller's buffer, if they do (fabric/buffers.ts). */
  readonly buffering?: (bindingId: number) => BufferMode | undefined;
}

/**
 * Source of the ARP probes the controller sends to verify that a VM left its old attachment
 * (locally administered, unicast). Answers to it are the controller's, on every switch.
 */
export const PROBE_MAC: Mac = '02:5e:a0:00:00:01';

/**
 * Metadata mark of every frame the controller re-injects (PACKET_OUT to OFPP_TABLE). Table 0
 * lets a marked frame that no learned rule takes go on through the pipeline instead of back to
 * the controller, and a marked frame that does reach the controller is a loop: counted, dropped.
 */
export const REINJECTED_MARK = 1n;

export interface Compiled {
  /** Keyed by formatDpid(dpid); every connected switch has an entry. */
  readonly rules: Map<string, Rule[]>;
  /** Bindings or subnets that could not be compiled fully, and why. */
  readonly problems: string[];
}

export function compileRules(state: CompileState): Map<string, Rule[]> {
  return compile(state).rules;
}

export function compile(state: CompileState): Compiled {
  const { rules, context, problems } = compileBase(state);
  for (const b of state.bindings) {
    const perSwitch = bindingRules(b, context);
    if (typeof perSwitch === 'string') { problems.push(perSwitch); continue; }
    for (const [dpid, list] of perSwitch) rules.get(formatDpid(dpid))?.push(...list);
  }
  return { rules, problems };
}

/** Base rules per connected switch, plus the context per-binding rules are compiled in. */
export function compileBase(state: Omit<CompileState, 'bindings'>): { rules: Map<string, Rule[]>; context: BindingContext; problems: string[] } {
  const problems: string[] = [];
  const rules = new Map<string, Rule[]>();
  const bySubnet = new Map(state.subnets.map((s) => [s.name, s]));
  const edges: EdgeView[] = [];
  for (const sw of state.switches) {
    const subnet = sw.subnet === undefined ? undefined : bySubnet.get(sw.subnet);
    if (sw.subnet !== undefined && subnet === undefined) problems.push(`switch ${formatDpid(sw.dpid)}: unknown subnet ${sw.subnet}`);
    const gwMac = sw.subnet === undefined ? undefined : state.gatewayMacs.get(sw.subnet);
    if (subnet !== undefined && gwMac === undefined) problems.push(`subnet ${subnet.name}: gateway MAC not resolved; ${formatDpid(sw.dpid)} has no gateway rule`);
    const onDemand = subnet !== undefined && state.correspondents?.mode === 'on-demand';
    rules.set(formatDpid(sw.dpid), baseRules({
      ...(sw.routerPort === undefined ? {} : { routerPort: sw.routerPort }),
      ...(gwMac === undefined ? {} : { gatewayMac: gwMac }),
      ...(onDemand ? { locatorMiss: { blocks: locatorBlocks(state.subnets), aliases: state.subnets.map((x) => x.gatewayAlias) } } : {}),
      probeMac: state.probeMac ?? PROBE_MAC,
    }));
    if (subnet !== undefined) edges.push({ dpid: sw.dpid, subnet, ...(sw.routerPort === undefined ? {} : { routerPort: sw.routerPort }) });
  }
  return { rules, context: bindingContext(state, edges), problems };
}

/** What per-binding rules are compiled against (no base rules: cheap enough to build per move). */
export function bindingContext(state: Omit<CompileState, 'bindings'>, edges: readonly EdgeView[] = edgeViews(state)): BindingContext {
  return {
    subnets: state.subnets, edges, gatewayMac: (name: string) => state.gatewayMacs.get(name),
    ...(state.correspondents === undefined ? {} : { correspondents: state.correspondents }),
    ...(state.buffering === undefined ? {} : { buffering: state.buffering }),
  };
}

/** Every locator pool as CIDR blocks (what the on-demand miss rules match). */
function locatorBlocks(subnets: readonly Subnet[]): Prefix[] {
  return subnets.flatMap((s) => rangeToPrefixes(s.locatorPool));
}

function edgeViews(state: Omit<CompileState, 'bindings'>): EdgeView[] {
  const bySubnet = new Map(state.subnets.map((s) => [s.name, s]));
  return state.switches.flatMap((sw) => {
    const subnet = sw.subnet === undefined ? undefined : bySubnet.get(sw.subnet);
    return subnet === undefined ? [] : [{ dpid: sw.dpid, subnet, ...(sw.routerPort === undefined ? {} : { routerPort: sw.routerPort }) }];
  });
}

export interface BaseRuleOptions {
  readonly routerPort?: number;
  readonly gatewayMac?: Mac;
  /** On-demand mode: locator sources from the router go to the controller, except gateway aliases. */
  readonly locatorMiss?: { readonly blocks: readonly Prefix[]; readonly aliases: readonly string[] };
  readonly probeMac?: Mac;
}

/** The pipeline skeleton every switch gets on connect. */
export function baseRules(options: BaseRuleOptions = {}): Rule[] {
  const { routerPort, gatewayMac, locatorMiss } = options;
  const rule = (kind: RuleKind, match: Match, instructions: Instruction[]): Rule => ({
    table: RULE_KINDS[kind].table, priority: RULE_KINDS[kind].priority, phase: 'base', match, instructions, cookie: COOKIE_BASE, kind,
  });
  const toController = [applyActions(outputPort(OFPP_CONTROLLER))];
  const rules = [
    rule('probeReplyToController', { eth_dst: (options.probeMac ?? PROBE_MAC).toLowerCase(), eth_type: 0x0806 }, toController),
    rule('rarpToController', { eth_type: 0x8035 }, toController),
    rule('reinjectedMiss', { metadata: REINJECTED_MARK }, [gotoTable(TABLE_SRC_REWRITE)]),
    rule('ingressMiss', {}, toController),
    rule('srcRewriteMiss', {}, [gotoTable(TABLE_DST_REWRITE)]),
    rule('dstRewriteMiss', {}, [gotoTable(TABLE_L2_FORWARD)]),
    rule('l2Flood', {}, [applyActions(outputPort(OFPP_FLOOD))]),
  ];
  if (routerPort !== undefined && gatewayMac !== undefined) {
    rules.push(rule('gatewayToRouter', { eth_dst: gatewayMac }, [applyActions(outputPort(routerPort))]));
  }
  if (routerPort !== undefined && locatorMiss !== undefined) {
    for (const block of locatorMiss.blocks) {
      rules.push(rule('locatorMiss', { in_port: routerPort, eth_type: 0x0800, ipv4_src: [block.network, block.mask] }, toController));
    }
    for (const alias of locatorMiss.aliases) {
      rules.push(rule('gatewayAliasPass', { in_port: routerPort, eth_type: 0x0800, ipv4_src: alias }, [gotoTable(TABLE_DST_REWRITE)]));
    }
  }
  return rules;
}

/** Configured gateway MACs win over learned ones (learned: from ARP replies of the router). */
export function resolveGatewayMacs(subnets: readonly Subnet[], learned: ReadonlyMap<string, Mac> = new Map()): Map<string, Mac> {
  const out = new Map<string, Mac>();
  for (const s of subnets) {
    const mac = s.gateway.mac ?? learned.get(s.name);
    if (mac !== undefined) out.set(s.name, mac.toLowerCase());
  }
  return out;
}

/** The switch view of the config: one SwitchInfo per connected dpid (unknown dpids are unmanaged). */
export function switchInfos(subnets: readonly Subnet[], connected: Iterable<bigint>): SwitchInfo[] {
  const out: SwitchInfo[] = [];
  for (const dpid of connected) {
    const subnet = subnets.find((s) => s.edges.some((e) => e.dpid === dpid));
    const edge = subnet?.edges.find((e) => e.dpid === dpid);
    out.push({ dpid, ...(subnet === undefined ? {} : { subnet: subnet.name }), ...(edge?.routerPort === undefined ? {} : { routerPort: edge.routerPort }) });
  }
  return out;
}
