// The values of the shared store's keys (layout in store-keys.ts), as JSON. Bindings reuse the
// file store's form (binding-json.ts). Decoding checks every value against the key it was read
// from and throws StoreCorruptError naming that key: a replica never mirrors a value it cannot
// vouch for.

import type { Ipv4 } from '../packet/address.js';
import { isIpv4 } from '../packet/address.js';
import { formatDpid } from '../switch/dpid.js';
import {
  bindingFromJson, bindingToJson, brief, StoreCorruptError, type Binding, type MigrationIntent,
} from '../mobility/index.js';
import type { StateKey } from './store-keys.js';

/** A decoded key under state/: the key, what it names, and its value. */
export type StateEntry =
  | { readonly kind: 'binding'; readonly eid: Ipv4; readonly binding: Binding }
  | { readonly kind: 'locator'; readonly subnet: string; readonly address: Ipv4; readonly eid: Ipv4 }
  | { readonly kind: 'mac'; readonly mac: string; readonly eid: Ipv4 }
  | { readonly kind: 'released'; readonly subnet: string; readonly address: Ipv4; readonly releasedAt: number }
  | { readonly kind: 'intent'; readonly eid: Ipv4; readonly intent: MigrationIntent }
  | { readonly kind: 'next-id'; readonly nextBindingId: number };

export function encodeBinding(b: Binding): string {
  return JSON.stringify(bindingToJson(b));
}

export function encodeHolder(eid: Ipv4): string {
  return JSON.stringify({ eid });
}

export function encodeReleased(releasedAt: number): string {
  return JSON.stringify({ releasedAt });
}

export function encodeNextId(next: number): string {
  return String(next);
}

export function encodeIntent(i: MigrationIntent): string {
  return JSON.stringify({
    eid: i.eid, expiresAt: i.expiresAt, source: i.source ?? 'api', phase: i.phase ?? 'migrating',
    ...(i.toDpid === undefined ? {} : { toDpid: formatDpid(i.toDpid) }),
    ...(i.toPort === undefined ? {} : { toPort: i.toPort }),
    ...(i.toSubnet === undefined ? {} : { toSubnet: i.toSubnet }),
    ...(i.lossFree === true ? { lossFree: true } : {}),
    ...(i.stoppedAt === undefined ? {} : { stoppedAt: i.stoppedAt }),
  });
}

/**
 * The value of `key` (already parsed as `parsed`), checked. Intents are checked for shape only:
 * whether they name switches of this replica's config is MigrationIntents.register()'s to say.
 */
export function decodeEntry(key: string, parsed: StateKey, value: Buffer): StateEntry {
  const json = (): unknown => {
    try {
      return JSON.parse(value.toString('utf8'));
    } catch {
      throw new StoreCorruptError(key, `not JSON: ${brief(value.toString('utf8'))}`);
    }
  };
  try {
    switch (parsed.kind) {
      case 'binding': {
        const binding = bindingFromJson(json());
        if (binding.eid !== parsed.eid) throw new TypeError(`binding of ${binding.eid} under the key of ${parsed.eid}`);
        return { kind: 'binding', eid: parsed.eid, binding };
      }
      case 'locator': return { ...parsed, eid: holder(json()) };
      case 'mac': return { ...parsed, eid: holder(json()) };
      case 'released': {
        const v = json() as { releasedAt?: unknown } | null;
        if (v === null || typeof v !== 'object' || !Number.isFinite(v.releasedAt)) throw new TypeError(`bad released address ${brief(v)}`);
        return { ...parsed, releasedAt: v.releasedAt as number };
      }
      case 'intent': return { kind: 'intent', eid: parsed.eid, intent: intentShape(parsed.eid, json()) };
      case 'next-id': {
        const text = value.toString('utf8');
        const n = Number(text);
        if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(n)) throw new TypeError(`bad next binding id ${brief(text)}`);
        return { kind: 'next-id', nextBindingId: n };
      }
    }
  } catch (error) {
    if (error instanceof StoreCorruptError) throw error;
    throw new StoreCorruptError(key, (error as Error).message);
  }
}

function holder(raw: unknown): Ipv4 {
  const v = raw as { eid?: unknown } | null;
  if (v === null || typeof v !== 'object' || !isIpv4(v.eid)) throw new TypeError(`bad holder ${brief(raw)}`);
  return v.eid;
}

function intentShape(eid: Ipv4, raw: unknown): MigrationIntent {
  const v = raw as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object') throw new TypeError(`bad intent ${brief(raw)}`);
  if (v.eid !== eid) throw new TypeError(`intent of ${brief(v.eid)} under the key of ${eid}`);
  if (!Number.isFinite(v.expiresAt)) throw new TypeError(`bad intent: expiresAt ${brief(v.expiresAt)}`);
  if (v.source !== 'api' && v.source !== 'ovsdb') throw new TypeError(`bad intent: source ${brief(v.source)}`);
  if (v.toDpid !== undefined && (typeof v.toDpid !== 'string' || !/^[0-9a-f]{16}$/.test(v.toDpid))) throw new TypeError(`bad intent: toDpid ${brief(v.toDpid)}`);
  if (v.toPort !== undefined && (!Number.isInteger(v.toPort) || (v.toPort as number) < 1 || (v.toPort as number) > 0xffffff00)) throw new TypeError(`bad intent: toPort ${brief(v.toPort)}`);
  if (v.toSubnet !== undefined && (typeof v.toSubnet !== 'string' || v.toSubnet.length === 0 || v.toSubnet.length > 256)) throw new TypeError(`bad intent: toSubnet ${brief(v.toSubnet)}`);
  if (v.phase !== undefined && v.phase !== 'migrating' && v.phase !== 'stopping' && v.phase !== 'resumed') throw new TypeError(`bad intent: phase ${brief(v.phase)}`);
  if (v.lossFree !== undefined && typeof v.lossFree !== 'boolean') throw new TypeError(`bad intent: lossFree ${brief(v.lossFree)}`);
  if (v.stoppedAt !== undefined && !Number.isFinite(v.stoppedAt)) throw new TypeError(`bad intent: stoppedAt ${brief(v.stoppedAt)}`);
  return {
    eid, expiresAt: v.expiresAt as number, source: v.source, phase: v.phase ?? 'migrating',
    ...(v.toDpid === undefined ? {} : { toDpid: BigInt(`0x${v.toDpid as string}`) }),
    ...(v.toPort === undefined ? {} : { toPort: v.toPort as number }),
    ...(v.toSubnet === undefined ? {} : { toSubnet: v.toSubnet as string }),
    ...(v.lossFree === true ? { lossFree: true } : {}),
    ...(v.stoppedAt === undefined ? {} : { stoppedAt: v.stoppedAt as number }),
  };
}
