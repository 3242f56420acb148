// What a hypervisor's events say about a live migration, for the controller. Pure: QMP events and
// the migration's progress (query-migrate) in, signals out, each once per migration:
//   migrating   the migration began (setup): the controller stages the VM's move
//   converging  the stop-and-copy is near (the first pass over the VM's memory may end within
//               `copyLeadMs`, or has ended): frames for the VM are copied to a short ring at the
//               controller from now, so that none is lost before 'stopping' arrives. Not from
//               'migrating' on (except for a VM small enough that it may be over that soon): a VM
//               of a few GiB copies its memory for tens of seconds, and every frame for it would
//               cost the switch and the controller a packet-in all that time
//   stopping    the source stopped for the stop-and-copy: frames for the VM wait at the controller
//   resumed     the migration completed: the VM runs (or is about to) at its destination
//   called-off  a migration failed or was cancelled: the VM runs on at its source
// `at` is when QEMU emitted the event (epoch ms), so that the controller knows which copied frames
// the VM may have missed even when the signal reaches it late.
//
// Only a source's events say so. An agent runs on every hypervisor host, so it also follows the
// incoming QEMU of a migration to its host, and a destination emits MIGRATION setup, active and
// completed too (with RESUME just before completed): read as a source's, they would tell the
// controller 'migrating' and 'resumed' a second time, from the wrong host and at the wrong moments.
// A QEMU waiting for an incoming migration (run state `inmigrate`) is followed from its RESUME on:
// from then on it is the VM's source. Where the source says the end late (libvirt's source says
// 'Stopped Migrated' seconds after the VM runs at its destination), the destination's RESUME says
// 'resumed' (`resumeFromDestination`): the controller takes the first and ignores the other.
//
// A source that runs again after its stop (RESUME while stopped) had its migration called off:
// QEMU resumes the source before it reports the migration cancelled, and libvirt says only that
// (lifecycle 'Resumed'). A progress read that finds the migration failed or cancelled says so too:
// libvirt has no event for a migration called off before its stop.

export type MigrationSignalKind = 'migrating' | 'converging' | 'stopping' | 'resumed' | 'called-off';

export interface MigrationSignal {
  readonly kind: MigrationSignalKind;
  /** When the event that says so happened (epoch ms; the QMP timestamp when there is one). */
  readonly at: number;
}

export interface QmpEventLike {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** Epoch ms (QMP's timestamp); absent: the time of reading. */
  readonly at?: number;
}

/** The part of QEMU's `query-migrate` answer the estimate reads (bytes). */
export interface MigrationProgress {
  readonly status?: unknown;
  readonly ram?: { readonly total?: unknown; readonly remaining?: unknown; readonly 'dirty-sync-count'?: unknown };
}

/**
 * How long before the stop copying starts: more than the progress is polled at (MIGRATION_POLL_MS),
 * plus the time the signal takes to reach the controller and its copy rules the switch (a few ms;
 * tens on a loaded host), plus the estimate's error.
 */
export const DEFAULT_COPY_LEAD_MS = 250;
/** How often a host agent reads a migration's progress while it waits for 'converging'. */
export const MIGRATION_POLL_MS = 50;
/**
 * The fastest a first pass over a VM's memory is taken to go, bytes per ms, whatever it went so
 * far: pages that are all zeroes cost QEMU a scan and a few bytes on the wire, so a pass that
 * reaches a VM's unused memory speeds up at once, and an estimate from the rate so far comes too
 * late. A 128 MiB TCG guest migrated by libvirt in the QEMU lab went through its last 62 MiB in
 * under 45 ms (1.5 GB/s; its average since setup: 70 MB/s); 'converging' came 29-254 ms before
 * the stop, and after it in 2 runs of about 20, which lost the frames of the stop signal's delay.
 * With this floor, the copies start once at most copyLeadMs x 2 GB/s (500 MB at 250 ms) is left:
 * at once for a VM that small, and for a large VM of busy memory on a 1 GbE link about 4 s before
 * the pass ends (the cost: a packet-in per frame to the VM meanwhile).
 */
export const FAST_PASS_BYTES_PER_MS = 2_000_000;

export interface MigrationSignalOptions {
  /** How long before the stop copying starts; default DEFAULT_COPY_LEAD_MS. */
  readonly copyLeadMs?: number;
  /** The fastest a first pass is taken to go (bytes per ms; 0: only as fast as it went); default FAST_PASS_BYTES_PER_MS. */
  readonly fastPassBytesPerMs?: number;
  /** A destination's RESUME says 'resumed' (its incoming migration still says nothing else). */
  readonly resumeFromDestination?: boolean;
}

/**
 * One VM's source QEMU. QEMU's MIGRATION events (with the `events` capability) go setup, active,
 * [pre-switchover], device (the VM is stopped, its last state copied), completed; STOP comes when
 * the VM stops; MIGRATION_PASS counts the syncs of the dirty-page bitmap (pass 1 at setup, pass 2
 * when the first pass over all memory ended: what is left are the pages dirtied meanwhile, and the
 * stop-and-copy comes once they fit in the downtime limit). Either of STOP and 'device' tells the
 * stop-and-copy began; failed or cancelled means the source runs on.
 */
export class MigrationSignals {
  private migrating = false;
  private converging = false;
  private stopped = false;
  private startedAt = 0;
  /** The VM's memory (bytes), as its hypervisor said when following began. */
  private memoryBytes: number | undefined;
  /** This QEMU is a migration's destination (it has not run yet): its migration events are not the VM's stop. */
  private incoming = false;
  private readonly copyLeadMs: number;
  private readonly fastPassBytesPerMs: number;
  private readonly resumeFromDestination: boolean;

