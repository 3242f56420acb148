// Durable binding state behind an interface: the journal of binding events plus snapshots.
// The pool state is part of it (released addresses and when), derived from the events:
// a move or removal away from home releases the previous locator address at the event's time.

import { isIpv4, isMac, type Ipv4 } from '../packet/address.js';
import { isAway, type Binding, type BindingEvent } from './binding.js';

export interface ReleasedAddress {
  readonly subnet: string;
  readonly address: Ipv4;
  readonly releasedAt: number;
}

export interface PersistedState {
  readonly nextBindingId: number;
  readonly bindings: readonly Binding[];
  readonly released: readonly ReleasedAddress[];
}

export const EMPTY_STATE: PersistedState = { nextBindingId: 1, bindings: [], released: [] };

export interface BindingRepository {
  /** The state as of the last durable event. */
  load(): Promise<PersistedState>;
  /** Queues an event; durable after the next flush(). */
  append(event: BindingEvent): void;
  flush(): Promise<void>;
  /** Replaces everything appended so far by `state` (which must include those events). */
  compact(state: PersistedState): Promise<void>;
  /** The journal has grown enough that a compaction would pay off. */
  needsCompaction(): boolean;
  /** Waits for queued writes and releases files. */
  close(): Promise<void>;
}

/** Folds events into a state: how a journal is replayed on top of a snapshot. */
export function applyEvents(state: PersistedState, events: Iterable<BindingEvent>): PersistedState {
  const bindings = new Map(state.bindings.map((b) => [b.eid, b]));
  const released = new Map(state.released.map((r) => [`${r.subnet}/${r.address}`, r]));
  let nextBindingId = state.nextBindingId;
  for (const e of events) {
    const before = e.type === 'BINDING_ADDED' ? undefined : e.previous;
    const after = e.type === 'BINDING_REMOVED' ? undefined : e.binding;
    if (before !== undefined && isAway(before) && before.locator.address !== after?.locator.address) {
      const { subnet, address } = before.locator;
      released.set(`${subnet}/${address}`, { subnet, address, releasedAt: e.at });
    }
    if (after === undefined) bindings.delete(e.binding.eid);
    else {
      bindings.set(after.eid, after);
      released.delete(`${after.locator.subnet}/${after.locator.address}`);
    }
    nextBindingId = Math.max(nextBindingId, e.binding.id + 1);
  }
  return { nextBindingId, bindings: [...bindings.values()].sort((a, b) => a.id - b.id), released: [...released.values()] };
}

/** Keeps everything in memory: for tests, and for running without a state dir. */
export class MemoryBindingRepository implements BindingRepository {
  private state: PersistedState;
  private pending: BindingEvent[] = [];
  readonly journal: BindingEvent[] = [];
  flushes = 0;

  constructor(initial: PersistedState = EMPTY_STATE) {
    this.state = initial;
  }

  async load(): Promise<PersistedState> {
    return applyEvents(this.state, this.journal);
  }

  append(event: BindingEvent): void {
    this.pending.push(event);
  }

  async flush(): Promise<void> {
    this.journal.push(...this.pending);
    this.pending = [];
    this.flushes++;
  }

  async compact(state: PersistedState): Promise<void> {
    this.state = state;
    this.journal.length = 0;
    this.pending = [];
  }

  needsCompaction(): boolean {
    return this.journal.length > 1000;
  }

  async close(): Promise<void> {}
}

// ---- JSON form (dpids as hex text, since JSON has no bigint) ------------------------------------

export interface BindingJson {
  id: number; eid: string; mac: string; homeSubnet: string;
  locator: { subnet: string; dpid: string; port: number; address: string };
  version: number; lastSeen: number; createdAt: number;
}

export function bindingToJson(b: Binding): BindingJson {
  return {
    id: b.id, eid: b.eid, mac: b.mac, homeSubnet: b.homeSubnet,
    locator: { subnet: b.locator.subnet, dpid: b.locator.dpid.toString(16).padStart(16, '0'), port: b.locator.port, address: b.locator.address },
    version: b.version, lastSeen: b.lastSeen, createdAt: b.createdAt,
  };
}

