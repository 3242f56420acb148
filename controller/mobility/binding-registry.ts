// BindingRegistry: applies move decisions to the store and the locator pools, and journals
// the resulting events. Still pure apart from the repository it was given.

import type { Ipv4 } from '../packet/address.js';
import { isAway, isIdentityMac, type Binding, type BindingEvent, type Locator } from './binding.js';
import { BindingStore, type BindingService } from './binding-store.js';
import { LocatorPool } from './locator-pool.js';
import type { MoveDecision } from './move-detector.js';
import type { BindingRepository, PersistedState } from './repository.js';
import type { SubnetMap } from './subnet.js';

export interface BindingRegistryOptions {
  /** How long a released locator address rests before reuse. */
  readonly reuseGraceMs: number;
}

export const DEFAULT_REUSE_GRACE_MS = 60_000;

export class BindingRegistry {
  private readonly pools = new Map<string, LocatorPool>();
  /** Locator addresses set aside for a move announced ahead (pre-staged rules name them). */
  private readonly prepared = new Map<Ipv4, { readonly subnet: string; readonly address: Ipv4 }>();

  private constructor(
    private readonly subnets: SubnetMap,
    private readonly store: BindingStore,
    private readonly repository: BindingRepository,
    options: BindingRegistryOptions,
  ) {
    for (const s of subnets.subnets) {
      this.pools.set(s.name, new LocatorPool({ subnet: s.name, range: s.locatorPool, prefix: s.prefix, reuseGraceMs: options.reuseGraceMs, reserved: [s.gatewayAlias] }));
    }
  }

  /**
   * Loads the persisted state; `problems` lists what no longer fits the subnet config. A binding
   * dropped for that reason is journaled as removed, so the store's history keeps matching what
   * the registry holds (a new binding for its EID later must not look like a duplicate).
   */
  static async open(
    subnets: SubnetMap, repository: BindingRepository, options: Partial<BindingRegistryOptions> & { readonly now?: number } = {},
  ): Promise<{ registry: BindingRegistry; problems: string[] }> {
    const state = await repository.load();
    const problems: string[] = [];
    const now = options.now ?? Date.now();
    const kept = state.bindings.filter((b) => {
      const missing = [b.homeSubnet, b.locator.subnet].find((name) => subnets.get(name) === undefined);
      if (missing === undefined) return true;
      problems.push(`binding ${b.eid} (id ${b.id}) dropped: subnet ${missing} is no longer configured`);
      repository.append({ type: 'BINDING_REMOVED', binding: b, previous: b, at: now });
      return false;
    });
    if (kept.length < state.bindings.length) await repository.flush();
    const store = new BindingStore({ bindings: kept, nextId: state.nextBindingId });
    const registry = new BindingRegistry(subnets, store, repository, { reuseGraceMs: options.reuseGraceMs ?? DEFAULT_REUSE_GRACE_MS });
    registry.restorePools(state, problems);
    return { registry, problems };
  }

  get bindings(): BindingService {
    return this.store;
  }

  pool(subnet: string): LocatorPool | undefined {
    return this.pools.get(subnet);
  }

  /**
   * Applies a decision. learn-new and move return their event (already journaled, durable after
   * flush()); learn-new of a MAC that is no endpoint identity (isIdentityMac) changes nothing;
   * same-place only refreshes lastSeen; the other kinds change nothing.
   * Throws PoolExhaustedError (nothing changed) when a move needs a locator and none is free.
   */
  apply(decision: MoveDecision, now: number): BindingEvent | undefined {
    switch (decision.kind) {
      case 'learn-new': {
        const { eid, mac, at } = decision;
        if (!isIdentityMac(mac)) return undefined; // the all-zero and group MACs identify no one
        return this.record(this.store.add({ eid, mac, homeSubnet: at.subnet, dpid: at.dpid, port: at.port }, now));
      }
      case 'same-place':
        this.store.touch(decision.binding.eid, now);
        return undefined;
      case 'move':
        return this.moveTo(decision.binding.eid, decision.to, decision.locator, now);
      default:
        return undefined;
    }
  }

