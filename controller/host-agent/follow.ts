// The host agent's shell around MigrationSignals for one VM's QMP connection: QEMU's events in,
// and while a migration copies the VM's memory, its progress (query-migrate) every few tens of
// milliseconds until the stop-and-copy is near. Also what the QEMU lab's migration driver uses,
// so that the lab's signals are the agent's.

import { MIGRATION_POLL_MS, MigrationSignals, type MigrationProgress, type MigrationSignal } from './migration-signals.js';
import type { QmpEvent } from './qmp.js';

/** What follow() needs of a QMP connection (QmpClient). */
export interface QmpLike {
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  onEvent(listener: (event: QmpEvent) => void): () => void;
}

export interface FollowOptions {
  /** How long before the stop copying starts (MigrationSignals); default DEFAULT_COPY_LEAD_MS. */
  readonly copyLeadMs?: number;
  readonly pollMs?: number;
  /** A progress read failed (QEMU busy or gone): the next poll tries again. Also a failed run-state read. */
  readonly onPollError?: (error: Error) => void;
}

/** Follows the VM's migrations and calls onSignal with each signal; returns the function that stops following. */
export function followMigrations(qmp: QmpLike, onSignal: (signal: MigrationSignal) => void, options: FollowOptions = {}): () => void {
  const signals = new MigrationSignals(options.copyLeadMs);
  const pollMs = options.pollMs ?? MIGRATION_POLL_MS;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let reading = false;
  const emit = (signal: MigrationSignal | undefined) => {
    if (signal !== undefined) onSignal(signal);
    schedule();
  };
  const poll = () => {
    timer = undefined;
    if (stopped || !signals.awaitingConvergence) return;
    reading = true;
    qmp.execute<MigrationProgress>('query-migrate', undefined, 1000).then(
      (progress) => { reading = false; if (!stopped) emit(signals.onProgress(progress)); },
      (error: Error) => { reading = false; options.onPollError?.(error); schedule(); },
    );
  };
  function schedule(): void {
    if (stopped || reading || timer !== undefined || !signals.awaitingConvergence) return;
    timer = setTimeout(poll, pollMs);
    timer.unref();
  }
  // Events wait until QEMU's run state is known: a destination's (inmigrate) are not the VM's stop.
  let early: QmpEvent[] | undefined = [];
  const unwatch = qmp.onEvent((e) => (early === undefined ? emit(signals.onEvent(e)) : early.push(e)));
  const statusKnown = () => {
    const waiting = early ?? [];
    early = undefined;
    if (!stopped) for (const e of waiting) emit(signals.onEvent(e));
  };
  qmp.execute<{ status?: unknown }>('query-status', undefined, 1000).then(
    (answer) => { signals.onStatus(String(answer.status)); statusKnown(); },
    (error: Error) => { options.onPollError?.(error); statusKnown(); }, // unknown: followed as a source
  );
  return () => {
    stopped = true;
    unwatch();
    if (timer !== undefined) clearTimeout(timer);
  };
}
