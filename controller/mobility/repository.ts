// Durable binding state behind an interface: what a store must give back on load and keep on
// append/flush/compact. Two implementations: the file store (one process, a journal with
// snapshots in a state dir) and the in-memory one (tests, no state dir).
// The pool state is part of it (released addresses and when), derived from the events:
// a move or removal away from home releases the previous locator address at the event's time.
//
// A store shared by several replicas (etcd, controller/cluster) cannot work that way: a change
// counts only once the store has committed it against the value it replaces, and another
// replica may have changed that value first. It implements SharedBindingRepository instead,
// a second interface BindingRegistry also takes: commit(event, expectedRevision) per mutation,
// and the changes every replica commits come back, in revision order, as RevisionChanges for
// BindingRegistry.observe(). Both interfaces share load()'s PersistedState and StoreCorruptError.

import type { Ipv4 } from '../packet/address.js';
import type { Binding, BindingEvent } from './binding.js';
import { BindingLedger } from './binding-ledger.js';
import type { MigrationIntent } from './migration-intents.js';

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

/**
 * The store holds something that is not a consistent binding history (a damaged or altered file,
 * a value that does not parse, an event that does not follow from the state before it).
 * `where` names the place: a file and line, a key.
 */
export class StoreCorruptError extends Error {
  override readonly name = 'StoreCorruptError';
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
  }
}

export interface BindingRepository {
  /**
   * The state as of the last durable event, checked: it throws StoreCorruptError rather than
   * return a state it cannot vouch for. A store with a single owner claims it here first (the
   * file store locks its directory) and throws when another process holds it.
   */
  load(): Promise<PersistedState>;
  /** Queues an event; durable after the next flush(). Events must follow from the loaded state. */
  append(event: BindingEvent): void;
  /** Makes every event appended so far durable. A failed flush is retried by the next one. */
  flush(): Promise<void>;
  /** Replaces everything appended so far by `state` (which must include those events). */
  compact(state: PersistedState): Promise<void>;
  /** The journal has grown enough that a compaction would pay off. */
  needsCompaction(): boolean;
  /** Waits for queued writes and releases what load() claimed. */
  close(): Promise<void>;
}

/** The shared store cannot be reached or has no quorum: nothing was changed, or it is unknown whether it was. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(readonly operation: string, override readonly cause: unknown) {
    super(`binding store unavailable (${operation}): ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** A persisted state as of a revision of a shared store, with the revision of each binding. */
export interface SharedSnapshot extends PersistedState {
  readonly revision: number;
  /** The store revision at which each binding (by EID) last changed: what commit() compares. */
  readonly bindingRevisions: ReadonlyMap<Ipv4, number>;
  readonly intents: readonly MigrationIntent[];
}

/** Why a commit was refused; several may hold at once. */
export type StoreConflictReason =
  | 'binding-changed' // the EID's binding is not at the expected revision (moved, removed or added by someone else)
  | 'locator-taken'   // the new locator address is held by another binding
  | 'mac-taken'       // the MAC of a new binding is bound to another EID
  | 'id-taken';       // the binding id of a new binding was handed out meanwhile

export interface StoreConflict {
  /** The store revision at which the comparison failed. */
  readonly revision: number;
  readonly reasons: readonly StoreConflictReason[];
  /** The EID's binding in the store now, and the revision it last changed at (undefined: none). */
  readonly current: { readonly binding: Binding; readonly modRevision: number } | undefined;
}

export type CommitOutcome =
  | { readonly ok: true; readonly revision: number }
  | { readonly ok: false; readonly conflict: StoreConflict };

/** One key's change, in the store's terms. */
export type StoreChange =
  | { readonly kind: 'binding'; readonly eid: Ipv4; readonly binding: Binding | undefined; readonly modRevision: number }
  | { readonly kind: 'released'; readonly subnet: string; readonly address: Ipv4; readonly releasedAt: number }
  | { readonly kind: 'intent'; readonly eid: Ipv4; readonly intent: MigrationIntent | undefined };

/** Every change of one store revision (one transaction), in the order it made them. */
export interface RevisionChanges {
  readonly revision: number;
  readonly changes: readonly StoreChange[];
}

/**
 * A binding store shared by replicas. Each mutation is one atomic compare-and-swap: commit()
 * applies `event` only if the EID's binding is still at `expectedRevision` (0: unbound), the
 * new locator address is free, and for a new binding its MAC and id are free; otherwise it
 * changes nothing and returns the conflict with the current value. The implementation also
 * delivers every committed change, in revision order and exactly once, from a revision on
 * (EtcdBindingRepository.changes()).
 */
export interface SharedBindingRepository {
  readonly shared: true;
  /** The checked state and the revision it is as of; StoreCorruptError names a bad key. */
  load(): Promise<SharedSnapshot>;
  /** Throws StoreUnavailableError when the store cannot decide in time. */
  commit(event: BindingEvent, expectedRevision: number): Promise<CommitOutcome>;
  close(): Promise<void>;
}

export function isSharedRepository(r: BindingRepository | SharedBindingRepository): r is SharedBindingRepository {
  return (r as Partial<SharedBindingRepository>).shared === true;
}

/**
 * Folds events into a state: how a journal is replayed on top of a snapshot. Throws
 * BindingStateError when the state or an event is inconsistent (see BindingLedger).
 */
export function applyEvents(state: PersistedState, events: Iterable<BindingEvent>): PersistedState {
  const ledger = BindingLedger.of(state);
  for (const e of events) ledger.apply(e);
  return ledger.state();
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
    try {
      return applyEvents(this.state, this.journal);
    } catch (error) {
      throw new StoreCorruptError('memory store', (error as Error).message);
    }
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
