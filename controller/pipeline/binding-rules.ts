// The rules one moved binding needs (design: "Per moved binding"), grouped by switch.
// b = (e, m, H, N, ns, np, L) with N != H; nothing at all when the binding is at home.

import { isAway, type Binding } from '../mobility/binding.js';
import type { Subnet } from '../mobility/subnet.js';
import {
  applyActions, gotoTable, nxRegMove, OFPFF_SEND_FLOW_REM, OFPP_CONTROLLER, OFPP_IN_PORT, outputPort, setField,
  type Action, type Instruction, type Mac, type Match,
} from '../openflow/index.js';
import { bindingCookie } from './cookie.js';
import type { Rule } from './rule.js';
import type { CorrespondentScope } from './compiler.js';
import { RULE_KINDS, TABLE_DST_REWRITE, TABLE_SRC_REWRITE, type RuleKind } from './tables.js';

const ETH_TYPE_IPV4 = 0x0800;
const ETH_TYPE_ARP = 0x0806;
const ETH_TYPE_IPV6 = 0x86dd;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;

/** A connected managed edge, with what the rules need to know about it. */
export interface EdgeView {
  readonly dpid: bigint;
  readonly subnet: Subnet;
  readonly routerPort?: number;
}

export interface BindingContext {
  readonly subnets: readonly Subnet[];
  readonly edges: readonly EdgeView[];
  readonly gatewayMac: (subnet: string) => Mac | undefined;
  /** Which edges get correspondent rules (default: every managed edge). */
  readonly correspondents?: CorrespondentScope;
  /** Loss-free migration: how a binding's frames go to the controller's buffer, if they do. */
  readonly buffering?: (bindingId: number) => BufferMode | undefined;
}

/**
 * copy: the VM is migrating; what its edge delivers to it is also copied to the controller, which
 * keeps the last few milliseconds (the frames a VM that stops now may miss before 'stopping' reaches
 * the controller). hold: the VM is stopped; what is on its way to it goes to the controller instead.
 */
export type BufferMode = 'copy' | 'hold';

/** Per-binding rules keyed by dpid, or a reason why the binding gets none. */
export function bindingRules(b: Binding, ctx: BindingContext): Map<bigint, Rule[]> | string {
  const out = new Map<bigint, Rule[]>();
  const buffering = ctx.edges.some((e) => e.dpid === b.locator.dpid) ? ctx.buffering?.(b.id) : undefined;
  if (!isAway(b)) {
    if (buffering !== undefined) out.set(b.locator.dpid, [bufferRule(b, 'bufferAtHome', { eth_dst: b.mac }, buffering === 'copy' ? [outputPort(b.locator.port)] : [])]);
    return out;
  }
  const home = ctx.subnets.find((s) => s.name === b.homeSubnet);
  const gwMacH = ctx.gatewayMac(b.homeSubnet);
  const gwMacN = ctx.gatewayMac(b.locator.subnet);
  if (home === undefined) return `binding ${b.eid}: home subnet ${b.homeSubnet} is not configured`;
  if (gwMacH === undefined || gwMacN === undefined) {
    return `binding ${b.eid}: gateway MAC of ${gwMacH === undefined ? b.homeSubnet : b.locator.subnet} is not resolved yet`;
  }
  const rule = (kind: RuleKind, match: Match, instructions: Instruction[]): Rule => ({
    table: RULE_KINDS[kind].table, priority: RULE_KINDS[kind].priority, phase: RULE_KINDS[kind].phase,
    match, instructions, cookie: bindingCookie(b.id, b.version), owner: b.id, kind,
  });
  const add = (dpid: bigint, rules: Rule[]): void => { out.set(dpid, [...(out.get(dpid) ?? []), ...rules]); };

  if (ctx.edges.some((e) => e.dpid === b.locator.dpid)) add(b.locator.dpid, newEdgeRules(b, home, gwMacH, gwMacN, ctx.subnets, rule, buffering === 'copy'));
  if (buffering === 'hold') add(b.locator.dpid, [bufferRule(b, 'bufferAway', { eth_type: ETH_TYPE_IPV4, ipv4_dst: b.locator.address }, [])]);
  for (const edge of ctx.edges) {
    if (edge.subnet.name === b.homeSubnet) add(edge.dpid, homeEdgeRules(b, edge, gwMacH, ctx.subnets, rule));
    const gwMacS = ctx.gatewayMac(edge.subnet.name);
    const scope = ctx.correspondents;
    if (edge.routerPort === undefined) continue;
    if (scope === undefined || scope.mode === 'eager') add(edge.dpid, correspondentRules(b, edge.routerPort, gwMacS, rule));
    // The home edges always hold them: on-link peers there still send to the VM's MAC, and only
    // these rules take such frames to the router (the home anchor covers routed traffic).
    else if (edge.subnet.name === b.homeSubnet) add(edge.dpid, correspondentRules(b, edge.routerPort, gwMacS, rule));
    else if (scope.cached(b.id).has(edge.dpid)) add(edge.dpid, correspondentRules(b, edge.routerPort, gwMacS, rule, scope.idleTimeoutSec));
  }
  return out;
}