  constructor(options: MigrationSignalOptions = {}) {
    this.copyLeadMs = options.copyLeadMs ?? DEFAULT_COPY_LEAD_MS;
    this.fastPassBytesPerMs = options.fastPassBytesPerMs ?? FAST_PASS_BYTES_PER_MS;
    this.resumeFromDestination = options.resumeFromDestination ?? false;
  }

  /** QEMU's run state (`query-status`), read when following begins: `inmigrate` is a destination. */
  onStatus(status: string): void {
    this.incoming = status === 'inmigrate';
    if (this.incoming) this.end(undefined, 0);
  }

  /** Is this QEMU the destination of a migration, not yet running? */
  get isIncoming(): boolean {
    return this.incoming;
  }

  /** Should the migration's progress be read now (it runs and copying has not begun)? */
  get awaitingConvergence(): boolean {
    return this.migrating && !this.converging && !this.stopped;
  }

  /** Does the migration run, the VM not stopped yet (its progress may still say it was called off)? */
  get beforeStop(): boolean {
    return this.migrating && !this.stopped;
  }

  /** The signal an event gives, if any. */
  onEvent(e: QmpEventLike, now: number = Date.now()): MigrationSignal | undefined {
    const at = e.at ?? now;
    if (e.event === 'RESUME' && this.incoming) {
      this.incoming = false; // the VM runs here now: this QEMU is its source from here on
      return this.resumeFromDestination ? { kind: 'resumed', at } : undefined;
    }
    if (this.incoming) return undefined;
    if (e.event === 'RESUME' && this.migrating && this.stopped) return this.end('called-off', at); // the source runs on
    if (e.event === 'MIGRATION') {
      const status = String(e.data.status);
      if (status === 'setup' || status === 'active') {
        if (this.migrating) return undefined;
        this.migrating = true;
        this.converging = false;
        this.stopped = false;
        this.startedAt = at;
        return { kind: 'migrating', at };
      }
      if (status === 'device' || status === 'pre-switchover') return this.stop(at);
      if (status === 'completed') return this.end(this.migrating ? 'resumed' : undefined, at);
      if (status === 'failed' || status === 'cancelled') return this.end(this.migrating ? 'called-off' : undefined, at);
      return undefined;
    }
    if (e.event === 'MIGRATION_PASS' && Number(e.data.pass) >= 2) return this.converge(at);
    if (e.event === 'STOP' && this.migrating) return this.stop(at);
    return undefined;
  }

  /**
   * What the migration's progress says: 'converging' once the first pass over the VM's memory
   * may end within the copy lead, or has ended (a dirty-page sync after setup). "May end": at the
   * faster of its rate since setup and FAST_PASS_BYTES_PER_MS (a pass speeds up without warning
   * where memory is unused; the rate between two reads is no better: a run of unused memory early
   * in a pass makes it start copying seconds early). 'called-off' when it failed or was
   * cancelled before the stop. Undefined while it is far, and when the answer says nothing usable.
   */
  onProgress(progress: MigrationProgress, now: number = Date.now()): MigrationSignal | undefined {
    if (this.beforeStop && (progress.status === 'failed' || progress.status === 'cancelled')) return this.end('called-off', now);
    if (!this.awaitingConvergence) return undefined;
    const ram = progress.ram;
    const syncs = Number(ram?.['dirty-sync-count']);
    if (Number.isFinite(syncs) && syncs >= 2) return this.converge(now);
    const total = Number(ram?.total);
    const remaining = Number(ram?.remaining);
    const elapsed = now - this.startedAt;
    if (!(Number.isFinite(total) && Number.isFinite(remaining) && total > 0 && remaining >= 0 && elapsed > 0)) return undefined;
    // Bytes of memory gone through per ms, zero pages included.
    const rate = Math.max((total - remaining) / elapsed, this.fastPassBytesPerMs);
    if (rate <= 0) return undefined;
    return remaining / rate <= this.copyLeadMs ? this.converge(now) : undefined;
  }

  /**
   * The VM's memory size (bytes; its hypervisor's answer, read once when following begins): a VM
   * whose whole memory the first pass may go through within the copy lead (copyLeadMs x
   * FAST_PASS_BYTES_PER_MS, 500 MB by default) is near its stop from the start of its migration
   * (`nearFromStart`). 'converging' if such a migration runs now.
   */
  onMemorySize(bytes: number, now: number = Date.now()): MigrationSignal | undefined {
    if (!(Number.isFinite(bytes) && bytes > 0)) return undefined;
    this.memoryBytes = bytes;
    return this.nearFromStart(now);
  }

  /**
   * 'converging' at once, when the migration that began at `at` may be over within the copy lead
   * by the VM's size alone: a small VM's first pass takes a few hundred ms at most, and the
   * progress read that would say so is answered late (libvirt took 135 ms at a migration's start,
   * and the stop of a 128 MiB TCG guest came 300 ms after it). The follower asks right after
   * 'migrating'.
   */
  nearFromStart(at: number): MigrationSignal | undefined {
    if (this.memoryBytes === undefined || this.fastPassBytesPerMs <= 0) return undefined;
    return this.memoryBytes / this.fastPassBytesPerMs <= this.copyLeadMs ? this.converge(at) : undefined;
  }

  private converge(at: number): MigrationSignal | undefined {
    if (!this.awaitingConvergence) return undefined;
    this.converging = true;
    return { kind: 'converging', at };
  }

  private stop(at: number): MigrationSignal | undefined {
    if (!this.migrating || this.stopped) return undefined;
    this.stopped = true;
    return { kind: 'stopping', at };
  }

  private end(kind: MigrationSignalKind | undefined, at: number): MigrationSignal | undefined {
    this.migrating = false;
    this.converging = false;
    this.stopped = false;
    return kind === undefined ? undefined : { kind, at };
  }
}
