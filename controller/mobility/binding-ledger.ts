// BindingLedger: persisted binding state folded from a snapshot and events, refusing anything a
// BindingStore could never have produced. A store that loads through it cannot come back with
// two bindings for one EID, MAC, id or locator address, nor with an event that does not follow
// from the state before it (a move whose `previous` is not the current binding, an id reused).

import type { Ipv4, Mac } from '../packet/address.js';
import { isAway, type Binding, type BindingEvent, type Locator } from './binding.js';
import type { PersistedState, ReleasedAddress } from './repository.js';

/** The state and the event (or binding) in it do not fit together; the message says how. */
export class BindingStateError extends Error {
  override readonly name = 'BindingStateError';
}

export class BindingLedger {
  private readonly byEid = new Map<Ipv4, Binding>();
  private readonly eidByMac = new Map<Mac, Ipv4>();
  private readonly eidById = new Map<number, Ipv4>();
  private readonly eidByLocator = new Map<Ipv4, Ipv4>();
  private readonly released = new Map<string, ReleasedAddress>();

  constructor(private nextBindingId = 1) {
    if (!Number.isSafeInteger(nextBindingId) || nextBindingId < 1) throw new BindingStateError(`nextBindingId ${nextBindingId} is not a positive integer`);
  }

  /** Checks a whole state; throws BindingStateError at its first inconsistency. */
  static of(state: PersistedState): BindingLedger {
    const ledger = new BindingLedger(state.nextBindingId);
    for (const b of state.bindings) ledger.addBinding(b);
    for (const r of state.released) ledger.addReleased(r);
    return ledger;
  }

  get size(): number {
    return this.byEid.size;
  }

  /** A binding of a snapshot: unique in every key, with an id below nextBindingId. */
  addBinding(b: Binding): void {
    if (b.id >= this.nextBindingId) throw new BindingStateError(`binding ${b.eid} has id ${b.id}, not below nextBindingId ${this.nextBindingId}`);
    if (this.byEid.has(b.eid)) throw new BindingStateError(`EID ${b.eid} is bound twice`);
    this.checkFree(b);
    this.index(b);
  }

  addReleased(r: ReleasedAddress): void {
    const key = `${r.subnet}/${r.address}`;
    if (this.released.has(key)) throw new BindingStateError(`released address ${key} is listed twice`);
    this.released.set(key, r);
  }

  apply(e: BindingEvent): void {
    switch (e.type) {
      case 'BINDING_ADDED': return this.added(e.binding);
      case 'BINDING_MOVED': return this.moved(e.binding, e.previous, e.at);
      case 'BINDING_REMOVED': return this.removed(e.binding, e.previous, e.at);
    }
  }

  state(): PersistedState {
    return {
      nextBindingId: this.nextBindingId,
      bindings: [...this.byEid.values()].sort((a, b) => a.id - b.id),
      released: [...this.released.values()],
    };
  }

  private added(b: Binding): void {
    if (this.byEid.has(b.eid)) throw new BindingStateError(`BINDING_ADDED for ${b.eid}, which is already bound (id ${this.byEid.get(b.eid)?.id})`);
    // Ids are never reused: a new one is at least nextBindingId.
    if (b.id < this.nextBindingId) throw new BindingStateError(`BINDING_ADDED for ${b.eid} reuses id ${b.id} (next free id is ${this.nextBindingId})`);
    this.checkFree(b);
    this.index(b);
    this.released.delete(`${b.locator.subnet}/${b.locator.address}`);
    this.nextBindingId = b.id + 1;
  }

  private moved(b: Binding, previous: Binding, at: number): void {
    const current = this.current(previous, 'BINDING_MOVED');
    if (b.id !== current.id || b.eid !== current.eid || b.mac !== current.mac || b.homeSubnet !== current.homeSubnet) {
      throw new BindingStateError(`BINDING_MOVED of ${current.eid} changes its identity (id, MAC or home subnet)`);
    }
    if (b.version <= current.version) throw new BindingStateError(`BINDING_MOVED of ${b.eid} goes from version ${current.version} to ${b.version}`);
    const holder = this.eidByLocator.get(b.locator.address);
    if (holder !== undefined && holder !== b.eid) throw new BindingStateError(`BINDING_MOVED of ${b.eid} takes locator ${b.locator.address}, held by ${holder}`);
    this.unindex(current);
    this.index(b);
    this.release(current, b.locator, at);
    this.released.delete(`${b.locator.subnet}/${b.locator.address}`);
  }

  private removed(b: Binding, previous: Binding, at: number): void {
    const current = this.current(previous, 'BINDING_REMOVED');
    if (!sameIdentity(b, current)) throw new BindingStateError(`BINDING_REMOVED of ${current.eid} names a different binding`);
    this.unindex(current);
    this.release(current, undefined, at);
  }

  /** The binding an event's `previous` must be (lastSeen aside: touches are not journaled). */
  private current(previous: Binding, type: string): Binding {
    const current = this.byEid.get(previous.eid);
    if (current === undefined) throw new BindingStateError(`${type} of ${previous.eid}, which is not bound`);
    if (!sameIdentity(previous, current)) {
      throw new BindingStateError(`${type} of ${previous.eid} starts from version ${previous.version} at ${previous.locator.address}, but the binding is at version ${current.version} at ${current.locator.address}`);
    }
    return current;
  }

  /** A move or removal away from home frees the previous locator address (it rests in the pool). */
  private release(previous: Binding, next: Locator | undefined, at: number): void {
    if (!isAway(previous) || previous.locator.address === next?.address) return;
    const { subnet, address } = previous.locator;
    this.released.set(`${subnet}/${address}`, { subnet, address, releasedAt: at });
  }

  private checkFree(b: Binding): void {
    const macHolder = this.eidByMac.get(b.mac);
    if (macHolder !== undefined) throw new BindingStateError(`MAC ${b.mac} of ${b.eid} is already bound to ${macHolder}`);
    const locatorHolder = this.eidByLocator.get(b.locator.address);
    if (locatorHolder !== undefined) throw new BindingStateError(`locator ${b.locator.address} of ${b.eid} is already held by ${locatorHolder}`);
    const idHolder = this.eidById.get(b.id);
    if (idHolder !== undefined) throw new BindingStateError(`binding id ${b.id} of ${b.eid} is already used by ${idHolder}`);
  }

  private index(b: Binding): void {
    this.byEid.set(b.eid, b);
    this.eidByMac.set(b.mac, b.eid);
    this.eidById.set(b.id, b.eid);
    this.eidByLocator.set(b.locator.address, b.eid);
  }

  private unindex(b: Binding): void {
    this.byEid.delete(b.eid);
    this.eidByMac.delete(b.mac);
    this.eidById.delete(b.id);
    this.eidByLocator.delete(b.locator.address);
  }
}

function sameIdentity(a: Binding, b: Binding): boolean {
  return a.id === b.id && a.eid === b.eid && a.mac === b.mac && a.homeSubnet === b.homeSubnet && a.version === b.version
    && a.locator.subnet === b.locator.subnet && a.locator.dpid === b.locator.dpid
    && a.locator.port === b.locator.port && a.locator.address === b.locator.address;
}
