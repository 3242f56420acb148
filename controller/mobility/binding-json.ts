// The JSON form of bindings and binding events, shared by every store (dpids as hex text, since
// JSON has no bigint). Parsing checks every field and names the first bad one.

import { isIpv4 } from '../packet/address.js';
import { isEndpointMac, MAX_BINDING_ID, type Binding, type BindingEvent } from './binding.js';

export interface BindingJson {
  id: number; eid: string; mac: string; homeSubnet: string;
  locator: { subnet: string; dpid: string; port: number; address: string };
  version: number; lastSeen: number; createdAt: number;
}

export interface ReleasedAddressJson {
  subnet: string; address: string; releasedAt: number;
}

export function bindingToJson(b: Binding): BindingJson {
  return {
    id: b.id, eid: b.eid, mac: b.mac, homeSubnet: b.homeSubnet,
    locator: { subnet: b.locator.subnet, dpid: b.locator.dpid.toString(16).padStart(16, '0'), port: b.locator.port, address: b.locator.address },
    version: b.version, lastSeen: b.lastSeen, createdAt: b.createdAt,
  };
}

/** Throws a TypeError naming the first bad field and its value. */
export function bindingFromJson(raw: unknown): Binding {
  const o = raw as Partial<BindingJson> | null;
  const check = (ok: boolean, field: string, value: unknown): void => {
    if (!ok) throw new TypeError(`bad binding: ${field} ${brief(value)}`);
  };
  check(o !== null && typeof o === 'object' && !Array.isArray(o), 'not an object:', raw);
  const v = o as BindingJson;
  check(Number.isSafeInteger(v.id) && v.id > 0 && v.id <= MAX_BINDING_ID, 'id', v.id);
  check(isIpv4(v.eid), 'eid', v.eid);
  check(isEndpointMac(v.mac), 'mac (not an endpoint MAC)', v.mac);
  check(isName(v.homeSubnet), 'homeSubnet', v.homeSubnet);
  const loc = v.locator as Partial<BindingJson['locator']> | null;
  check(loc !== null && typeof loc === 'object', 'locator', loc);
  check(isName(loc?.subnet), 'locator.subnet', loc?.subnet);
  check(typeof loc?.dpid === 'string' && /^[0-9a-f]{1,16}$/.test(loc.dpid), 'locator.dpid', loc?.dpid);
  check(Number.isInteger(loc?.port) && (loc?.port as number) >= 0 && (loc?.port as number) <= 0xffffffff, 'locator.port', loc?.port);
  check(isIpv4(loc?.address), 'locator.address', loc?.address);
  check(Number.isSafeInteger(v.version) && v.version >= 1, 'version', v.version);
  for (const k of ['lastSeen', 'createdAt'] as const) check(Number.isFinite(v[k]), k, v[k]);
  return {
    id: v.id, eid: v.eid, mac: v.mac.toLowerCase(), homeSubnet: v.homeSubnet,
    locator: { subnet: v.locator.subnet, dpid: BigInt('0x' + v.locator.dpid), port: v.locator.port, address: v.locator.address },
    version: v.version, lastSeen: v.lastSeen, createdAt: v.createdAt,
  };
}

export function releasedFromJson(raw: unknown): { subnet: string; address: string; releasedAt: number } {
  const x = raw as Partial<ReleasedAddressJson> | null;
  if (x === null || typeof x !== 'object' || !isName(x.subnet) || !isIpv4(x.address) || !Number.isFinite(x.releasedAt)) {
    throw new TypeError(`bad released address ${brief(raw)}`);
  }
  return { subnet: x.subnet, address: x.address, releasedAt: x.releasedAt as number };
}

/** A journal record: the event and its position in the journal. */
export function eventToJson(e: BindingEvent, seq: number): Record<string, unknown> {
  return {
    seq, type: e.type, at: e.at, binding: bindingToJson(e.binding),
    ...(e.type === 'BINDING_ADDED' ? {} : { previous: bindingToJson(e.previous) }),
  };
}

export function eventFromJson(raw: unknown): { seq: number; event: BindingEvent } {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || !Number.isSafeInteger(o.seq) || (o.seq as number) < 1) {
    throw new TypeError(`bad record: seq ${brief(o?.seq)}`);
  }
  if (!Number.isFinite(o.at)) throw new TypeError(`bad record: at ${brief(o.at)}`);
  const seq = o.seq as number;
  const at = o.at as number;
  const binding = bindingFromJson(o.binding);
  switch (o.type) {
    case 'BINDING_ADDED': return { seq, event: { type: 'BINDING_ADDED', binding, at } };
    case 'BINDING_MOVED': return { seq, event: { type: 'BINDING_MOVED', binding, previous: bindingFromJson(o.previous), at } };
    case 'BINDING_REMOVED': return { seq, event: { type: 'BINDING_REMOVED', binding, previous: bindingFromJson(o.previous), at } };
    default: throw new TypeError(`bad record: type ${brief(o.type)}`);
  }
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}

/** A value for an error message: JSON, cut short (records can be long, and this reaches logs). */
export function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
