// The JSON form of bindings and binding events, shared by every store (dpids as hex text, since
// JSON has no bigint). Parsing checks every field and names the first bad one.

import { isIpv4, isMac } from '../packet/address.js';
import { isIdentityMac, MAX_BINDING_ID, type Binding, type BindingEvent } from './binding.js';

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
  // Runs once per stored binding on every start: plain checks, no closures.
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('not an object:', raw);
  const v = raw as BindingJson;
  if (!Number.isSafeInteger(v.id) || v.id <= 0 || v.id > MAX_BINDING_ID) throw bad('id', v.id);
  if (!isIpv4(v.eid)) throw bad('eid', v.eid);
  if (!isMac(v.mac) || !isIdentityMac(v.mac)) throw bad('mac (not an endpoint MAC)', v.mac);
  if (!isName(v.homeSubnet)) throw bad('homeSubnet', v.homeSubnet);
  const loc = v.locator as Partial<BindingJson['locator']> | null;
  if (loc === null || typeof loc !== 'object') throw bad('locator', loc);
  if (!isName(loc.subnet)) throw bad('locator.subnet', loc.subnet);
  if (typeof loc.dpid !== 'string' || !DPID_HEX.test(loc.dpid)) throw bad('locator.dpid', loc.dpid);
  if (!Number.isInteger(loc.port) || (loc.port as number) < 0 || (loc.port as number) > 0xffffffff) throw bad('locator.port', loc.port);
  if (!isIpv4(loc.address)) throw bad('locator.address', loc.address);
  if (!Number.isSafeInteger(v.version) || v.version < 1) throw bad('version', v.version);
  if (!Number.isFinite(v.lastSeen)) throw bad('lastSeen', v.lastSeen);
  if (!Number.isFinite(v.createdAt)) throw bad('createdAt', v.createdAt);
  return {
    id: v.id, eid: v.eid, mac: v.mac.toLowerCase(), homeSubnet: v.homeSubnet,
    locator: { subnet: loc.subnet, dpid: BigInt('0x' + loc.dpid), port: loc.port as number, address: loc.address },
    version: v.version, lastSeen: v.lastSeen, createdAt: v.createdAt,
  };
}

const DPID_HEX = /^[0-9a-f]{1,16}$/;

function bad(field: string, value: unknown): TypeError {
  return new TypeError(`bad binding: ${field} ${brief(value)}`);
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