  /**
   * The binding a move of `eid` to `to` would produce, its locator address set aside so that the
   * move, when it happens, gets the very same one (rules staged ahead name it). Changes nothing
   * else; cancelPrepared() gives the address back. Throws PoolExhaustedError like a move.
   */
  prepareMove(eid: Ipv4, to: { subnet: string; dpid: bigint; port: number }, choice: 'home' | 'keep' | 'allocate', now: number): Binding | undefined {
    const current = this.store.byEid(eid);
    if (current === undefined) return undefined;
    const earlier = this.prepared.get(eid);
    if (earlier !== undefined && earlier.subnet !== to.subnet) this.cancelPrepared(eid, now);
    let address: Ipv4;
    if (choice === 'allocate' && to.subnet !== current.homeSubnet && !(current.locator.subnet === to.subnet)) {
      address = this.prepared.get(eid)?.address ?? this.locatorAddress(current, to.subnet, 'allocate', now);
      this.prepared.set(eid, { subnet: to.subnet, address });
    } else {
      address = this.locatorAddress(current, to.subnet, choice, now);
    }
    return { ...current, locator: { subnet: to.subnet, dpid: to.dpid, port: to.port, address }, version: current.version + 1 };
  }

  /** Gives back the address a prepared move set aside (the move did not happen there). */
  cancelPrepared(eid: Ipv4, now: number): void {
    const p = this.prepared.get(eid);
    if (p === undefined) return;
    this.prepared.delete(eid);
    this.pools.get(p.subnet)?.release(p.address, now);
  }

  remove(eid: Ipv4, now: number): BindingEvent | undefined {
    const event = this.store.remove(eid, now);
    if (event !== undefined) this.releaseIfAway(event.binding, undefined, now);
    return this.record(event);
  }

  /** Everything needed to rebuild this registry (what a compaction writes). */
  state(now: number): PersistedState {
    const released = [...this.pools.values()].flatMap((p) => p.releasedInGrace(now).map((r) => ({ subnet: p.subnet, ...r })));
    return { nextBindingId: this.store.nextId, bindings: this.store.list(), released };
  }

  /** Makes journaled events durable, compacting when the journal has grown. */
  async flush(now: number): Promise<void> {
    await this.repository.flush();
    if (this.repository.needsCompaction()) await this.repository.compact(this.state(now));
  }

  private moveTo(eid: Ipv4, to: { subnet: string; dpid: bigint; port: number }, choice: 'home' | 'keep' | 'allocate', now: number): BindingEvent | undefined {
    const current = this.store.byEid(eid);
    if (current === undefined) return undefined;
    const address = this.locatorAddress(current, to.subnet, choice, now);
    this.cancelPrepared(eid, now); // prepared for another subnet: that address is not needed now
    const locator: Locator = { subnet: to.subnet, dpid: to.dpid, port: to.port, address };
    const event = this.store.move(eid, locator, now);
    if (event === undefined) {
      if (choice === 'allocate') this.pools.get(to.subnet)?.release(address, now);
      return undefined;
    }
    this.releaseIfAway(current, locator, now);
    return this.record(event);
  }

  private locatorAddress(b: Binding, subnet: string, choice: 'home' | 'keep' | 'allocate', now: number): Ipv4 {
    if (choice === 'home' || subnet === b.homeSubnet) return b.eid;
    if (choice === 'keep' && b.locator.subnet === subnet) return b.locator.address;
    const prepared = this.prepared.get(b.eid);
    if (prepared?.subnet === subnet) {
      this.prepared.delete(b.eid);
      return prepared.address;
    }
    const pool = this.pools.get(subnet);
    if (pool === undefined) throw new Error(`no locator pool for subnet ${subnet}`);
    return pool.allocate(now);
  }

  private releaseIfAway(previous: Binding, next: Locator | undefined, now: number): void {
    if (!isAway(previous) || previous.locator.address === next?.address) return;
    this.pools.get(previous.locator.subnet)?.release(previous.locator.address, now);
  }

  private record(event: BindingEvent | undefined): BindingEvent | undefined {
    if (event !== undefined) this.repository.append(event);
    return event;
  }

  private restorePools(state: PersistedState, problems: string[]): void {
    for (const b of this.store.list()) {
      if (!isAway(b)) continue;
      if (this.pools.get(b.locator.subnet)?.reserve(b.locator.address) !== true) {
        problems.push(`binding ${b.eid}: locator ${b.locator.address} is outside ${b.locator.subnet}'s pool (kept, not managed by the pool)`);
      }
    }
    for (const r of state.released) this.pools.get(r.subnet)?.restoreReleased(r);
  }
}
