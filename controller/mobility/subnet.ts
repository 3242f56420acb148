// Managed subnets: prefix, gateway (the router interface), edge switches and the locator pool.
// `parseSubnets` validates the raw config array; every problem names the entry and the key.

import { intToIpv4, ipv4ToInt, isIpv4, isMac, normalizeMac, type Ipv4, type Mac } from '../packet/address.js';
import { formatDpid, parseDpid } from '../switch/dpid.js';
import {
  formatPrefix, parsePrefix, parseRange, prefixContains, prefixRange, rangeContains, rangesOverlap,
  type AddressRange, type Prefix,
} from './prefix.js';

export interface SubnetEdge {
  readonly dpid: bigint;
  /** The switch port that leads to the router; absent on an edge that reaches it through another edge. */
  readonly routerPort?: number;
  /** Ports to other switches (of this subnet): frames there come from elsewhere, nobody is attached. */
  readonly uplinkPorts?: readonly number[];
}

export interface Subnet {
  readonly name: string;
  readonly prefix: Prefix;
  readonly gateway: { readonly ip: Ipv4; readonly mac?: Mac };
  readonly edges: readonly SubnetEdge[];
  readonly locatorPool: AddressRange;
  /**
   * Stands in for the gateway address (the router's own address in this subnet) as a source when
   * the router talks to a moved VM: the home anchor hairpins such traffic back to the router,
   * which drops packets carrying its own address as source (accept_local=0, Linux's default), so
   * the home edge writes this alias instead and the VM's new edge writes the gateway address back.
   * Taken from the locator pool (its last address unless configured) and never handed out.
   */
  readonly gatewayAlias: Ipv4;
  /** Static endpoints: EIDs reserved for one MAC each, which nobody else can claim first. */
  readonly staticEndpoints: ReadonlyMap<Ipv4, Mac>;
}

export class SubnetConfigError extends Error {
  override readonly name = 'SubnetConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid subnets config:\n  ${problems.join('\n  ')}`);
  }
}

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Throws a SubnetConfigError listing every problem found. */
export function parseSubnets(raw: unknown): Subnet[] {
  if (!Array.isArray(raw)) throw new SubnetConfigError(['subnets: must be an array']);
  const problems: string[] = [];
  const subnets: Subnet[] = [];
  raw.forEach((entry, i) => {
    const label = `subnets[${i}]${isObject(entry) && typeof entry.name === 'string' ? ` (${entry.name})` : ''}`;
    const before = problems.length;
    const subnet = parseSubnet(entry, (key, msg) => problems.push(`${label}.${key}: ${msg}`));
    if (subnet !== undefined && problems.length === before) subnets.push(subnet);
  });
  checkAcrossSubnets(subnets, problems);
  if (problems.length > 0) throw new SubnetConfigError(problems);
  return subnets;
}

type Report = (key: string, message: string) => void;

function parseSubnet(entry: unknown, report: Report): Subnet | undefined {
  if (!isObject(entry)) { report('', 'must be an object'); return undefined; }
  const known = new Set(['name', 'prefix', 'gateway', 'edges', 'locatorPool', 'gatewayAlias', 'staticEndpoints']);
  for (const key of Object.keys(entry)) if (!known.has(key)) report(key, 'unknown key');
  const name = typeof entry.name === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(entry.name) ? entry.name : undefined;
  if (name === undefined) report('name', 'must be 1-64 letters, digits, _ . or -');
  const prefix = typeof entry.prefix === 'string' ? parsePrefix(entry.prefix) : 'must be a CIDR string like 10.0.1.0/24';
  if (typeof prefix === 'string') report('prefix', prefix);
  const okPrefix = typeof prefix === 'string' ? undefined : prefix;
  const gateway = parseGateway(entry.gateway, okPrefix, report);
  const edges = parseEdges(entry.edges, report);
  const pool = parsePool(entry.locatorPool, okPrefix, gateway?.ip, report);
  const alias = pool === undefined ? undefined : parseGatewayAlias(entry.gatewayAlias, pool, report);
  const statics = parseStaticEndpoints(entry.staticEndpoints, okPrefix, gateway?.ip, pool, report);
  if (name === undefined || okPrefix === undefined || gateway === undefined || edges === undefined || pool === undefined || alias === undefined || statics === undefined) return undefined;
  return { name, prefix: okPrefix, gateway, edges, locatorPool: pool, gatewayAlias: alias, staticEndpoints: statics };
}

