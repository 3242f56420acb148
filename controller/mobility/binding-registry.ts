// BindingRegistry: applies move decisions to the store and the locator pools, and journals
// the resulting events. Still pure apart from the repository it was given.
//
// Two kinds of repository (repository.ts). With a local one (file, memory) a decision changes
// the registry at once and the event is journaled (apply/remove, durable after flush). With a
// shared one (etcd) the registry is a mirror of the store: commit() proposes the event, the
// store compares and swaps it, and the mirror changes only through observe(), which applies
// every committed change in revision order (this replica's and the others'). One ordered path
// keeps the indexes and pools right when an address or a MAC passes from one EID to another.

import type { Ipv4 } from '../packet/address.js';
import { isAway, isIdentityMac, type Binding, type BindingEvent, type Locator } from './binding.js';
import { bindingToJson } from './binding-json.js';
import { BindingStore, type BindingService } from './binding-store.js';
import { LocatorPool } from './locator-pool.js';
import type { MigrationIntent } from './migration-intents.js';
import type { MoveDecision } from './move-detector.js';
import {
  isSharedRepository, StoreUnavailableError,
  type BindingRepository, type PersistedState, type RevisionChanges, type SharedBindingRepository, type SharedSnapshot, type StoreConflict,
} from './repository.js';
import type { SubnetMap } from './subnet.js';

export interface BindingRegistryOptions {
  /** How long a released locator address rests before reuse. */
  readonly reuseGraceMs: number;
  /** Shared store: how long commit() waits for observe() to bring its change (or the one that beat it). */
  readonly observeTimeoutMs: number;
}

export const DEFAULT_REUSE_GRACE_MS = 60_000;
export const DEFAULT_OBSERVE_TIMEOUT_MS = 5_000;

/** What commit() did. A conflict leaves the registry as the store has it: decide again. */
export type CommitResult =
  | { readonly status: 'committed'; readonly event: BindingEvent }
  | { readonly status: 'unchanged' }
  | { readonly status: 'conflict'; readonly conflict: StoreConflict };

export type RegistryChange = MoveDecision | { readonly kind: 'remove'; readonly eid: Ipv4 };

/** A proposal in flight: the event, and the locator address it took from a pool (given back if refused). */
interface Proposal {
  readonly event: BindingEvent;
  readonly allocated: { readonly subnet: string; readonly address: Ipv4 } | undefined;
  /** observe() has applied it. */
  seen: boolean;
}

export class BindingRegistry {
  private readonly pools = new Map<string, LocatorPool>();
  /** Locator addresses set aside for a move announced ahead (pre-staged rules name them). */
  private readonly prepared = new Map<Ipv4, { readonly subnet: string; readonly address: Ipv4 }>();

  // Shared store only: the revision the mirror is complete up to, each binding's revision (what
  // commit compares), proposals awaiting their change, and commit()s awaiting a revision.
  private observed = 0;
  private readonly revisions = new Map<Ipv4, number>();
  private readonly inFlight = new Map<Ipv4, Proposal>();
  private readonly perEid = new Map<Ipv4, Promise<unknown>>();
  private waiters: { readonly revision: number; readonly resolve: () => void }[] = [];
  private readonly observeTimeoutMs: number;

  private constructor(
    private readonly subnets: SubnetMap,
    private readonly store: BindingStore,
    private readonly repository: BindingRepository | SharedBindingRepository,
    options: BindingRegistryOptions,
  ) {
    this.observeTimeoutMs = options.observeTimeoutMs;
    for (const s of subnets.subnets) {
      this.pools.set(s.name, new LocatorPool({ subnet: s.name, range: s.locatorPool, prefix: s.prefix, reuseGraceMs: options.reuseGraceMs, reserved: [s.gatewayAlias] }));
    }
  }

