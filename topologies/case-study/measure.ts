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