/** Throws a TypeError naming the first bad field. */
export function bindingFromJson(raw: unknown): Binding {
  const o = raw as Partial<BindingJson> | null;
  const loc = o?.locator as Partial<BindingJson['locator']> | undefined;
  const check = (ok: boolean, what: string): void => { if (!ok) throw new TypeError(`bad binding record: ${what} in ${JSON.stringify(raw)}`); };
  check(o !== null && typeof o === 'object', 'not an object');
  check(Number.isSafeInteger(o?.id) && (o?.id as number) > 0, 'id');
  check(isIpv4(o?.eid), 'eid');
  check(isMac(o?.mac), 'mac');
  check(typeof o?.homeSubnet === 'string', 'homeSubnet');
  check(loc !== null && typeof loc === 'object', 'locator');
  check(typeof loc?.subnet === 'string', 'locator.subnet');
  check(typeof loc?.dpid === 'string' && /^[0-9a-f]{1,16}$/.test(loc.dpid), 'locator.dpid');
  check(Number.isInteger(loc?.port), 'locator.port');
  check(isIpv4(loc?.address), 'locator.address');
  for (const k of ['version', 'lastSeen', 'createdAt'] as const) check(Number.isFinite(o?.[k]), k);
  const v = o as BindingJson;
  return {
    id: v.id, eid: v.eid, mac: v.mac.toLowerCase(), homeSubnet: v.homeSubnet,
    locator: { subnet: v.locator.subnet, dpid: BigInt('0x' + v.locator.dpid), port: v.locator.port, address: v.locator.address },
    version: v.version, lastSeen: v.lastSeen, createdAt: v.createdAt,
  };
}

export function eventToJson(e: BindingEvent, seq: number): Record<string, unknown> {
  return {
    seq, type: e.type, at: e.at, binding: bindingToJson(e.binding),
    ...(e.type === 'BINDING_ADDED' ? {} : { previous: bindingToJson(e.previous) }),
  };
}

export function eventFromJson(raw: unknown): { seq: number; event: BindingEvent } {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || !Number.isSafeInteger(o.seq) || !Number.isFinite(o.at)) {
    throw new TypeError(`bad journal record: ${JSON.stringify(raw)}`);
  }
  const seq = o.seq as number;
  const at = o.at as number;
  const binding = bindingFromJson(o.binding);
  switch (o.type) {
    case 'BINDING_ADDED': return { seq, event: { type: 'BINDING_ADDED', binding, at } };
    case 'BINDING_MOVED': return { seq, event: { type: 'BINDING_MOVED', binding, previous: bindingFromJson(o.previous), at } };
    case 'BINDING_REMOVED': return { seq, event: { type: 'BINDING_REMOVED', binding, previous: bindingFromJson(o.previous), at } };
    default: throw new TypeError(`bad journal record type: ${JSON.stringify(o.type)}`);
  }
}

export function stateToJson(state: PersistedState, lastSeq: number): Record<string, unknown> {
  return {
    format: 'seamless-bindings', version: 1, lastSeq,
    nextBindingId: state.nextBindingId,
    bindings: state.bindings.map(bindingToJson),
    released: state.released.map((r) => ({ ...r })),
  };
}

export function stateFromJson(raw: unknown): { state: PersistedState; lastSeq: number } {
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || o.format !== 'seamless-bindings' || o.version !== 1) {
    throw new TypeError('not a seamless-bindings v1 snapshot');
  }
  if (!Number.isSafeInteger(o.lastSeq) || !Number.isSafeInteger(o.nextBindingId) || !Array.isArray(o.bindings) || !Array.isArray(o.released)) {
    throw new TypeError('snapshot is missing lastSeq, nextBindingId, bindings or released');
  }
  const released = o.released.map((r: unknown) => {
    const x = r as Partial<ReleasedAddress> | null;
    if (x === null || typeof x !== 'object' || typeof x.subnet !== 'string' || !isIpv4(x.address) || !Number.isFinite(x.releasedAt)) {
      throw new TypeError(`bad released address in snapshot: ${JSON.stringify(r)}`);
    }
    return { subnet: x.subnet, address: x.address, releasedAt: x.releasedAt as number };
  });
  return {
    lastSeq: o.lastSeq as number,
    state: { nextBindingId: o.nextBindingId as number, bindings: o.bindings.map(bindingFromJson), released },
  };
}