  /**
   * Loads the persisted state; `problems` lists what no longer fits the subnet config. A binding
   * dropped for that reason is journaled as removed, so the store's history keeps matching what
   * the registry holds (a new binding for its EID later must not look like a duplicate).
   */
  /*
   * With a shared store a binding that does not fit this replica's config is only left out of
   * its mirror: the store is not this replica's to clean (another may have the subnet). `intents`
   * are the migration intents a shared store holds (none for a local one), and the registry's
   * `revision` is where the caller starts the store's change feed.
   */
  static async open(
    subnets: SubnetMap, repository: BindingRepository | SharedBindingRepository,
    options: Partial<BindingRegistryOptions> & { readonly now?: number } = {},
  ): Promise<{ registry: BindingRegistry; problems: string[]; intents: readonly MigrationIntent[] }> {
    const shared = isSharedRepository(repository);
    const state = await repository.load();
    const problems: string[] = [];
    const now = options.now ?? Date.now();
    const kept = state.bindings.filter((b) => {
      const missing = unknownSubnet(subnets, b);
      if (missing === undefined) return true;
      problems.push(`binding ${b.eid} (id ${b.id}) ${shared ? 'ignored' : 'dropped'}: subnet ${missing} is no longer configured`);
      if (!shared) repository.append({ type: 'BINDING_REMOVED', binding: b, previous: b, at: now });
      return false;
    });
    if (!shared && kept.length < state.bindings.length) await repository.flush();
    const store = new BindingStore({ bindings: kept, nextId: state.nextBindingId });
    const registry = new BindingRegistry(subnets, store, repository, {
      reuseGraceMs: options.reuseGraceMs ?? DEFAULT_REUSE_GRACE_MS, observeTimeoutMs: options.observeTimeoutMs ?? DEFAULT_OBSERVE_TIMEOUT_MS,
    });
    registry.restorePools(state, problems);
    if (!shared) return { registry, problems, intents: [] };
    const snapshot = state as SharedSnapshot;
    registry.observed = snapshot.revision;
    for (const b of kept) registry.revisions.set(b.eid, snapshot.bindingRevisions.get(b.eid) ?? 0);
    return { registry, problems, intents: snapshot.intents };
  }

  /** Shared store: the store revision this registry reflects completely (start the change feed after it). */
  get revision(): number {
    return this.observed;
  }

  get shared(): boolean {
    return isSharedRepository(this.repository);
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
    if ((decision.kind === 'learn-new' || decision.kind === 'move') && this.shared) throw new Error(`a shared binding store changes through commit(), not apply() (${decision.kind})`);
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
    if (this.shared) throw new Error('a shared binding store changes through commit(), not remove()');
    const event = this.store.remove(eid, now);
    if (event !== undefined) this.releaseIfAway(event.binding, undefined, now);
    return this.record(event);
  }

  /** Everything needed to rebuild this registry (what a compaction writes). */
  state(now: number): PersistedState {
    const released = [...this.pools.values()].flatMap((p) => p.releasedInGrace(now).map((r) => ({ subnet: p.subnet, ...r })));
    return { nextBindingId: this.store.nextId, bindings: this.store.list(), released };
  }

  /** Makes journaled events durable, compacting when the journal has grown (a shared store has nothing pending). */
  async flush(now: number): Promise<void> {
    if (isSharedRepository(this.repository)) return;
    await this.repository.flush();
    if (this.repository.needsCompaction()) await this.repository.compact(this.state(now));
  }

  /**
   * Applies a decision (or a removal) with either store. Local: as apply()/remove(), the event
   * journaled. Shared: the event is committed (compare-and-swap on the binding's revision, a
   * new locator address, MAC and id), then the call waits for observe() to bring it, so the
   * registry has it on return; a lost race returns the conflict once the registry holds the
   * value that won (or after observeTimeoutMs), and the caller decides again. Commits of one EID
   * run one after the other. Throws StoreUnavailableError (nothing changed here) and
   * PoolExhaustedError.
   */
  async commit(change: RegistryChange, now: number): Promise<CommitResult> {
    const repository = this.repository;
    if (!isSharedRepository(repository)) {
      const event = change.kind === 'remove' ? this.remove(change.eid, now) : this.apply(change, now);
      return event === undefined ? UNCHANGED : { status: 'committed', event };
    }
    if (change.kind === 'same-place') this.store.touch(change.binding.eid, now);
    if (change.kind !== 'remove' && change.kind !== 'learn-new' && change.kind !== 'move') return UNCHANGED;
    const eid = change.kind === 'move' ? change.binding.eid : change.eid;
    const before = this.perEid.get(eid) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(() => this.commitShared(repository, change, now));
    this.perEid.set(eid, run);
    try {
      return await run;
    } finally {
      if (this.perEid.get(eid) === run) this.perEid.delete(eid);
    }
  }