type MakeRule = (kind: RuleKind, match: Match, instructions: Instruction[]) => Rule;

/**
 * While its VM is stopped, what is on its way to it waits at the controller (fabric/buffers.ts);
 * `first` goes before (its port, while it migrates: a copy).
 */
function bufferRule(b: Binding, kind: 'bufferAtHome' | 'bufferAway', match: Match, first: Action[]): Rule {
  return {
    table: RULE_KINDS[kind].table, priority: RULE_KINDS[kind].priority, phase: RULE_KINDS[kind].phase,
    match, instructions: [applyActions(...first, outputPort(OFPP_CONTROLLER))], cookie: bindingCookie(b.id, b.version), owner: b.id, kind,
  };
}

function newEdgeRules(b: Binding, home: Subnet, gwMacH: Mac, gwMacN: Mac, subnets: readonly Subnet[], rule: MakeRule, copy: boolean): Rule[] {
  const { eid: e, mac: m } = b;
  const { port: np, address: L } = b.locator;
  const vmIp = { in_port: np, eth_type: ETH_TYPE_IPV4, ipv4_src: e };
  // While the VM migrates, a copy of what it is delivered goes to the controller (BufferMode 'copy').
  const deliver = copy ? [outputPort(np), outputPort(OFPP_CONTROLLER)] : [outputPort(np)];
  return [
    rule('deliverLocator', { eth_type: ETH_TYPE_IPV4, ipv4_dst: L }, [applyActions(setField('ipv4_dst', e), setField('eth_dst', m), ...deliver)]),
    // The router's own traffic reaches us with its gateway address replaced by the alias (see homeEdgeRules).
    ...subnets.map((x) => rule('deliverFromGateway', { eth_type: ETH_TYPE_IPV4, ipv4_src: x.gatewayAlias, ipv4_dst: L },
      [applyActions(setField('ipv4_src', x.gateway.ip), setField('ipv4_dst', e), setField('eth_dst', m), ...deliver)])),
    rule('locatorArpResponder', { eth_type: ETH_TYPE_ARP, arp_op: ARP_REQUEST, arp_tpa: L }, [applyActions(...arpResponder(m, { ip: L }))]),
    rule('vmAnnounceToController', { in_port: np, eth_type: ETH_TYPE_ARP, arp_tpa: e }, [applyActions(outputPort(OFPP_CONTROLLER))]),
    rule('vmArpResponder', { in_port: np, eth_type: ETH_TYPE_ARP, arp_op: ARP_REQUEST, arp_tpa: [home.prefix.network, home.prefix.mask] },
      [applyActions(...arpResponder(gwMacH, 'requested'))]),
    rule('vmArpDrop', { in_port: np, eth_type: ETH_TYPE_ARP }, []),
    rule('vmIpv6Drop', { in_port: np, eth_src: m, eth_type: ETH_TYPE_IPV6 }, []),
    ...subnets.map((x) => rule('vmToGateway', { ...vmIp, ipv4_dst: x.gateway.ip },
      [applyActions(setField('eth_dst', gwMacN)), gotoTable(TABLE_DST_REWRITE)])),
    ...subnets.map((x) => rule('vmToManaged', { ...vmIp, ipv4_dst: [x.prefix.network, x.prefix.mask] },
      [applyActions(setField('ipv4_src', L), setField('eth_dst', gwMacN)), gotoTable(TABLE_DST_REWRITE)])),
    rule('vmToExternal', vmIp, [applyActions(setField('eth_dst', gwMacN)), gotoTable(TABLE_DST_REWRITE)]),
    rule('vmGate', { in_port: np, eth_src: m }, [gotoTable(TABLE_SRC_REWRITE)]),
  ];
}

