// BindingStore: the one place bindings change. Mutations return the event they caused, or
// nothing when nothing changed; BindingService is the read-only view everyone else gets.

import { normalizeMac, type Ipv4, type Mac } from '../packet/address.js';
import { isIdentityMac, MAX_BINDING_ID, type Binding, type BindingEvent, type Locator } from './binding.js';

export interface BindingService {
  byEid(eid: Ipv4): Binding | undefined;
  byMac(mac: Mac): Binding | undefined;
  byId(id: number): Binding | undefined;
  /** The binding whose current locator address is `address` (its EID when at home). */
  byLocatorAddress(address: Ipv4): Binding | undefined;
  /** The bindings located at a switch port. */
  atAttachment(dpid: bigint, port: number): Binding[];
  /** The bindings located at any port of a switch (a switch that connects names its own, without a pass over all). */
  atSwitch(dpid: bigint): Binding[];
  list(): Binding[];
  readonly size: number;
}

export class BindingConflictError extends Error {
  override readonly name = 'BindingConflictError';
}

export interface NewBinding {
  readonly eid: Ipv4;
  readonly mac: Mac;
  readonly homeSubnet: string;
  readonly dpid: bigint;
  readonly port: number;
}

export class BindingStore implements BindingService {
  private readonly byEidMap = new Map<Ipv4, Binding>();
  private readonly eidByMac = new Map<Mac, Ipv4>();
  private readonly eidById = new Map<number, Ipv4>();
  private readonly eidByLocator = new Map<Ipv4, Ipv4>();
  private readonly eidsByAttachment = new Map<string, Set<Ipv4>>();
  private readonly eidsBySwitch = new Map<bigint, Set<Ipv4>>();
  private next: number;

  constructor(init: { readonly bindings?: readonly Binding[]; readonly nextId?: number } = {}) {
    const bindings = init.bindings ?? [];
    this.next = Math.max(init.nextId ?? 1, ...bindings.map((b) => b.id + 1));
    for (const b of bindings) {
      this.checkFree(b);
      this.index(b);
    }
  }

  /** The id the next added binding gets (persisted, so ids are never reused across restarts). */
  get nextId(): number {
    return this.next;
  }

  get size(): number {
    return this.byEidMap.size;
  }

  byEid(eid: Ipv4): Binding | undefined {
    return this.byEidMap.get(eid);
  }

  byMac(mac: Mac): Binding | undefined {
    const eid = this.eidByMac.get(mac.toLowerCase());
    return eid === undefined ? undefined : this.byEidMap.get(eid);
  }

  byId(id: number): Binding | undefined {
    const eid = this.eidById.get(id);
    return eid === undefined ? undefined : this.byEidMap.get(eid);
  }

  byLocatorAddress(address: Ipv4): Binding | undefined {
    const eid = this.eidByLocator.get(address);
    return eid === undefined ? undefined : this.byEidMap.get(eid);
  }

  atAttachment(dpid: bigint, port: number): Binding[] {
    return [...this.eidsByAttachment.get(attachmentKey(dpid, port)) ?? []].map((eid) => this.byEidMap.get(eid)!);
  }

  atSwitch(dpid: bigint): Binding[] {
    return [...this.eidsBySwitch.get(dpid) ?? []].map((eid) => this.byEidMap.get(eid)!);
  }

