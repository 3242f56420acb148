// Which of a migrating VM's copied frames its port handed on before the VM stopped, by the port's
// own counters (OFPMP_PORT_STATS). While a VM migrates, what its edge delivers to it is also copied
// to the controller, in the same order. A Linux tap counts a frame as transmitted when its reader
// (QEMU) takes it, and QEMU takes nothing once the VM is stopped; so at the stop, the tap's count
// says how many of the frames it was ever given were read, and the copies beyond that count were
// not: they wait in the tap and are lost with the source. Pure: the caller reads the counters.
//
// The count includes frames the port was given that were never copied (those before the copying
// began, a flood), and where the copies begin in it is not known: the samples taken while copying
// bound it from below. At a sample, the port has read no more than it was given: read <= copies so
// far + uncopied so far, so uncopied >= read - copies, and the uncopied only grow. The largest
// (read - copies) over the samples is exact when the port held nothing at that sample (a guest
// that keeps up); what it held then, and floods since, are what the margin (and the span replayed
// by time, which the caller adds) cover. Copies whose packet-ins were still on their way at a
// sample make the bound larger: more is replayed, never less. Copies counted past the reading make
// it smaller, and fewer are replayed than the VM missed: so `copies` must be those the controller
// read before the reading's reply (FrameBuffers counts them as the reply is decoded).
//
// A guest whose tap was never empty at a sample makes the bound too small by what it held at the
// best one: a libvirt-starved TCG guest lost echo requests so (CI, 2026-12-02: 2 copies replayed,
// 5 lost). Such a tap's backlog rises and falls between samples, and so does (read - copies): how
// far it swung (`spread`) says whether the count can be trusted alone (`trusted`); the caller
// replays the span by time as well when it is not: it swung more than LAG_SPREAD, or was read fewer
// than TRUSTED_SAMPLES times.
//
// A port that counts a frame as it goes (a veth, a NIC) seems to read everything at once: no copy
// is unread by its counters, and the span by time alone covers what reached it after the stop.

import type { PortCounters } from './port-backlog.js';

/**
 * Copies replayed beyond what the counters say was unread: what the port held at the best sample
 * (a guest busy for a moment), floods since, and copies counted a little ahead of the frames the
 * switch put out (its datapath sends the packet-ins of a batch before it flushes the batch's output).
 */
export const UNREAD_MARGIN = 16;
/**
 * How far (read - copies) may swing over the samples for the count alone to decide: more than the
 * margin, and the port's reader lagged while the frames were copied. A veth swings by the floods it
 * passes and the packet-ins in flight at a reading: 0-9 in the emulated lab, twice 15 and 25 in 24
 * moves; at 8, a swing of 9 replayed the 100 ms span, and that move's TCP stream stalled for 120 ms.
 * The libvirt guests' taps swung 0-2.
 */
export const LAG_SPREAD = UNREAD_MARGIN;
/**
 * Readings while copying (after the copy rules were in place) for the count to decide alone: with
 * fewer, how far the reads swung says little (a switch slow to answer, a copy begun just before the
 * stop).
 */
export const TRUSTED_SAMPLES = 3;

/**
 * What the counters say at the stop: the first copy the port may not have handed on, how far its
 * reads swung, over how many readings while copying, and whether that count alone decides which
 * copies are replayed (else the caller adds the span by time).
 */
export interface Unread {
  readonly from: number;
  /** The port's count at the stop: frames it handed on (diagnostics). */
  readonly read: number;
  readonly spread: number;
  readonly samples: number;
  readonly trusted: boolean;
}

export class PortReads {
  /** The largest (frames the port read - frames copied) at a sample: the fewest frames it was given that were not copied. */
  private uncopied = -Infinity;
  /** The smallest (read - copies) at a sample while copying: with `uncopied`, how far the reads swung. */
  private lowest = Infinity;
  private lastTx: bigint | undefined;
  private broken = false;
  /** Samples taken (counters read while copying). */
  samples = 0;

  /** The port's counters, read when `copies` copies had reached the controller. */
  sample(copies: number, counters: PortCounters): void {
    this.lowest = Math.min(this.lowest, Number(counters.txPackets) - copies);
    this.take(copies, counters);
    this.samples++;
  }

  /**
   * At the stop (`counters` read after it, when `copies` copies had arrived): the number of the
   * first copy (0: the first since the copying began) the port may not have handed on, less
   * UNREAD_MARGIN (every later copy is unread but for the margin), and how far (read - copies)
   * swung over the samples, and whether that decides alone. Undefined when the counters cannot tell (no sample before the stop, or
   * the count went backwards).
   */
  unreadFrom(copies: number, counters: PortCounters): Unread | undefined {
    if (this.samples === 0) return undefined;
    this.take(copies, counters); // not for `lowest`: the copies since the stop are unread, not a lag
    if (this.broken) return undefined;
    const spread = this.uncopied - this.lowest;
    return {
      from: Math.max(0, Number(counters.txPackets) - this.uncopied - UNREAD_MARGIN),
      read: Number(counters.txPackets),
      spread,
      samples: this.samples,
      trusted: spread <= LAG_SPREAD && this.samples >= TRUSTED_SAMPLES,
    };
  }

  private take(copies: number, counters: PortCounters): void {
    if (this.lastTx !== undefined && counters.txPackets < this.lastTx) this.broken = true; // a new port of the same number: the count began again
    this.lastTx = counters.txPackets;
    this.uncopied = Math.max(this.uncopied, Number(counters.txPackets) - copies);
  }
}
