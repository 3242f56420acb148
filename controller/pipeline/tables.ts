// The four flow tables, declared as data: what each may match, what it may set, where a packet
// may go next. Every rule kind the controller installs is declared here too, with its table,
// priority and phase; the compiler takes priorities from here and the validator checks
// every generated rule against both declarations.

import type { OxmName } from '../openflow/types.js';

export const TABLE_INGRESS = 0;
export const TABLE_SRC_REWRITE = 1;
export const TABLE_DST_REWRITE = 2;
export const TABLE_L2_FORWARD = 3;

/** Fields a rule may write: OXM fields via set_field, plus Nicira register 0 via move. */
export type WritableField = OxmName | 'reg0';

/** port = a physical port number; the others are the reserved ports of that name. */
export type OutputKind = 'port' | 'in_port' | 'controller' | 'flood';

export interface TableDecl {
  readonly id: number;
  readonly name: string;
  readonly purpose: string;
  readonly match: readonly OxmName[];
  readonly set: readonly WritableField[];
  readonly next: readonly number[];
  readonly outputs: readonly OutputKind[];
}

export const TABLES: readonly TableDecl[] = [
  {
    id: TABLE_INGRESS,
    name: 'ingress',
    purpose: 'control-plane interception (RARP, the VM\'s ARP, ARP responders, probe replies) and source learning',
    match: ['in_port', 'eth_src', 'eth_dst', 'eth_type', 'arp_op', 'arp_tpa', 'metadata'],
    set: ['eth_src', 'eth_dst', 'arp_op', 'arp_sha', 'arp_tha', 'arp_spa', 'arp_tpa', 'reg0'],
    next: [TABLE_SRC_REWRITE],
    outputs: ['controller', 'in_port'],
  },
  {
    id: TABLE_SRC_REWRITE,
    name: 'src_rewrite',
    purpose: 'locator <-> EID on the source address',
    match: ['in_port', 'eth_type', 'ipv4_src', 'ipv4_dst'],
    set: ['ipv4_src', 'eth_dst'],
    next: [TABLE_DST_REWRITE],
    outputs: ['controller'],
  },
  {
    id: TABLE_DST_REWRITE,
    name: 'dst_rewrite',
    purpose: 'EID -> locator on the destination, delivery of locator traffic, the home anchor',
    match: ['in_port', 'eth_type', 'ipv4_src', 'ipv4_dst'],
    set: ['ipv4_src', 'ipv4_dst', 'eth_dst', 'eth_src'],
    next: [TABLE_L2_FORWARD],
    outputs: ['port', 'in_port', 'controller'],
  },
  {
    id: TABLE_L2_FORWARD,
    name: 'l2_forward',
    purpose: 'learned destinations, routed frames to the router port, flood on miss',
    match: ['eth_dst'],
    set: [],
    next: [],
    outputs: ['port', 'flood', 'controller'],
  },
];

export function tableDecl(id: number): TableDecl | undefined {
  return TABLES.find((t) => t.id === id);
}

/** base: installed on connect, kept; receive: phase 1 of a move; send: phase 2. */
export type Phase = 'base' | 'receive' | 'send';

export interface RuleKindDecl {
  readonly table: number;
  readonly priority: number;
  readonly phase: Phase;
  readonly summary: string;
}

