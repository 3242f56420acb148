// Matches, actions, instructions and flow stats in the notation of
// `ovs-ofctl -O OpenFlow13 dump-flows` (Open vSwitch 3.1), so that the dashboard's rows read
// exactly like what network engineers see on the switch. Field order, shorthands (ip, tcp, arp,
// ...) and value styles follow OVS's match_format() and ofpacts_format(), checked against
// `ovs-ofctl ofp-print` in the tests.

import { readIpv6, writeIpv6, parseIpv4 } from './addr.js';
import * as C from './constants.js';
import { describeNxAction } from './nicira.js';
import type { Action, FlowMod, FlowStats, Instruction, Match, OxmName, RawOxm } from './types.js';

// ---- ports and values -----------------------------------------------------------------------

const PORT_NAMES: ReadonlyMap<number, string> = new Map([
  [C.OFPP_IN_PORT, 'IN_PORT'], [C.OFPP_TABLE, 'TABLE'], [C.OFPP_NORMAL, 'NORMAL'], [C.OFPP_FLOOD, 'FLOOD'],
  [C.OFPP_ALL, 'ALL'], [C.OFPP_CONTROLLER, 'CONTROLLER'], [C.OFPP_LOCAL, 'LOCAL'], [C.OFPP_ANY, 'NONE'],
]);