/** [{ eid, mac }]: each EID in the prefix (not the gateway, not in the pool), each MAC an endpoint's, no repeats. */
function parseStaticEndpoints(raw: unknown, prefix: Prefix | undefined, gateway: Ipv4 | undefined, pool: AddressRange | undefined, report: Report): Map<Ipv4, Mac> | undefined {
  const out = new Map<Ipv4, Mac>();
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) { report('staticEndpoints', 'must be an array of { eid, mac }'); return undefined; }
  const macs = new Set<Mac>();
  let ok = true;
  raw.forEach((e, i) => {
    const key = `staticEndpoints[${i}]`;
    const fail = (msg: string) => { report(key, msg); ok = false; };
    if (!isObject(e) || Object.keys(e).some((k) => k !== 'eid' && k !== 'mac')) return fail('must be an object { eid, mac }');
    if (!isIpv4(e.eid) || (prefix !== undefined && !prefixContains(prefix, e.eid))) return fail('eid: must be an IPv4 address inside the prefix');
    if (e.eid === gateway || (pool !== undefined && rangeContains(pool, ipv4ToInt(e.eid)))) return fail('eid: is the gateway or a locator-pool address');
    if (!isMac(e.mac)) return fail('mac: must be a MAC address');
    const mac = normalizeMac(e.mac);
    if ((parseInt(mac.slice(0, 2), 16) & 1) === 1 || mac === '00:00:00:00:00:00') return fail('mac: multicast, broadcast and all-zero MACs identify no endpoint');
    if (out.has(e.eid) || macs.has(mac)) return fail('eid or mac listed twice');
    out.set(e.eid, mac);
    macs.add(mac);
  });
  return ok ? out : undefined;
}

/** Configured inside the pool, or the pool's last address; the pool must keep at least one other. */
function parseGatewayAlias(raw: unknown, pool: AddressRange, report: Report): Ipv4 | undefined {
  if (pool.last === pool.first) { report('locatorPool', 'must hold at least two addresses (one is the gateway alias)'); return undefined; }
  if (raw === undefined) return intToIpv4(pool.last);
  if (!isIpv4(raw) || !rangeContains(pool, ipv4ToInt(raw))) { report('gatewayAlias', 'must be an IPv4 address inside the locator pool'); return undefined; }
  return raw;
}

function parseGateway(raw: unknown, prefix: Prefix | undefined, report: Report): Subnet['gateway'] | undefined {
  if (!isObject(raw)) { report('gateway', 'must be an object { ip, mac? }'); return undefined; }
  if (!isIpv4(raw.ip)) { report('gateway.ip', 'must be an IPv4 address'); return undefined; }
  if (prefix !== undefined && !prefixContains(prefix, raw.ip)) { report('gateway.ip', `${raw.ip} is outside ${formatPrefix(prefix)}`); return undefined; }
  if (raw.mac === undefined) return { ip: raw.ip };
  if (!isMac(raw.mac)) { report('gateway.mac', 'must be a MAC address like 02:00:00:00:01:01'); return undefined; }
  return { ip: raw.ip, mac: normalizeMac(raw.mac) };
}

