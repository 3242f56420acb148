// Pure views: domain state in, the JSON the API serves out. No I/O; bigints become text
// (datapath ids as 16 hex digits, cookies as 0x...) or numbers (counters), so that every
// response is plain JSON.

import type { Binding, Locator, MigrationIntent, Subnet } from '../mobility/index.js';
import { formatPrefix, isAway } from '../mobility/index.js';
import { intToIpv4 } from '../packet/address.js';
import { OFPP_LOCAL, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from '../openflow/constants.js';
import { formatFlowStats, formatInstructions, formatMatch } from '../openflow/ofctl-format.js';
import type { Desc, FlowStats, Port, PortStatus, TableStats } from '../openflow/types.js';
import { classifyCookie } from '../pipeline/cookie.js';
import { tableDecl } from '../pipeline/tables.js';
import { formatDpid } from '../switch/dpid.js';
import type { MigrationRecord } from '../fabric/migration-log.js';
import type { ClusterView, EtcdHealthView } from '../cluster/index.js';

export interface LocatorView {
  readonly subnet: string;
  readonly dpid: string;
  readonly port: number;
  readonly address: string;
}

export function locatorView(l: Locator): LocatorView {
  return { subnet: l.subnet, dpid: formatDpid(l.dpid), port: l.port, address: l.address };
}

// ---- switches ---------------------------------------------------------------------------------

export interface PortView {
  readonly portNo: number;
  readonly name: string;
  readonly hwAddr: string;
  /** Link up and not administratively down. */
  readonly up: boolean;
  readonly linkDown: boolean;
  readonly adminDown: boolean;
  readonly currSpeedKbps: number;
}

export function portView(p: Port): PortView {
  const linkDown = (p.state & OFPPS_LINK_DOWN) !== 0;
  const adminDown = (p.config & OFPPC_PORT_DOWN) !== 0;
  return { portNo: p.portNo, name: p.name, hwAddr: p.hwAddr, up: !linkDown && !adminDown, linkDown, adminDown, currSpeedKbps: p.currSpeed };
}

/** What a view of a switch needs from a connection (SwitchConnection satisfies it). */
export interface SwitchLike {
  readonly dpid: bigint;
  readonly remote: string;
  readonly state: string;
  readonly ports: ReadonlyMap<number, Port>;
  readonly desc: Desc | undefined;
  readonly features: { readonly nTables: number } | undefined;
}

export interface SwitchPlace {
  /** The subnet this switch is an edge of, if any. */
  readonly subnet: string | null;
  /** The port leading to the router (configured or learned). */
  readonly routerPort: number | null;
  readonly uplinkPorts: readonly number[];
}

export interface SwitchView extends SwitchPlace {
  readonly dpid: string;
  /** The Open vSwitch bridge name (see bridgeName), or null when the switch does not tell. */
  readonly bridge: string | null;
  readonly remote: string;
  readonly state: string;
  readonly tables: number | null;
  readonly desc: { readonly manufacturer: string; readonly hardware: string; readonly software: string; readonly datapath: string } | null;
  readonly ports: readonly PortView[];
}

export function switchView(sw: SwitchLike, place: SwitchPlace): SwitchView {
  const d = sw.desc;
  return {
    dpid: formatDpid(sw.dpid),
    bridge: bridgeName(sw),
    remote: sw.remote,
    state: sw.state,
    tables: sw.features?.nTables ?? null,
    desc: d === undefined ? null : { manufacturer: d.mfrDesc, hardware: d.hwDesc, software: d.swDesc, datapath: d.dpDesc },
    ...place,
    ports: [...sw.ports.values()].sort((a, b) => a.portNo - b.portNo).map(portView),
  };
}

/**
 * The name an operator types into ovs-vsctl and ovs-ofctl. Open vSwitch names a bridge's LOCAL
 * port after the bridge, always; DESC's dp_desc is free text (`other_config:dp-desc`, which
 * Mininet sets to the switch name; "None" when unset), so it is only the fallback.
 */
export function bridgeName(sw: Pick<SwitchLike, 'ports' | 'desc'>): string | null {
  const local = sw.ports.get(OFPP_LOCAL)?.name;
  if (local !== undefined && local !== '') return local;
  const described = sw.desc?.dpDesc.trim();
  return described === undefined || described === '' || described === 'None' ? null : described;
}

/** PORT_STATUS reasons by name. */
export type PortChange = 'add' | 'delete' | 'modify';
const PORT_CHANGES: readonly PortChange[] = ['add', 'delete', 'modify'];

export function portChange(status: Pick<PortStatus, 'reason'>): PortChange {
  return PORT_CHANGES[status.reason] ?? 'modify';
}

// ---- flows ------------------------------------------------------------------------------------

export type FlowKind = 'binding' | 'base' | 'learner' | 'foreign';

export interface FlowView {
  readonly table: number;
  readonly priority: number;
  readonly cookie: string;
  readonly kind: FlowKind;
  /** The EID of the binding that owns the rule (kind 'binding'), else null. */
  readonly binding: string | null;
  readonly match: string;
  readonly instructions: string;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly packets: number;
  readonly bytes: number;
  readonly durationSec: number;
  /** The line `ovs-ofctl -O OpenFlow13 dump-flows` prints for this rule. */
  readonly text: string;
  /** The same without duration and counters, as `ovs-ofctl --no-stats dump-flows` prints it: it changes only when the rule does. */
  readonly rule: string;
}

/** `eidOf` names the binding behind a binding cookie (by binding id). */
export function flowView(fs: FlowStats, eidOf: (bindingId: number) => string | undefined): FlowView {
  const c = classifyCookie(fs.cookie);
  return {
    table: fs.tableId,
    priority: fs.priority,
    cookie: `0x${fs.cookie.toString(16)}`,
    kind: c.kind,
    binding: c.kind === 'binding' ? eidOf(c.bindingId) ?? null : null,
    match: formatMatch(fs.match, fs.priority),
    instructions: formatInstructions(fs.instructions),
    idleTimeout: fs.idleTimeout,
    hardTimeout: fs.hardTimeout,
    packets: Number(fs.packetCount),
    bytes: Number(fs.byteCount),
    durationSec: fs.durationSec + fs.durationNsec / 1e9,
    text: formatFlowStats(fs),
    rule: formatFlowStats(fs, { showStats: false }),
  };
}

/** Table by table, then highest priority first: the order a reader follows a packet. */
export function flowViews(flows: readonly FlowStats[], eidOf: (bindingId: number) => string | undefined): FlowView[] {
  return flows.map((f) => flowView(f, eidOf)).sort((a, b) => a.table - b.table || b.priority - a.priority || a.text.localeCompare(b.text));
}

export interface TableView {
  readonly table: number;
  /** The pipeline's name and purpose of the table (null for a table the pipeline does not declare). */
  readonly name: string | null;
  readonly purpose: string | null;
  readonly active: number;
  readonly lookups: number;
  readonly matched: number;
}

export function tableViews(tables: readonly TableStats[], { all = false } = {}): TableView[] {
  return tables
    .filter((t) => all || t.activeCount > 0 || t.lookupCount > 0n)
    .map((t) => {
      const decl = tableDecl(t.tableId);
      return { table: t.tableId, name: decl?.name ?? null, purpose: decl?.purpose ?? null, active: t.activeCount, lookups: Number(t.lookupCount), matched: Number(t.matchedCount) };
    });
}

// ---- bindings, subnets, migrations, intents ---------------------------------------------------

export interface BindingView {
  readonly id: number;
  readonly eid: string;
  readonly mac: string;
  readonly homeSubnet: string;
  readonly locator: LocatorView;
  readonly version: number;
  readonly lastSeen: number;
  readonly createdAt: number;
  /** Bound outside its home subnet: its traffic is being rewritten. */
  readonly away: boolean;
  /** Its port went down or away with no move to follow: since when (epoch ms) it is looked for; null when it is where its binding says. */
  readonly lostSince: number | null;
}

/** `lostSince`: what the runtime knows of the binding's loss (the fabric's lostSince); none for an event's binding (a binding that just moved or went is not lost). */
export function bindingView(b: Binding, lostSince: (b: Binding) => number | undefined = () => undefined): BindingView {
  return {
    id: b.id, eid: b.eid, mac: b.mac, homeSubnet: b.homeSubnet, locator: locatorView(b.locator),
    version: b.version, lastSeen: b.lastSeen, createdAt: b.createdAt, away: isAway(b), lostSince: lostSince(b) ?? null,
  };
}

export function bindingViews(bindings: readonly Binding[], lostSince?: (b: Binding) => number | undefined): BindingView[] {
  return bindings.map((b) => bindingView(b, lostSince)).sort((a, b) => compareIp(a.eid, b.eid));
}

export interface PoolUsage {
  readonly size: number;
  readonly used: number;
  readonly available: number;
}

export interface EdgeView {
  readonly dpid: string;
  readonly routerPort: number | null;
  readonly uplinkPorts: readonly number[];
  readonly connected: boolean;
}

export interface SubnetView {
  readonly name: string;
  readonly prefix: string;
  readonly gateway: { readonly ip: string; readonly mac: string | null };
  readonly edges: readonly EdgeView[];
  readonly pool: { readonly range: string } & PoolUsage;
}

export interface SubnetFacts {
  readonly gatewayMac: string | undefined;
  readonly routerPort: (dpid: bigint) => number | undefined;
  readonly connected: (dpid: bigint) => boolean;
  readonly pool: PoolUsage;
}

export function subnetView(s: Subnet, facts: SubnetFacts): SubnetView {
  return {
    name: s.name,
    prefix: formatPrefix(s.prefix),
    gateway: { ip: s.gateway.ip, mac: s.gateway.mac ?? facts.gatewayMac ?? null },
    edges: s.edges.map((e) => ({
      dpid: formatDpid(e.dpid), routerPort: facts.routerPort(e.dpid) ?? null, uplinkPorts: e.uplinkPorts ?? [], connected: facts.connected(e.dpid),
    })),
    pool: { range: `${intToIpv4(s.locatorPool.first)}-${intToIpv4(s.locatorPool.last)}`, ...facts.pool },
  };
}

/** A migration record with JSON-friendly locators (dpids as text). */
export type MigrationView = Omit<MigrationRecord, 'from' | 'to' | 'failures'> & {
  readonly from: LocatorView;
  readonly to: LocatorView;
  readonly failures: readonly string[];
};

export function migrationView(m: MigrationRecord): MigrationView {
  return { ...m, from: locatorView(m.from), to: locatorView(m.to), failures: [...m.failures] };
}

export interface IntentView {
  readonly eid: string;
  readonly toDpid: string | null;
  readonly toPort: number | null;
  readonly toSubnet: string | null;
  readonly expiresAt: number;
  readonly phase: 'migrating' | 'stopping' | 'resumed';
  readonly source: 'api' | 'ovsdb';
  readonly lossFree: boolean;
  readonly stoppedAt: number | null;
}

export function intentView(i: MigrationIntent): IntentView {
  return {
    eid: i.eid, toDpid: i.toDpid === undefined ? null : formatDpid(i.toDpid), toPort: i.toPort ?? null, toSubnet: i.toSubnet ?? null,
    expiresAt: i.expiresAt, phase: i.phase ?? 'migrating', source: i.source ?? 'api', lossFree: i.lossFree ?? false, stoppedAt: i.stoppedAt ?? null,
  };
}

function compareIp(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

export interface ClusterApiView {
  readonly mode: 'single' | 'cluster';
  readonly replica: string | null;
  readonly replicas: readonly string[];
  /** Every switch connected here or with a master in etcd, and who masters it (null: nobody now; in single mode this process). */
  readonly switches: ReadonlyArray<{ readonly dpid: string; readonly master: string | null; readonly connected: boolean; readonly writable: boolean }>;
  readonly mastered: readonly string[];
  readonly lease: { readonly id: string | null; readonly alive: boolean; readonly ttlMs: number } | null;
  readonly feed: { readonly connected: boolean; readonly error: string | null } | null;
  readonly liveness: { readonly address: string; readonly verified: readonly string[] } | null;
  readonly etcd: EtcdHealthView | null;
}

/**
 * One process writes every switch connected to it; a replica writes those it masters (its
 * lease alive), and knows who masters the others.
 */
export function clusterView(connected: readonly string[], cluster?: { view: ClusterView; etcd: EtcdHealthView }): ClusterApiView {
  if (cluster === undefined) {
    const all = [...connected].sort();
    return {
      mode: 'single', replica: null, replicas: [], switches: all.map((dpid) => ({ dpid, master: null, connected: true, writable: true })),
      mastered: all, lease: null, feed: null, liveness: null, etcd: null,
    };
  }
  const { view, etcd } = cluster;
  const here = new Set(connected);
  const writes = new Set(view.mastered);
  const dpids = [...new Set([...connected, ...Object.keys(view.masters)])].sort();
  return {
    mode: 'cluster', replica: view.replica, replicas: view.replicas,
    switches: dpids.map((dpid) => ({ dpid, master: view.masters[dpid] ?? null, connected: here.has(dpid), writable: writes.has(dpid) })),
    mastered: [...view.mastered].sort(),
    lease: { id: view.lease.id, alive: view.leaseAlive, ttlMs: view.lease.ttlMs },
    feed: { connected: view.feed.connected, error: view.feed.error ?? null },
    liveness: view.liveness === undefined ? null : { address: view.liveness.address, verified: [...view.liveness.verified] },
    etcd,
  };
}
