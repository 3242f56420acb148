/**
 * The guest's CLOCK_MONOTONIC mapped onto the host's clock (epoch milliseconds), pure.
 *
 * A guest's clocks run on QEMU's virtual clock, which stands still while the VM is paused (the
 * stop-and-copy of a live migration) and which the destination continues from where the source
 * stopped. The guest's wall clock is only set from the RTC, to the second, at boot. So guest times
 * map onto host times piecewise: host = guest + offset, and every pause [stop, resume] (host instants
 * from QEMU's STOP and RESUME events) adds resume - stop to the offset for the guest times after it.
 */

/** One round trip of the agent's `clock` request. */
export interface ClockSample {
  /** Host epoch ms when the request left and when the answer arrived. */
  readonly sentAt: number;
  readonly receivedAt: number;
  /** The guest's CLOCK_MONOTONIC in ms when it answered. */
  readonly guestMs: number;
}

interface Segment {
  /** Guest time from which this offset holds. */
  readonly fromGuestMs: number;
  readonly offsetMs: number;
}

export class GuestClockError extends Error {
  override name = 'GuestClockError';
}

/** The offset a sample gives (the answer is placed mid-way through the round trip) and its uncertainty. */
export function sampleOffset(sample: ClockSample): { offsetMs: number; uncertaintyMs: number } {
  const rtt = sample.receivedAt - sample.sentAt;
  if (!(rtt >= 0)) throw new GuestClockError(`clock sample received before it was sent (${sample.sentAt} > ${sample.receivedAt})`);
  return { offsetMs: (sample.sentAt + sample.receivedAt) / 2 - sample.guestMs, uncertaintyMs: rtt / 2 };
}

export class GuestClock {
  private readonly segments: Segment[];

  private constructor(
    offsetMs: number,
    /** Half the round trip of the sample the mapping was made from. */
    readonly uncertaintyMs: number,
  ) {
    this.segments = [{ fromGuestMs: Number.NEGATIVE_INFINITY, offsetMs }];
  }

  /** From round trips to the guest: the one with the shortest round trip is the most exact. */
  static fromSamples(samples: readonly ClockSample[]): GuestClock {
    if (samples.length === 0) throw new GuestClockError('no clock samples');
    const best = samples.map(sampleOffset).reduce((a, b) => (b.uncertaintyMs < a.uncertaintyMs ? b : a));
    return new GuestClock(best.offsetMs, best.uncertaintyMs);
  }

  /** host - guest for the latest segment: what a sample taken now should find. */
  get currentOffsetMs(): number {
    return this.segments[this.segments.length - 1]!.offsetMs;
  }

  /** The VM was paused from `stoppedAt` to `resumedAt` (host epoch ms): its clock did not run meanwhile. */
  pause(stoppedAt: number, resumedAt: number): void {
    if (!(resumedAt >= stoppedAt)) throw new GuestClockError(`resume (${resumedAt}) before stop (${stoppedAt})`);
    const last = this.segments[this.segments.length - 1]!;
    const stoppedGuestMs = stoppedAt - last.offsetMs;
    if (stoppedGuestMs < last.fromGuestMs) throw new GuestClockError(`pause at ${stoppedAt} is older than the previous one`);
    this.segments.push({ fromGuestMs: stoppedGuestMs, offsetMs: last.offsetMs + (resumedAt - stoppedAt) });
  }

  /** Host epoch ms of a guest CLOCK_MONOTONIC time (ms). */
  toHostMs(guestMs: number): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i]!;
      if (guestMs >= segment.fromGuestMs) return guestMs + segment.offsetMs;
    }
    return guestMs + this.segments[0]!.offsetMs;
  }

  /** How far a fresh sample disagrees with the mapping (ms; positive: the guest is later than predicted). */
  errorOf(sample: ClockSample): number {
    return this.currentOffsetMs - sampleOffset(sample).offsetMs;
  }
}
