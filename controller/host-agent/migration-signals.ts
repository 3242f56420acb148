// What a hypervisor's events say about a live migration, for the controller: the moment the source
// stops for the stop-and-copy ('stopping': the controller buffers the VM's frames until it shows up
// elsewhere), and a migration that was called off ('called-off': the frames go back to the VM where
// it runs). Pure: QMP events in, signals out, once per migration.

export type MigrationSignal = 'stopping' | 'called-off';

export interface QmpEventLike {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/**
 * One VM's source QEMU. QEMU's MIGRATION events (with the `events` capability) go setup, active,
 * [pre-switchover], device (the VM is stopped, its last state copied), completed; STOP comes when
 * the VM stops. Either tells the stop-and-copy began; failed or cancelled after it means the
 * source resumes.
 */
export class MigrationSignals {
  private migrating = false;
  private stopped = false;

  /** The signal an event gives, if any. */
  onEvent(e: QmpEventLike): MigrationSignal | undefined {
    if (e.event === 'MIGRATION') {
      const status = String(e.data.status);
      if (status === 'setup' || status === 'active') {
        if (!this.migrating) this.stopped = false;
        this.migrating = true;
        return undefined;
      }
      if (status === 'device' || status === 'pre-switchover') return this.stop();
      if (status === 'completed') return this.end(undefined);
      if (status === 'failed' || status === 'cancelled') return this.end(this.stopped ? 'called-off' : undefined);
      return undefined;
    }
    if (e.event === 'STOP' && this.migrating) return this.stop();
    return undefined;
  }

  private stop(): MigrationSignal | undefined {
    if (!this.migrating || this.stopped) return undefined;
    this.stopped = true;
    return 'stopping';
  }

  private end(signal: MigrationSignal | undefined): MigrationSignal | undefined {
    this.migrating = false;
    this.stopped = false;
    return signal;
  }
}
