// The host agent's shell around MigrationSignals for one VM: its hypervisor's events in, and while
// a migration copies the VM's memory, its progress every few tens of milliseconds until the
// stop-and-copy is near (or until the stop, where no event says a migration was called off before
// it). A QEMU's QMP connection is one such source (followMigrations); a libvirt domain's events
// and job are another (follow-libvirt.ts). Also what the QEMU lab's migration driver uses, so that
// the lab's signals are the agent's.

import { MIGRATION_POLL_MS, MigrationSignals, type MigrationProgress, type MigrationSignal, type QmpEventLike } from './migration-signals.js';
import type { QmpEvent } from './qmp.js';

/** What followMigrations() needs of a QMP connection (QmpClient). */
export interface QmpLike {
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  onEvent(listener: (event: QmpEvent) => void): () => void;
}

/** What following needs of a VM's hypervisor: its events (in QMP's words), run state and migration progress. */
export interface MigrationSource {
  onEvent(listener: (event: QmpEventLike) => void): () => void;
  /** The VM's run state in QMP's words (`inmigrate`: the destination of a migration, not run yet). */
  status(): Promise<string>;
  progress(): Promise<MigrationProgress>;
  /** The VM's memory size in bytes, read once when following begins (a small VM is copied from its migration's start). */
  memoryBytes?(): Promise<number>;
  /** Read the progress until the stop, not only until 'converging': no event says a migration was called off before its stop. */
  readonly progressUntilStop?: boolean;
  /** A destination's RESUME says 'resumed' (MigrationSignals): its source says so late. */
  readonly resumeFromDestination?: boolean;
}

export interface FollowOptions {
  /** How long before the stop copying starts (MigrationSignals); default DEFAULT_COPY_LEAD_MS. */
  readonly copyLeadMs?: number;
  /** The fastest a first pass is taken to go (MigrationSignals); default FAST_PASS_BYTES_PER_MS. */
  readonly fastPassBytesPerMs?: number;
  readonly pollMs?: number;
  /** A progress read failed (hypervisor busy or gone): the next poll tries again. Also a failed run-state or memory-size read. */
  readonly onPollError?: (error: Error) => void;
}

/** A QEMU's QMP connection as a MigrationSource (query-status, query-migrate). */
export function qmpSource(qmp: QmpLike): MigrationSource {
  return {
    onEvent: (listener) => qmp.onEvent(listener),
    status: async () => String((await qmp.execute<{ status?: unknown }>('query-status', undefined, 1000)).status),
    progress: () => qmp.execute<MigrationProgress>('query-migrate', undefined, 1000),
    memoryBytes: async () => {
      const size = await qmp.execute<{ 'base-memory'?: unknown; 'plugged-memory'?: unknown }>('query-memory-size-summary', undefined, 1000);
      return Number(size['base-memory']) + (size['plugged-memory'] === undefined ? 0 : Number(size['plugged-memory']));
    },
  };
}

/** Follows a QEMU's migrations over QMP and calls onSignal with each signal; returns the function that stops following. */
export function followMigrations(qmp: QmpLike, onSignal: (signal: MigrationSignal) => void, options: FollowOptions = {}): () => void {
  return followSource(qmpSource(qmp), onSignal, options);
}

/** Follows a VM's migrations and calls onSignal with each signal; returns the function that stops following. */
export function followSource(source: MigrationSource, onSignal: (signal: MigrationSignal) => void, options: FollowOptions = {}): () => void {
  const signals = new MigrationSignals({ copyLeadMs: options.copyLeadMs, fastPassBytesPerMs: options.fastPassBytesPerMs, resumeFromDestination: source.resumeFromDestination === true });
  const pollMs = options.pollMs ?? MIGRATION_POLL_MS;
  const reading = () => (source.progressUntilStop === true ? signals.beforeStop : signals.awaitingConvergence);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let busy = false;
  const emit = (signal: MigrationSignal | undefined) => {
    if (signal !== undefined) onSignal(signal);
    if (signal?.kind === 'migrating') return emit(signals.nearFromStart(signal.at));
    schedule();
  };
  const poll = () => {
    timer = undefined;
    if (stopped || !reading()) return;
    busy = true;
    source.progress().then(
      (progress) => { busy = false; if (!stopped) emit(signals.onProgress(progress)); },
      (error: Error) => { busy = false; options.onPollError?.(error); schedule(); },
    );
  };
  function schedule(): void {
    if (stopped || busy || timer !== undefined || !reading()) return;
    timer = setTimeout(poll, pollMs);
    timer.unref();
  }
  // Events wait until the run state is known: a destination's (inmigrate) are not the VM's stop.
  let early: QmpEventLike[] | undefined = [];
  const unwatch = source.onEvent((e) => (early === undefined ? emit(signals.onEvent(e)) : early.push(e)));
  const statusKnown = () => {
    const waiting = early ?? [];
    early = undefined;
    if (!stopped) for (const e of waiting) emit(signals.onEvent(e));
  };
  source.memoryBytes?.().then(
    (bytes) => { if (!stopped) emit(signals.onMemorySize(bytes)); },
    (error: Error) => options.onPollError?.(error),
  );
  source.status().then(
    (status) => { signals.onStatus(status); statusKnown(); },
    (error: Error) => { options.onPollError?.(error); statusKnown(); }, // unknown: followed as a source
  );
  return () => {
    stopped = true;
    unwatch();
    if (timer !== undefined) clearTimeout(timer);
  };
}