  /**
   * Applies the changes of one store revision, committed here or by another replica, in order;
   * a revision already reflected is ignored. Returns the binding events of other replicas'
   * changes (this replica's own come back from commit()), and what did not fit this replica's
   * config. Intent changes are the caller's (MigrationIntents).
   */
  observe(batch: RevisionChanges, now: number): { events: BindingEvent[]; problems: string[] } {
    const events: BindingEvent[] = [];
    const problems: string[] = [];
    if (batch.revision <= this.observed) return { events, problems };
    for (const change of batch.changes) {
      if (change.kind === 'released') this.observeReleased(change.subnet, change.address, change.releasedAt);
      if (change.kind !== 'binding') continue;
      const own = this.inFlight.get(change.eid);
      const event = this.observeBinding(change.eid, change.binding, change.modRevision, now, problems);
      if (event === undefined) continue;
      if (own !== undefined && sameChange(own.event, event)) own.seen = true;
      else events.push(event);
    }
    this.observed = batch.revision;
    const due = this.waiters.filter((w) => w.revision <= batch.revision);
    this.waiters = this.waiters.filter((w) => w.revision > batch.revision);
    for (const w of due) w.resolve();
    return { events, problems };
  }

  private async commitShared(repository: SharedBindingRepository, change: RegistryChange, now: number): Promise<CommitResult> {
    const proposal = this.propose(change, now);
    if (proposal === undefined) return UNCHANGED;
    const { event } = proposal;
    const eid = event.binding.eid;
    const expected = event.type === 'BINDING_ADDED' ? 0 : this.revisions.get(eid) ?? 0;
    this.inFlight.set(eid, proposal);
    let committed = false;
    try {
      const outcome = await repository.commit(event, expected);
      committed = outcome.ok;
      const reached = await this.whenObserved(outcome.ok ? outcome.revision : outcome.conflict.revision);
      // Seen: ours, even when the store reports a conflict (a retried request that had gone through).
      if (proposal.seen || outcome.ok) {
        committed = true;
        if (!proposal.seen && !reached) {
          throw new StoreUnavailableError('commit', new Error(`committed at revision ${outcome.ok ? outcome.revision : '?'} but not observed within ${this.observeTimeoutMs} ms; the change feed will bring it`));
        }
        return { status: 'committed', event };
      }
      return { status: 'conflict', conflict: outcome.conflict };
    } finally {
      if (this.inFlight.get(eid) === proposal) this.inFlight.delete(eid);
      // A locator address taken for a change that did not happen goes back (unless a binding holds it now).
      const a = proposal.allocated;
      if (!committed && a !== undefined && this.store.byLocatorAddress(a.address) === undefined) this.pools.get(a.subnet)?.release(a.address, now);
    }
  }