export const RULE_KINDS = {
  // base, every switch
  probeReplyToController: { table: TABLE_INGRESS, priority: 1100, phase: 'base', summary: "answers to the controller's ARP probes -> controller" },
  rarpToController: { table: TABLE_INGRESS, priority: 1000, phase: 'base', summary: 'RARP announce -> controller' },
  reinjectedMiss: { table: TABLE_INGRESS, priority: 1, phase: 'base', summary: 're-injected by the controller (metadata mark) and not learned -> on through the pipeline, never back' },
  ingressMiss: { table: TABLE_INGRESS, priority: 0, phase: 'base', summary: 'unknown source -> controller' },
  srcRewriteMiss: { table: TABLE_SRC_REWRITE, priority: 0, phase: 'base', summary: 'goto dst_rewrite' },
  dstRewriteMiss: { table: TABLE_DST_REWRITE, priority: 0, phase: 'base', summary: 'goto l2_forward' },
  l2Flood: { table: TABLE_L2_FORWARD, priority: 0, phase: 'base', summary: 'unknown destination -> flood' },
  gatewayToRouter: { table: TABLE_L2_FORWARD, priority: 150, phase: 'base', summary: 'eth_dst = gateway MAC -> router port' },
  locatorMiss: { table: TABLE_SRC_REWRITE, priority: 150, phase: 'base', summary: 'on-demand mode: from the router with a locator source this edge has no rule for -> controller' },
  gatewayAliasPass: { table: TABLE_SRC_REWRITE, priority: 160, phase: 'base', summary: 'on-demand mode: a gateway alias source is no locator -> on' },
  // the moved VM's new edge
  vmAnnounceToController: { table: TABLE_INGRESS, priority: 960, phase: 'receive', summary: "the VM's own gratuitous ARP -> controller" },
  locatorArpResponder: { table: TABLE_INGRESS, priority: 950, phase: 'receive', summary: 'ARP for the locator -> answered with the VM MAC' },
  vmArpResponder: { table: TABLE_INGRESS, priority: 950, phase: 'receive', summary: "the VM's ARP for its home prefix -> answered with the home gateway MAC" },
  vmArpDrop: { table: TABLE_INGRESS, priority: 940, phase: 'receive', summary: "any other ARP from the VM -> drop" },
  vmIpv6Drop: { table: TABLE_INGRESS, priority: 110, phase: 'receive', summary: "the VM's IPv6 -> drop (Seamless moves IPv4 endpoints; its IPv6 addresses belong to the home link)" },
  deliverLocator: { table: TABLE_DST_REWRITE, priority: 300, phase: 'receive', summary: 'dst locator -> EID, to the VM port' },
  deliverFromGateway: { table: TABLE_DST_REWRITE, priority: 310, phase: 'receive', summary: 'src gateway alias, dst locator -> src gateway, dst EID, to the VM port' },
  vmToGateway: { table: TABLE_SRC_REWRITE, priority: 310, phase: 'send', summary: 'VM -> a gateway address: keep the EID' },
  vmToManaged: { table: TABLE_SRC_REWRITE, priority: 300, phase: 'send', summary: 'VM -> a managed prefix: src EID -> locator' },
  vmToExternal: { table: TABLE_SRC_REWRITE, priority: 290, phase: 'send', summary: 'VM -> elsewhere: keep the EID (via the home anchor)' },
  vmGate: { table: TABLE_INGRESS, priority: 100, phase: 'send', summary: "the VM's traffic enters the pipeline" },
  // the home edge
  homeAnnounceToController: { table: TABLE_INGRESS, priority: 970, phase: 'receive', summary: "the VM's own ARP for its EID (a return announce) -> controller, not the responder" },
  eidArpResponder: { table: TABLE_INGRESS, priority: 950, phase: 'receive', summary: 'ARP for the EID at home -> answered with the VM MAC' },
  homeAnchor: { table: TABLE_DST_REWRITE, priority: 250, phase: 'send', summary: 'router traffic for the EID -> dst locator, back to the router' },
  homeAnchorGateway: { table: TABLE_DST_REWRITE, priority: 260, phase: 'send', summary: "the router's own traffic for the EID -> src gateway alias, dst locator, back to the router" },
  // loss-free migration: frames for a stopped VM go to the controller's buffer, not the dead port
  bufferAtHome: { table: TABLE_L2_FORWARD, priority: 110, phase: 'receive', summary: 'frames for a stopped VM at home -> the controller\'s buffer (while it migrates: to its port and a copy there)' },
  bufferAway: { table: TABLE_DST_REWRITE, priority: 320, phase: 'receive', summary: 'frames for a stopping VM\'s locator -> the controller\'s buffer' },
  // every managed edge (correspondents)
  correspondentSrc: { table: TABLE_SRC_REWRITE, priority: 200, phase: 'receive', summary: 'from the router with src locator -> src EID' },
  correspondentDst: { table: TABLE_DST_REWRITE, priority: 200, phase: 'send', summary: 'dst EID -> locator, to the router' },
} as const satisfies Record<string, RuleKindDecl>;

export type RuleKind = keyof typeof RULE_KINDS;

/** Priorities of the L2 learner's rules (not compiled; installed on packet-in with idle timeouts). */
export const LEARNER_PRIORITY = 100;

/** The phase of a compiled rule from its table and priority (unique by construction). */
export function phaseOf(table: number, priority: number): Phase | undefined {
  for (const k of Object.values(RULE_KINDS)) if (k.table === table && k.priority === priority) return k.phase;
  return undefined;
}
