// Pure measurements over a receiver's timeline: [epoch seconds, cumulative bytes] points, one
// per millisecond in which bytes arrived.

export type Timeline = ReadonlyArray<readonly [number, number]>;

/**
 * The application gap of one migration: the longest interval between two deliveries from the
 * last delivery before `pausedAtMs` up to `untilMs` (the next migration, or the end). null when
 * nothing was delivered after the pause: the stream never resumed.
 */
export function gapAround(timeline: Timeline, pausedAtMs: number, untilMs: number): number | null {
  const start = pausedAtMs / 1000;
  const end = untilMs / 1000;
  let previous: number | undefined;
  let longest = 0;
  let resumed = false;
  for (const [t] of timeline) {
    if (t < start) { previous = t; continue; }
    if (t > end) break;
    if (previous !== undefined) longest = Math.max(longest, t - previous);
    previous = t;
    resumed = true;
  }
  return resumed ? Math.round(longest * 10000) / 10 : null;
}

/** Where a stream's reads stop and start again around a pause (ms; null: no read on that side). */
export interface ReadsAround {
  /** The last read at or before the stop, this long before it. */
  readonly lastBeforeStopMs: number | null;
  /** The first read after the resume, this long after it. */
  readonly firstAfterResumeMs: number | null;
}

/** The first delivery (epoch ms) in a receiver's timeline at or after `fromMs` and before `untilMs`; null when none. */
export function firstDeliveryAfter(timeline: Timeline, fromMs: number, untilMs: number): number | null {
  for (const [t] of timeline) {
    const atMs = t * 1000;
    if (atMs >= untilMs) return null;
    if (atMs >= fromMs) return atMs;
  }
  return null;
}

/** The last delivery (epoch ms) in a receiver's timeline at or before `atMs`; null when none. */
export function lastDeliveryBy(timeline: Timeline, atMs: number): number | null {
  let last: number | null = null;
  for (const [t] of timeline) {
    const ms = t * 1000;
    if (ms > atMs) break;
    last = ms;
  }
  return last;
}

/**
 * The reads on either side of a pause [pausedAtMs, resumedAtMs] (epoch ms), up to `untilMs`: how
 * long before the stop the receiver last read, and how long after the resume it read again. The
 * second is what the VM itself (its restart, its programs) and the network add beyond the pause.
 */
export function readsAround(timeline: Timeline, pausedAtMs: number, resumedAtMs: number, untilMs = Number.POSITIVE_INFINITY): ReadsAround {
  if (!(resumedAtMs >= pausedAtMs)) throw new RangeError(`resume (${resumedAtMs}) before the stop (${pausedAtMs})`);
  const before = lastDeliveryBy(timeline, pausedAtMs);
  const after = firstDeliveryAfter(timeline, resumedAtMs, untilMs);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    lastBeforeStopMs: before === null ? null : round(pausedAtMs - before),
    firstAfterResumeMs: after === null ? null : round(after - resumedAtMs),
  };
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