function parseEdges(raw: unknown, report: Report): SubnetEdge[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) { report('edges', 'must be a non-empty array'); return undefined; }
  const edges: SubnetEdge[] = [];
  raw.forEach((edge, j) => {
    const key = `edges[${j}]`;
    if (!isObject(edge)) { report(key, 'must be an object { dpid, routerPort? }'); return; }
    const dpid = toDpid(edge.dpid);
    if (dpid === undefined) { report(`${key}.dpid`, 'must be a datapath id (16 hex digits or a non-negative integer)'); return; }
    if (edges.some((e) => e.dpid === dpid)) { report(`${key}.dpid`, `duplicate dpid ${formatDpid(dpid)}`); return; }
    const port = edge.routerPort;
    if (port !== undefined && !isPortNumber(port)) { report(`${key}.routerPort`, 'must be a switch port number (1..0xffffff00)'); return; }
    const uplinks = edge.uplinkPorts;
    if (uplinks !== undefined && !(Array.isArray(uplinks) && uplinks.every(isPortNumber))) { report(`${key}.uplinkPorts`, 'must be an array of switch port numbers'); return; }
    if (port !== undefined && (uplinks ?? []).includes(port)) { report(`${key}.uplinkPorts`, `contains the router port ${port}`); return; }
    for (const k of Object.keys(edge)) if (!['dpid', 'routerPort', 'uplinkPorts'].includes(k)) { report(`${key}.${k}`, 'unknown key'); return; }
    edges.push({ dpid, ...(port === undefined ? {} : { routerPort: port as number }), ...(uplinks === undefined ? {} : { uplinkPorts: uplinks as number[] }) });
  });
  return edges.length === raw.length ? edges : undefined;
}

function isPortNumber(p: unknown): boolean {
  return Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 0xffffff00;
}

function toDpid(raw: unknown): bigint | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? BigInt(raw) : undefined;
  if (typeof raw !== 'string') return undefined;
  try { return parseDpid(raw); } catch { return undefined; }
}

function parsePool(raw: unknown, prefix: Prefix | undefined, gateway: Ipv4 | undefined, report: Report): AddressRange | undefined {
  if (typeof raw !== 'string') { report('locatorPool', "must be a range 'a.b.c.d-a.b.c.e' or a CIDR prefix"); return undefined; }
  const range = parseRange(raw);
  if (typeof range === 'string') { report('locatorPool', range); return undefined; }
  if (prefix !== undefined) {
    const p = prefixRange(prefix);
    if (range.first < p.first || range.last > p.last) { report('locatorPool', `${raw} is not inside ${formatPrefix(prefix)}`); return undefined; }
  }
  if (gateway !== undefined && rangeContains(range, ipv4ToInt(gateway))) { report('locatorPool', `${raw} contains the gateway ${gateway}`); return undefined; }
  return range;
}

function checkAcrossSubnets(subnets: readonly Subnet[], problems: string[]): void {
  subnets.forEach((a, i) => {
    for (const b of subnets.slice(i + 1)) {
      if (a.name === b.name) problems.push(`subnets (${b.name}).name: duplicate name`);
      if (rangesOverlap(prefixRange(a.prefix), prefixRange(b.prefix))) {
        problems.push(`subnets (${b.name}).prefix: ${formatPrefix(b.prefix)} overlaps ${a.name}'s ${formatPrefix(a.prefix)}`);
      }
      for (const edge of b.edges) {
        if (a.edges.some((e) => e.dpid === edge.dpid)) problems.push(`subnets (${b.name}).edges: dpid ${formatDpid(edge.dpid)} is already an edge of ${a.name}`);
      }
    }
  });
}

/** Lookups over the validated subnets: by name, by edge dpid, by address. */
export class SubnetMap {
  private readonly byName = new Map<string, Subnet>();
  private readonly byDpid = new Map<bigint, { subnet: Subnet; edge: SubnetEdge }>();

  constructor(readonly subnets: readonly Subnet[]) {
    for (const s of subnets) {
      this.byName.set(s.name, s);
      for (const edge of s.edges) this.byDpid.set(edge.dpid, { subnet: s, edge });
    }
  }

  get(name: string): Subnet | undefined {
    return this.byName.get(name);
  }

  /** The subnet a switch is an edge of; undefined for an unmanaged switch. */
  ofDpid(dpid: bigint): Subnet | undefined {
    return this.byDpid.get(dpid)?.subnet;
  }

  edge(dpid: bigint): SubnetEdge | undefined {
    return this.byDpid.get(dpid)?.edge;
  }

  /** The subnet whose prefix holds `ip`. */
  ofAddress(ip: Ipv4): Subnet | undefined {
    return this.subnets.find((s) => prefixContains(s.prefix, ip));
  }

  /** Is `ip` inside some subnet's locator pool? (Such an address is never an endpoint's EID.) */
  poolOf(ip: Ipv4): Subnet | undefined {
    const value = ipv4ToInt(ip);
    return this.subnets.find((s) => rangeContains(s.locatorPool, value));
  }
}
