// What a hypervisor's events say about a live migration, for the controller. Pure: QMP events in,
// signals out, each once per migration:
//   migrating   the migration began (setup): frames for the VM are copied to a short ring at the
//               controller from now, so that none is lost before 'stopping' arrives
//   stopping    the source stopped for the stop-and-copy: frames for the VM wait at the controller
//   resumed     the migration completed: the VM runs (or is about to) at its destination
//   called-off  a migration failed or was cancelled: the VM runs on at its source
// `at` is when QEMU emitted the event (epoch ms), so that the controller knows which copied frames
// the VM may have missed even when the signal reaches it late.

export type MigrationSignalKind = 'migrating' | 'stopping' | 'resumed' | 'called-off';

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

/**
 * One VM's source QEMU. QEMU's MIGRATION events (with the `events` capability) go setup, active,
 * [pre-switchover], device (the VM is stopped, its last state copied), completed; STOP comes when
 * the VM stops. Either tells the stop-and-copy began; failed or cancelled means the source runs on.
 */
export class MigrationSignals {
  private migrating = false;
  private stopped = false;

  /** The signal an event gives, if any. */
  onEvent(e: QmpEventLike, now: number = Date.now()): MigrationSignal | undefined {
    const at = e.at ?? now;
    if (e.event === 'MIGRATION') {
      const status = String(e.data.status);
      if (status === 'setup' || status === 'active') {
        if (this.migrating) return undefined;
        this.migrating = true;
        this.stopped = false;
        return { kind: 'migrating', at };
      }
      if (status === 'device' || status === 'pre-switchover') return this.stop(at);
      if (status === 'completed') return this.end(this.migrating ? 'resumed' : undefined, at);
      if (status === 'failed' || status === 'cancelled') return this.end(this.migrating ? 'called-off' : undefined, at);
      return undefined;
    }
    if (e.event === 'STOP' && this.migrating) return this.stop(at);
    return undefined;
  }

  private stop(at: number): MigrationSignal | undefined {
    if (!this.migrating || this.stopped) return undefined;
    this.stopped = true;
    return { kind: 'stopping', at };
  }

  private end(kind: MigrationSignalKind | undefined, at: number): MigrationSignal | undefined {
    this.migrating = false;
    this.stopped = false;
    return kind === undefined ? undefined : { kind, at };
  }
}