  list(): Binding[] {
    return [...this.byEidMap.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * A new binding at home (locator address = EID). Nothing if the EID is already bound.
   * Throws TypeError for a MAC that identifies no endpoint (all-zero, multicast, broadcast).
   */
  add(input: NewBinding, now: number): BindingEvent | undefined {
    return this.commit(this.proposeAdd(input, now));
  }

  /** Moves a binding to `to`; the version grows. Nothing if unknown or already there. */
  move(eid: Ipv4, to: Locator, now: number): BindingEvent | undefined {
    return this.commit(this.proposeMove(eid, to, now));
  }

  remove(eid: Ipv4, now: number): BindingEvent | undefined {
    return this.commit(this.proposeRemove(eid, now));
  }

  // The propose* methods say what add/move/remove would do, changing nothing: a shared store
  // commits the event first (compare-and-swap) and the registry applies it once it is a fact.

  proposeAdd(input: NewBinding, now: number): BindingEvent | undefined {
    if (!isIdentityMac(normalizeMac(input.mac))) throw new TypeError(`not an endpoint MAC: ${JSON.stringify(input.mac)}`);
    if (this.byEidMap.has(input.eid)) return undefined;
    if (this.next > MAX_BINDING_ID) throw new BindingConflictError(`binding ids exhausted (${MAX_BINDING_ID})`);
    const binding: Binding = {
      id: this.next,
      eid: input.eid,
      mac: normalizeMac(input.mac),
      homeSubnet: input.homeSubnet,
      locator: { subnet: input.homeSubnet, dpid: input.dpid, port: input.port, address: input.eid },
      version: 1,
      lastSeen: now,
      createdAt: now,
    };
    this.checkFree(binding);
    return { type: 'BINDING_ADDED', binding, at: now };
  }

  proposeMove(eid: Ipv4, to: Locator, now: number): BindingEvent | undefined {
    const previous = this.byEidMap.get(eid);
    if (previous === undefined || sameLocator(previous.locator, to)) return undefined;
    const holder = this.eidByLocator.get(to.address);
    if (holder !== undefined && holder !== eid) throw new BindingConflictError(`locator ${to.address} is held by ${holder}`);
    const binding: Binding = { ...previous, locator: { ...to }, version: previous.version + 1, lastSeen: now };
    return { type: 'BINDING_MOVED', binding, previous, at: now };
  }

  proposeRemove(eid: Ipv4, now: number): BindingEvent | undefined {
    const previous = this.byEidMap.get(eid);
    if (previous === undefined) return undefined;
    return { type: 'BINDING_REMOVED', binding: previous, previous, at: now };
  }

  /** Records activity; no event (too frequent to journal, and nothing downstream changes). */
  touch(eid: Ipv4, now: number): void {
    const b = this.byEidMap.get(eid);
    if (b !== undefined && now > b.lastSeen) this.byEidMap.set(eid, { ...b, lastSeen: now });
  }

  /**
   * Applies an event that is a fact already: journaled (restore) or committed by a shared store,
   * here or by another replica. Idempotent for events already reflected.
   */
  replay(event: BindingEvent): void {
    const b = event.binding;
    const current = this.byEidMap.get(b.eid);
    if (current !== undefined) this.unindex(current);
    if (event.type !== 'BINDING_REMOVED') this.index(b);
    this.next = Math.max(this.next, b.id + 1);
  }

  private commit(event: BindingEvent | undefined): BindingEvent | undefined {
    if (event !== undefined) this.replay(event);
    return event;
  }

  private checkFree(b: Binding): void {
    const macHolder = this.eidByMac.get(b.mac);
    if (macHolder !== undefined && macHolder !== b.eid) throw new BindingConflictError(`MAC ${b.mac} is bound to ${macHolder}`);
    const locHolder = this.eidByLocator.get(b.locator.address);
    if (locHolder !== undefined && locHolder !== b.eid) throw new BindingConflictError(`locator ${b.locator.address} is held by ${locHolder}`);
    if (this.eidById.has(b.id)) throw new BindingConflictError(`binding id ${b.id} is used twice`);
  }

  private index(b: Binding): void {
    this.byEidMap.set(b.eid, b);
    this.eidByMac.set(b.mac, b.eid);
    this.eidById.set(b.id, b.eid);
    this.eidByLocator.set(b.locator.address, b.eid);
    const key = attachmentKey(b.locator.dpid, b.locator.port);
    const set = this.eidsByAttachment.get(key) ?? new Set<Ipv4>();
    this.eidsByAttachment.set(key, set.add(b.eid));
    const onSwitch = this.eidsBySwitch.get(b.locator.dpid) ?? new Set<Ipv4>();
    this.eidsBySwitch.set(b.locator.dpid, onSwitch.add(b.eid));
  }

  private unindex(b: Binding): void {
    this.byEidMap.delete(b.eid);
    this.eidByMac.delete(b.mac);
    this.eidById.delete(b.id);
    this.eidByLocator.delete(b.locator.address);
    const key = attachmentKey(b.locator.dpid, b.locator.port);
    const set = this.eidsByAttachment.get(key);
    set?.delete(b.eid);
    if (set?.size === 0) this.eidsByAttachment.delete(key);
    const onSwitch = this.eidsBySwitch.get(b.locator.dpid);
    onSwitch?.delete(b.eid);
    if (onSwitch?.size === 0) this.eidsBySwitch.delete(b.locator.dpid);
  }
}

function attachmentKey(dpid: bigint, port: number): string {
  return `${dpid}:${port}`;
}

function sameLocator(a: Locator, b: Locator): boolean {
  return a.subnet === b.subnet && a.dpid === b.dpid && a.port === b.port && a.address === b.address;
}
