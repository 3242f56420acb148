// The history of completed migrations, newest last, bounded.

import type { Locator, MoveReason, SightingKind } from '../mobility/index.js';

export interface MigrationRecord {
  /** Sequence number, from 1 in this controller process. */
  readonly id: number;
  readonly eid: string;
  readonly mac: string;
  readonly from: Locator;
  readonly to: Locator;
  /** The binding version after the move. */
  readonly version: number;
  readonly reason: MoveReason;
  /** What revealed the move: the VM's RARP announce, a gratuitous ARP, ARP or IPv4 traffic, the hypervisor's stop signal. */
  readonly trigger: SightingKind;
  /** Epoch ms when the move was decided. */
  readonly detectedAt: number;
  /** From the VM's first packet at its new switch to every barrier of the send side confirmed. */
  readonly reconvergenceMs: number;
  /** Steps 1 and 2 alone (rules sent and confirmed). */
  readonly confirmMs: number;
  /** Barrier rounds it took (1 when the receive side was staged ahead or unchanged). */
  readonly rounds: number;
  /** From the VM's first packet at its new switch to its held packets going on (step 2 queued). */
  readonly releaseMs: number;
  /** Its rules were planned when the move was staged ahead (nothing they depend on changed since): only the send side was left. */
  readonly plannedAhead: boolean;
  readonly flowMods: number;
  readonly switches: number;
  readonly failures: readonly string[];
}

export class MigrationLog {
  private readonly records: MigrationRecord[] = [];
  private next = 1;

  constructor(private readonly capacity: number) {}

  add(record: Omit<MigrationRecord, 'id'>): MigrationRecord {
    const full = { id: this.next++, ...record };
    this.records.push(full);
    if (this.records.length > this.capacity) this.records.shift();
    return full;
  }

  list(): readonly MigrationRecord[] {
    return this.records;
  }
}