function homeEdgeRules(b: Binding, edge: EdgeView, gwMacH: Mac, subnets: readonly Subnet[], rule: MakeRule): Rule[] {
  const rules = [
    rule('eidArpResponder', { eth_type: ETH_TYPE_ARP, arp_op: ARP_REQUEST, arp_tpa: b.eid }, [applyActions(...arpResponder(b.mac, { ip: b.eid }))]),
    // The VM's own gratuitous ARP (or ARP probe) for its EID must reach the controller when it
    // comes home, not be answered by the responder above: it is the announce of the return.
    rule('homeAnnounceToController', { eth_src: b.mac, eth_type: ETH_TYPE_ARP, arp_tpa: b.eid }, [applyActions(outputPort(OFPP_CONTROLLER))]),
  ];
  if (edge.routerPort !== undefined) {
    const anchor = (...actions: Action[]) => [applyActions(
      ...actions, setField('ipv4_dst', b.locator.address), setField('eth_dst', gwMacH), setField('eth_src', b.mac), outputPort(OFPP_IN_PORT),
    )];
    rules.push(rule('homeAnchor', { in_port: edge.routerPort, eth_type: ETH_TYPE_IPV4, ipv4_dst: b.eid }, anchor()));
    // Sent back with the router's own address as source, the packet would be dropped by the
    // router (a local source arriving from outside): it travels as the gateway alias instead.
    for (const x of subnets) {
      rules.push(rule('homeAnchorGateway', { in_port: edge.routerPort, eth_type: ETH_TYPE_IPV4, ipv4_src: x.gateway.ip, ipv4_dst: b.eid },
        anchor(setField('ipv4_src', x.gatewayAlias))));
    }
  }
  return rules;
}

/** idleTimeoutSec: an on-demand (cached) entry, which idles out and tells the controller (SEND_FLOW_REM). */
function correspondentRules(b: Binding, routerPort: number, gwMacS: Mac | undefined, rule: MakeRule, idleTimeoutSec?: number): Rule[] {
  const L = b.locator.address;
  const src = rule('correspondentSrc', { in_port: routerPort, eth_type: ETH_TYPE_IPV4, ipv4_src: L },
    [applyActions(setField('ipv4_src', b.eid)), gotoTable(TABLE_DST_REWRITE)]);
  const rules = [idleTimeoutSec === undefined ? src : { ...src, idleTimeout: idleTimeoutSec, flags: OFPFF_SEND_FLOW_REM }];
  // Without this subnet's gateway MAC, local peers keep sending to the EID: the home anchor still delivers.
  if (gwMacS !== undefined) {
    rules.push(rule('correspondentDst', { eth_type: ETH_TYPE_IPV4, ipv4_dst: b.eid },
      [applyActions(setField('ipv4_dst', L), setField('eth_dst', gwMacS), outputPort(routerPort))]));
  }
  return rules;
}

/**
 * Turns an ARP request into the reply "X is at `mac`", sent back out of the port it came in on.
 * `{ ip }` answers for a fixed address; 'requested' answers for whatever address was asked
 * (spa := tpa), so one rule covers a whole prefix.
 */
export function arpResponder(mac: Mac, answer: { readonly ip: string } | 'requested'): Action[] {
  const answerFor = answer === 'requested'
    ? [nxRegMove('NXM_OF_ARP_TPA', 'NXM_NX_REG0'), nxRegMove('NXM_OF_ARP_SPA', 'NXM_OF_ARP_TPA'), nxRegMove('NXM_NX_REG0', 'NXM_OF_ARP_SPA')]
    : [nxRegMove('NXM_OF_ARP_SPA', 'NXM_OF_ARP_TPA'), setField('arp_spa', answer.ip)];
  return [
    nxRegMove('NXM_OF_ETH_SRC', 'NXM_OF_ETH_DST'),
    setField('eth_src', mac),
    setField('arp_op', ARP_REPLY),
    nxRegMove('NXM_NX_ARP_SHA', 'NXM_NX_ARP_THA'),
    setField('arp_sha', mac),
    ...answerFor,
    outputPort(OFPP_IN_PORT),
  ];
}
