// The soak benchmark's arithmetic, pure: latency summaries, the controller's memory over the run,
// counts by kind. Totals of /metrics come from bench/hypervisor-figures.ts (metricSum).

import { percentile } from '../../topologies/case-study/measure.js';

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentiles of `values` (ms); NaN when there are none. */
export function summarize(values: readonly number[]): LatencySummary {
  const rank = (p: number) => percentile(values, p) ?? Number.NaN;
  return { samples: values.length, p50Ms: rank(50), p99Ms: rank(99), maxMs: rank(100) };
}

export interface RssSample {
  /** Seconds since the attack started. */
  readonly atS: number;
  readonly bytes: number;
}

export interface RssSummary {
  readonly startBytes: number;
  readonly endBytes: number;
  readonly maxBytes: number;
  /** (end - start) / start. */
  readonly growth: number;
  /** Within the target: the end no more than `tolerance` above the start. */
  readonly flat: boolean;
}

/**
 * Start and end are medians of the first and last `window` samples: one sample catches a garbage
 * collection half done or a burst of the attack in flight. The soak bench passes a minute's worth
 * (its first run compared 3 samples and called flat a run whose minute medians rose by a quarter).
 */
export function summarizeRss(samples: readonly RssSample[], tolerance = 0.1, window = 3): RssSummary {
  if (samples.length === 0) throw new Error('no RSS samples');
  const median = (part: readonly RssSample[]) => [...part].map((s) => s.bytes).sort((a, b) => a - b)[Math.floor((part.length - 1) / 2)]!;
  const startBytes = median(samples.slice(0, window));
  const endBytes = median(samples.slice(-window));
  const growth = (endBytes - startBytes) / startBytes;
  return { startBytes, endBytes, maxBytes: Math.max(...samples.map((s) => s.bytes)), growth, flat: growth <= tolerance };
}

/** VmRSS of a /proc/PID/status text, in bytes; undefined when absent (the process is gone). */
export function vmRssBytes(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m === null ? undefined : Number(m[1]) * 1024;
}

/** Counts by kind ("mutated messages", "bad HTTP requests" ...). */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(kind: string, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  get(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  entries(): [string, number][] {
    return [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b));
  }
}

const MB = 2 ** 20;
export const mb = (bytes: number): string => (bytes / MB).toFixed(1);
export const ms = (v: number): string => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));
