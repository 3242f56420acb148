// Durable binding state behind an interface: what a store must give back on load and keep on
// append/flush/compact. Two implementations: the file store (one process, a journal with
// snapshots in a state dir) and the in-memory one (tests, no state dir); a networked store
// implements the same interface.
// The pool state is part of it (released addresses and when), derived from the events:
// a move or removal away from home releases the previous locator address at the event's time.

import type { Ipv4 } from '../packet/address.js';
import type { Binding, BindingEvent } from './binding.js';
import { BindingLedger } from './binding-ledger.js';

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