/** A port as OVS prints it: reserved ports by name, others as numbers. */
export function portName(port: number): string {
  return PORT_NAMES.get(port) ?? String(port);
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function ipv4Bits(ip: string): number {
  return parseIpv4(ip) >>> 0;
}

function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Number of leading one bits when `bytes` is a CIDR mask, else -1. */
function prefixLength(bytes: Uint8Array): number {
  let n = 0;
  let i = 0;
  for (; i < bytes.length && bytes[i] === 0xff; i++) n += 8;
  if (i < bytes.length) {
    const b = bytes[i] as number;
    const ones = [0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe].indexOf(b);
    if (ones < 0) return -1;
    n += ones;
    for (i++; i < bytes.length; i++) if (bytes[i] !== 0) return -1;
  }
  return n;
}

function macBytes(mac: string): number[] {
  return mac.split(/[:-]/).map((h) => parseInt(h, 16));
}

function macText(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

// ---- masked field printers (OVS format_*_masked) -------------------------------------------

type Part = string | undefined;
type M = Match & Record<string, unknown>;

function split<T>(v: unknown): [T, T | undefined] {
  return Array.isArray(v) ? [v[0] as T, v[1] as T] : [v as T, undefined];
}

function ethPart(name: string, v: unknown): Part {
  if (v === undefined) return undefined;
  const [value, mask] = split<string>(v);
  if (mask === undefined || mask.toLowerCase() === 'ff:ff:ff:ff:ff:ff') return `${name}=${value.toLowerCase()}`;
  const m = macBytes(mask);
  if (m.every((b) => b === 0)) return undefined;
  return `${name}=${macText(macBytes(value).map((b, i) => b & (m[i] as number)))}/${macText(m)}`;
}

function ipv4Part(name: string, v: unknown): Part {
  if (v === undefined) return undefined;
  const [value, mask] = split<string>(v);
  const m = mask === undefined ? 0xffffffff : ipv4Bits(mask);
  if (m === 0) return undefined;
  const masked = ipv4Text((ipv4Bits(value) & m) >>> 0);
  if (m === 0xffffffff) return `${name}=${masked}`;
  const bytes = Uint8Array.of(m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff);
  const len = prefixLength(bytes);
  return `${name}=${masked}/${len >= 0 ? len : ipv4Text(m)}`;
}

function ipv6Part(name: string, v: unknown): Part {
  if (v === undefined) return undefined;
  const [value, mask] = split<string>(v);
  const val = Buffer.alloc(16);
  writeIpv6(val, 0, value);
  if (mask === undefined) return `${name}=${readIpv6(val, 0)}`;
  const m = Buffer.alloc(16);
  writeIpv6(m, 0, mask);
  if (m.every((b) => b === 0)) return undefined;
  for (let i = 0; i < 16; i++) val[i] = (val[i] as number) & (m[i] as number);
  const len = prefixLength(m);
  if (len === 128) return `${name}=${readIpv6(val, 0)}`;
  return `${name}=${readIpv6(val, 0)}/${len >= 0 ? len : readIpv6(m, 0)}`;
}

/** format_be16_masked: decimal when exact, hex value/mask otherwise. */
function uintPart(name: string, v: unknown, fullMask: number): Part {
  if (v === undefined) return undefined;
  const [value, mask] = split<number>(v);
  if (mask === undefined || mask === fullMask) return `${name}=${value}`;
  if (mask === 0) return undefined;
  return `${name}=${hex(value & mask)}/${hex(mask)}`;
}

/** format_be64_masked: always hex. */
function u64Part(name: string, v: unknown): Part {
  if (v === undefined) return undefined;
  const [value, mask] = split<bigint>(v);
  if (mask === undefined || mask === 0xffffffffffffffffn) return `${name}=${hex(value)}`;
  if (mask === 0n) return undefined;
  return `${name}=${hex(value & mask)}/${hex(mask)}`;
}

function flabelPart(v: unknown): Part {
  if (v === undefined) return undefined;
  const [value, mask] = split<number>(v);
  const h5 = (n: number) => `0x${n.toString(16).padStart(5, '0')}`;
  if (mask === undefined || mask === 0xfffff) return `ipv6_label=${h5(value)}`;
  return `ipv6_label=${h5(value & mask)}/${h5(mask)}`;
}

/** OVS folds vlan_vid/vlan_pcp into one 16-bit TCI (CFI bit = "VLAN present"). */
function vlanPart(m: M): Part {
  if (m.vlan_vid === undefined && m.vlan_pcp === undefined) return undefined;
  let tci = 0;
  let mask = 0;
  if (m.vlan_vid !== undefined) {
    const [vid, vidMask = 0x1fff] = split<number>(m.vlan_vid);
    tci |= vid & vidMask & 0x1fff;
    mask |= vidMask & 0x1fff;
  }
  if (m.vlan_pcp !== undefined) {
    tci |= (((m.vlan_pcp as number) & 7) << 13) | 0x1000;
    mask |= 0xe000 | 0x1000;
  }
  const vidMask = mask & 0x0fff;
  const pcpMask = mask & 0xe000;
  if ((mask & 0x1000) && (tci & 0x1000) && (vidMask === 0 || vidMask === 0xfff) &&
      (pcpMask === 0 || pcpMask === 0xe000) && (vidMask || pcpMask)) {
    const parts: string[] = [];
    if (vidMask) parts.push(`dl_vlan=${tci & 0xfff}`);
    if (pcpMask) parts.push(`dl_vlan_pcp=${tci >>> 13}`);
    return parts.join(',');
  }
  const h4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
  return mask === 0xffff ? `vlan_tci=${h4(tci)}` : `vlan_tci=${h4(tci)}/${h4(mask)}`;
}

// ---- match ---------------------------------------------------------------------------------

const IP_SHORTHAND: Readonly<Record<number, string>> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };
const IPV6_SHORTHAND: Readonly<Record<number, string>> = { 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' };
const TYPE_SHORTHAND: Readonly<Record<number, string>> = { 0x0806: 'arp', 0x8035: 'rarp', 0x8847: 'mpls', 0x8848: 'mplsm' };

/** The protocol shorthand (ip, tcp, arp, ...) and whether it already says ip_proto. */
function shorthand(ethType: number | undefined, proto: number | undefined): [Part, boolean] {
  if (ethType === 0x0800) {
    const s = proto === undefined ? undefined : IP_SHORTHAND[proto];
    return s ? [s, true] : ['ip', false];
  }
  if (ethType === 0x86dd) {
    const s = proto === undefined ? undefined : IPV6_SHORTHAND[proto];
    return s ? [s, true] : ['ipv6', false];
  }
  return [ethType === undefined ? undefined : TYPE_SHORTHAND[ethType], false];
}

function transportParts(m: M): Part[] {
  const proto = typeof m.ip_proto === 'number' ? m.ip_proto : undefined;
  if (proto === 1) return [uintPart('icmp_type', m.icmpv4_type, 0xff), uintPart('icmp_code', m.icmpv4_code, 0xff)];
  if (proto === 58) {
    return [
      uintPart('icmp_type', m.icmpv6_type, 0xff), uintPart('icmp_code', m.icmpv6_code, 0xff),
      ipv6Part('nd_target', m.ipv6_nd_target), ethPart('nd_sll', m.ipv6_nd_sll), ethPart('nd_tll', m.ipv6_nd_tll),
    ];
  }
  return [
    uintPart('tp_src', m.tcp_src ?? m.udp_src ?? m.sctp_src, 0xffff),
    uintPart('tp_dst', m.tcp_dst ?? m.udp_dst ?? m.sctp_dst, 0xffff),
  ];
}

function rawOxmPart(raw: RawOxm): string {
  return `oxm(0x${raw.oxmClass.toString(16)}:${raw.field}${raw.hasMask ? '/m' : ''}=0x${Buffer.from(raw.payload).toString('hex')})`;
}

/**
 * The match as `ovs-ofctl dump-flows` prints it, including "priority=N" first unless N is the
 * default 32768 (pass the flow's priority; omit it to print the match alone).
 */
export function formatMatch(match: Match, priority: number = C.OFP_DEFAULT_PRIORITY): string {
  const m = match as M;
  const ethType = typeof m.eth_type === 'number' ? m.eth_type : undefined;
  const proto = typeof m.ip_proto === 'number' ? m.ip_proto : undefined;
  const [short, protoSaid] = shorthand(ethType, proto);
  const isArp = ethType === 0x0806 || ethType === 0x8035;
  const dscp = m.ip_dscp;
  const parts: Part[] = [
    priority !== C.OFP_DEFAULT_PRIORITY ? `priority=${priority}` : undefined,
    short,
    u64Part('tun_id', m.tunnel_id),
    u64Part('metadata', m.metadata),
    m.in_port === undefined ? undefined : `in_port=${portName(m.in_port as number)}`,
    vlanPart(m),
    ethPart('dl_src', m.eth_src),
    ethPart('dl_dst', m.eth_dst),
    short === undefined && ethType !== undefined ? `dl_type=0x${ethType.toString(16).padStart(4, '0')}` : undefined,
    ...(ethType === 0x86dd
      ? [ipv6Part('ipv6_src', m.ipv6_src), ipv6Part('ipv6_dst', m.ipv6_dst), flabelPart(m.ipv6_flabel)]
      : isArp
        ? [ipv4Part('arp_spa', m.arp_spa), ipv4Part('arp_tpa', m.arp_tpa)]
        : [ipv4Part('nw_src', m.ipv4_src), ipv4Part('nw_dst', m.ipv4_dst)]),
    isArp ? uintPart('arp_op', m.arp_op, 0xffff) : protoSaid ? undefined : uintPart('nw_proto', m.ip_proto, 0xff),
    ...(isArp ? [ethPart('arp_sha', m.arp_sha), ethPart('arp_tha', m.arp_tha)] : []),
    dscp === undefined ? undefined : `nw_tos=${((dscp as number) << 2) & 0xfc}`,
    uintPart('nw_ecn', m.ip_ecn, 0xff),
    uintPart('mpls_label', m.mpls_label, 0xfffff),
    uintPart('mpls_tc', m.mpls_tc, 0xff),
    uintPart('mpls_bos', m.mpls_bos, 0xff),
    ...transportParts(m),
    // Fields Open vSwitch does not support in OF1.3 matches: printed last, in OXM terms.
    uintPart('in_phy_port', m.in_phy_port, 0xffffffff),
    uintPart('pbb_isid', m.pbb_isid, 0xffffff),
    uintPart('ipv6_exthdr', m.ipv6_exthdr, 0x1ff),
    ...(match.unknown ?? []).map(rawOxmPart),
  ];
  return parts.filter((p): p is string => p !== undefined && p !== '').join(',');
}

// ---- actions and instructions --------------------------------------------------------------

/** OVS's names for set_field targets, where they differ from the OXM names. */
const SET_FIELD_NAME: Partial<Record<OxmName, string>> = {
  ipv4_src: 'ip_src', ipv4_dst: 'ip_dst', ip_ecn: 'nw_ecn', ip_proto: 'nw_proto', ipv6_flabel: 'ipv6_label',
  icmpv4_type: 'icmp_type', icmpv4_code: 'icmp_code', ipv6_nd_target: 'nd_target', ipv6_nd_sll: 'nd_sll',
  ipv6_nd_tll: 'nd_tll', tunnel_id: 'tun_id', in_port: 'in_port_oxm',
};
const HEX_VALUED: ReadonlySet<OxmName> = new Set<OxmName>(['metadata', 'tunnel_id', 'ipv6_flabel', 'eth_type']);

function setFieldText(field: OxmName, value: unknown): string {
  const v = typeof value === 'bigint' || (typeof value === 'number' && HEX_VALUED.has(field)) ? hex(value as number) : String(value);
  return `set_field:${v}->${SET_FIELD_NAME[field] ?? field}`;
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'OUTPUT':
      if (a.port === C.OFPP_CONTROLLER) return `CONTROLLER:${a.maxLen ?? C.OFPCML_NO_BUFFER}`;
      return PORT_NAMES.get(a.port) ?? `output:${a.port}`;
    case 'SET_FIELD': return setFieldText(a.field, a.value);
    case 'COPY_TTL_OUT': return 'copy_ttl_out';
    case 'COPY_TTL_IN': return 'copy_ttl_in';
    case 'SET_MPLS_TTL': return `set_mpls_ttl(${a.ttl})`;
    case 'DEC_MPLS_TTL': return 'dec_mpls_ttl';
    case 'PUSH_VLAN': return `push_vlan:${hex4(a.ethertype)}`;
    case 'POP_VLAN': return 'pop_vlan';
    case 'PUSH_MPLS': return `push_mpls:${hex4(a.ethertype)}`;
    case 'POP_MPLS': return `pop_mpls:${hex4(a.ethertype)}`;
    case 'SET_QUEUE': return `set_queue:${a.queueId}`;
    case 'GROUP': return `group:${a.groupId}`;
    case 'SET_NW_TTL': return `mod_nw_ttl:${a.ttl}`;
    case 'DEC_NW_TTL': return 'dec_ttl';
    case 'PUSH_PBB': return `push_pbb:${hex4(a.ethertype)}`;
    case 'POP_PBB': return 'pop_pbb';
    case 'EXPERIMENTER':
      return describeNxAction(a) ?? `experimenter(${hex(a.experimenter)},0x${Buffer.from(a.data).toString('hex')})`;
    case 'UNKNOWN': return `unknown_action(${a.actionType},0x${Buffer.from(a.body).toString('hex')})`;
  }
}

export function formatActions(actions: readonly Action[]): string {
  return actions.map(formatAction).join(',');
}

/** OVS prints instructions in its own fixed order, whatever the order on the wire. */
const INSTRUCTION_ORDER: readonly Instruction['type'][] = [
  'METER', 'APPLY_ACTIONS', 'CLEAR_ACTIONS', 'WRITE_ACTIONS', 'WRITE_METADATA', 'GOTO_TABLE', 'EXPERIMENTER', 'UNKNOWN',
];

function formatInstruction(ins: Instruction): string {
  switch (ins.type) {
    case 'METER': return `meter:${ins.meterId}`;
    case 'APPLY_ACTIONS': return formatActions(ins.actions);
    case 'CLEAR_ACTIONS': return 'clear_actions';
    case 'WRITE_ACTIONS': return `write_actions(${formatActions(ins.actions)})`;
    case 'WRITE_METADATA':
      return ins.mask === 0xffffffffffffffffn ? `write_metadata:${hex(ins.metadata)}` : `write_metadata:${hex(ins.metadata)}/${hex(ins.mask)}`;
    case 'GOTO_TABLE': return `goto_table:${ins.tableId}`;
    case 'EXPERIMENTER': return `experimenter_instruction(${hex(ins.experimenter)})`;
    case 'UNKNOWN': return `unknown_instruction(${ins.instructionType})`;
  }
}

/** The text after "actions=": "drop" when nothing is done. */
export function formatInstructions(instructions: readonly Instruction[]): string {
  const sorted = [...instructions].sort((a, b) => INSTRUCTION_ORDER.indexOf(a.type) - INSTRUCTION_ORDER.indexOf(b.type));
  const text = sorted.map(formatInstruction).filter((s) => s !== '').join(',');
  return text === '' ? 'drop' : text;
}

// ---- flow stats ----------------------------------------------------------------------------

/** ofp_print_duration: whole seconds, 3 decimals for whole milliseconds, else up to 9. */
export function formatDuration(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}s`;
  if (nsec % 1_000_000 === 0) return `${sec}.${String(nsec / 1_000_000).padStart(3, '0')}s`;
  return `${sec}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}s`;
}

const FLAG_NAMES: readonly [number, string][] = [
  [C.OFPFF_SEND_FLOW_REM, 'send_flow_rem'], [C.OFPFF_CHECK_OVERLAP, 'check_overlap'],
  [C.OFPFF_RESET_COUNTS, 'reset_counts'], [C.OFPFF_NO_PKT_COUNTS, 'no_packet_counts'],
  [C.OFPFF_NO_BYT_COUNTS, 'no_byte_counts'],
];

export interface FlowStatsFormatOptions {
  /** Include cookie, duration, table and counters, as dump-flows does without --no-stats. */
  readonly showStats?: boolean;
}

/** One line of `ovs-ofctl -O OpenFlow13 dump-flows` (without its leading space). */
export function formatFlowStats(fs: FlowStats, options: FlowStatsFormatOptions = {}): string {
  const stats = options.showStats ?? true;
  let s = '';
  if (stats || fs.cookie !== 0n) s += `cookie=${hex(fs.cookie)}, `;
  if (stats) s += `duration=${formatDuration(fs.durationSec, fs.durationNsec)}, `;
  if (stats || fs.tableId !== 0) s += `table=${fs.tableId}, `;
  if (stats) s += `n_packets=${fs.packetCount}, n_bytes=${fs.byteCount}, `;
  if (fs.idleTimeout !== 0) s += `idle_timeout=${fs.idleTimeout}, `;
  if (fs.hardTimeout !== 0) s += `hard_timeout=${fs.hardTimeout}, `;
  for (const [bit, name] of FLAG_NAMES) if (fs.flags & bit) s += `${name} `;
  const match = formatMatch(fs.match, fs.priority);
  if (match !== '') s += `${match} `;
  return `${s}actions=${formatInstructions(fs.instructions)}`;
}

const FLOW_MOD_COMMANDS = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'] as const;

/** A FLOW_MOD as `ovs-ofctl` would take it: "add-flow table=0, priority=100,... actions=..." (for debug logs). */
export function formatFlowMod(mod: FlowMod): string {
  const command = FLOW_MOD_COMMANDS[mod.command] ?? `command${mod.command}`;
  const line = formatFlowStats({
    tableId: mod.tableId, priority: mod.priority, match: mod.match, instructions: mod.instructions, cookie: mod.cookie,
    idleTimeout: mod.idleTimeout, hardTimeout: mod.hardTimeout, flags: mod.flags, durationSec: 0, durationNsec: 0, packetCount: 0n, byteCount: 0n,
  }, { showStats: false });
  return `${command} ${mod.tableId === 0 ? 'table=0, ' : ''}${line}`;
}