  /** The event a change would make, from the registry as it is; a new locator address is taken from its pool. */
  private propose(change: RegistryChange, now: number): Proposal | undefined {
    if (change.kind === 'remove') {
      const event = this.store.proposeRemove(change.eid, now);
      return event === undefined ? undefined : { event, allocated: undefined, seen: false };
    }
    if (change.kind === 'learn-new') {
      const { eid, mac, at } = change;
      if (!isIdentityMac(mac)) return undefined;
      const event = this.store.proposeAdd({ eid, mac, homeSubnet: at.subnet, dpid: at.dpid, port: at.port }, now);
      return event === undefined ? undefined : { event, allocated: undefined, seen: false };
    }
    if (change.kind !== 'move') return undefined;
    const current = this.store.byEid(change.binding.eid);
    if (current === undefined) return undefined;
    const { to } = change;
    const address = this.locatorAddress(current, to.subnet, change.locator, now);
    // Neither home nor kept: taken from the pool (or set aside for it by prepareMove).
    const allocated = address !== current.eid && address !== current.locator.address ? { subnet: to.subnet, address } : undefined;
    const event = this.store.proposeMove(current.eid, { subnet: to.subnet, dpid: to.dpid, port: to.port, address }, now);
    if (event === undefined && allocated !== undefined) this.pools.get(to.subnet)?.release(address, now);
    return event === undefined ? undefined : { event, allocated, seen: false };
  }

  /** Resolves true once observe() has reached `revision`, false after observeTimeoutMs. */
  private whenObserved(revision: number): Promise<boolean> {
    if (revision <= this.observed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), this.observeTimeoutMs);
      this.waiters.push({ revision, resolve: () => { clearTimeout(timer); resolve(true); } });
    });
  }

  /** One binding key's new value (undefined: deleted) into the mirror: store, pools, revisions. */
  private observeBinding(eid: Ipv4, next: Binding | undefined, modRevision: number, now: number, problems: string[]): BindingEvent | undefined {
    const previous = this.store.byEid(eid);
    const missing = next === undefined ? undefined : unknownSubnet(this.subnets, next);
    if (missing !== undefined) problems.push(`binding ${eid} ignored: subnet ${missing} is not configured here`);
    const value = missing === undefined ? next : undefined;
    if (value === undefined) {
      this.revisions.delete(eid);
      if (previous === undefined) return undefined;
      this.releaseIfAway(previous, undefined, now);
      const event: BindingEvent = { type: 'BINDING_REMOVED', binding: previous, previous, at: now };
      this.store.replay(event);
      return event;
    }
    this.revisions.set(eid, modRevision);
    if (previous !== undefined) this.releaseIfAway(previous, value.locator, value.lastSeen);
    if (isAway(value) && this.pools.get(value.locator.subnet)?.reserve(value.locator.address) !== true) {
      problems.push(`binding ${eid}: locator ${value.locator.address} is outside ${value.locator.subnet}'s pool (kept, not managed by the pool)`);
    }
    const event: BindingEvent = previous === undefined
      ? { type: 'BINDING_ADDED', binding: value, at: value.createdAt }
      : { type: 'BINDING_MOVED', binding: value, previous, at: value.lastSeen };
    this.store.replay(event);
    return event;
  }

  /** A released address rests in its pool from its release time on (it may be released here already). */
  private observeReleased(subnet: string, address: Ipv4, releasedAt: number): void {
    const pool = this.pools.get(subnet);
    if (pool === undefined) return;
    if (pool.isInUse(address)) pool.release(address, releasedAt);
    else pool.restoreReleased({ address, releasedAt });
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

  private releaseIfAway(previous: Binding, next: Pick<Locator, 'address'> | undefined, now: number): void {
    if (!isAway(previous) || previous.locator.address === next?.address) return;
    this.pools.get(previous.locator.subnet)?.release(previous.locator.address, now);
  }

  private record(event: BindingEvent | undefined): BindingEvent | undefined {
    if (event !== undefined && !isSharedRepository(this.repository)) this.repository.append(event);
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

const UNCHANGED: CommitResult = { status: 'unchanged' };

function unknownSubnet(subnets: SubnetMap, b: Binding): string | undefined {
  return [b.homeSubnet, b.locator.subnet].find((name) => subnets.get(name) === undefined);
}

/** The observed event is the proposed one (same kind, same resulting value). */
function sameChange(proposed: BindingEvent, observed: BindingEvent): boolean {
  if (proposed.type !== observed.type) return false;
  if (proposed.type === 'BINDING_REMOVED') return proposed.binding.id === observed.binding.id;
  return JSON.stringify(bindingToJson(proposed.binding)) === JSON.stringify(bindingToJson(observed.binding));
}
