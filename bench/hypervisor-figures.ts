// Issue 8's "done when" figures from the raw results of bench/hypervisors.ts: pure summaries of a
// scenario's moves (gap per stream and move, QEMU downtime, the controller's reasons and times),
// the targets judged against them, and the readable table. No I/O.

import type { ScenarioResult } from '../topologies/case-study/experiment.js';
import { firstDeliveryAfter, percentile, type Timeline } from '../topologies/case-study/measure.js';

export interface Stats {
  readonly n: number;
  readonly median: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** Nearest-rank median, p99 and maximum (with fewer than 100 samples p99 is the maximum). */
export function stats(values: readonly number[]): Stats {
  return { n: values.length, median: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) };
}

export interface MoveRow {
  readonly from: string;
  readonly to: string;
  readonly gapMs: Readonly<Record<string, number | null>>;
  readonly qemuDowntimeMs: number | null;
  /** The VM stood still: QEMU's RESUME minus STOP (or the emulated pause). */
  readonly pausedMs: number;
  /** The controller decided the move this long after the VM resumed (null without a record). */
  readonly detectedAfterResumeMs: number | null;
  /** Per stream: its first delivery after the VM resumed, from the resume (where the rest of the gap goes). */
  readonly deliveredAfterResumeMs: Readonly<Record<string, number | null>>;
  /**
   * Per stream: where its longest stall (the gap) began, from the resume. Near or below 0: the
   * migration's own outage; well after it: a later stall in the same window (probes, the source leaving).
   */
  readonly stallStartAfterResumeMs: Readonly<Record<string, number | null>>;
  /** The paused source was quit this long after the resume (its port went away then); null for the emulated VM. */
  readonly sourceQuitAfterResumeMs: number | null;
  readonly reason: string | null;
  readonly trigger: string | null;
  readonly reconvergenceMs: number | null;
  readonly releaseMs: number | null;
  readonly confirmMs: number | null;
  readonly rounds: number | null;
  readonly controllerRecords: number;
  readonly probesFailed: number;
  readonly probesRetried: number;
  readonly resets: number;
}

export interface MovesFigures {
  readonly scenario: string;
  readonly description: string;
  readonly moves: number;
  /** One sample per stream and move; a stream that never resumed counts as null (and fails bytesInOrder). */
  readonly gapMs: Stats;
  readonly gapNeverResumed: number;
  /**
   * The gap minus the time the VM stood still, per stream and move: what the network and TCP add to
   * the hypervisor's own pause (QEMU's downtime varies 5-200 ms with the machine's load, whoever switches).
   */
  readonly gapBeyondPauseMs: Stats;
  readonly qemuDowntimeMs: Stats;
  readonly pausedMs: Stats;
  readonly detectedAfterResumeMs: Stats | null;
  /** One sample per stream and move: from the VM's resume to the stream's next delivery. */
  readonly deliveredAfterResumeMs: Stats;
  /** Stream-moves whose longest stall began after the stream had resumed: not the migration's own outage. */
  readonly laterStalls: number;
  /** The plain-L2 intra-subnet gap of the same run as the reference (median / median, p99 / p99, and of the gap beyond the pause). */
  readonly gapRatioToL2: { readonly median: number | null; readonly p99: number | null; readonly beyondPauseMedian: number | null } | null;
  readonly reconvergenceMs: Stats | null;
  readonly releaseMs: Stats | null;
  readonly confirmMs: Stats | null;
  readonly rounds: Readonly<Record<string, number>>;
  /** How many moves the controller accepted for each reason ('none': no record within 5 s). */
  readonly reasons: Readonly<Record<string, number>>;
  readonly triggers: Readonly<Record<string, number>>;
  readonly resets: number;
  readonly bytesInOrder: boolean;
  readonly streams: ReadonlyArray<{ from: string; bytesSent: number; bytesReceived: number; inOrder: boolean; survived: boolean }>;
  readonly probes: { readonly total: number; readonly failed: number; readonly retried: number };
  /** `seamless_conflicts_total` over the scenario (null without a controller), and the refusals logged. */
  readonly conflicts: number | null;
  readonly conflictsLogged: number;
  readonly perMove: readonly MoveRow[];
}

export function moveRows(r: ScenarioResult): MoveRow[] {
  return r.migrations.map((m, i) => ({
    from: m.from, to: m.to, gapMs: m.gapMs,
    qemuDowntimeMs: m.times.qemu?.downtimeMs ?? null,
    pausedMs: round(m.times.resumedAt - m.times.pausedAt),
    detectedAfterResumeMs: m.detectedAt === null ? null : round(m.detectedAt - m.times.resumedAt),
    deliveredAfterResumeMs: Object.fromEntries(r.streams.map((s) => {
      const t = firstDeliveryAfter(s.timeline, m.times.resumedAt, r.migrations[i + 1]?.times.pausedAt ?? Number.POSITIVE_INFINITY);
      return [s.from, t === null ? null : round(t - m.times.resumedAt)];
    })),
    stallStartAfterResumeMs: Object.fromEntries(r.streams.map((s) => {
      const stall = longestStall(s.timeline, m.times.pausedAt, r.migrations[i + 1]?.times.pausedAt ?? Number.POSITIVE_INFINITY);
      return [s.from, stall === null ? null : round(stall.startsAt - m.times.resumedAt)];
    })),
    sourceQuitAfterResumeMs: m.times.qemu ? round(m.times.qemu.completedAt + m.times.qemu.lingerMs - m.times.resumedAt) : null,
    reason: m.reason, trigger: m.trigger,
    reconvergenceMs: roundOrNull(m.reconvergenceMs), releaseMs: roundOrNull(m.releaseMs), confirmMs: roundOrNull(m.confirmMs), rounds: m.rounds,
    controllerRecords: m.controllerRecords,
    probesFailed: m.probes.filter((p) => !p.ok).length,
    probesRetried: m.probes.filter((p) => p.ok && p.attempts > 1).length,
    resets: Object.values(m.resets).reduce((a, b) => a + b, 0),
  }));
}

/** `l2` is the plain-L2 intra-subnet scenario of the same run (null when it was not run). */
export function movesFigures(r: ScenarioResult, withController: boolean, conflicts: number | null, l2: MovesFigures | null): MovesFigures {
  const rows = moveRows(r);
  const allGaps = rows.flatMap((row) => Object.values(row.gapMs));
  const gaps = allGaps.filter((g): g is number => g !== null);
  const gapMs = stats(gaps);
  const gapBeyondPauseMs = stats(rows.flatMap((row) => Object.values(row.gapMs).filter((g): g is number => g !== null).map((g) => round(g - row.pausedMs))));
  const numbers = (pick: (row: MoveRow) => number | null) => rows.map(pick).filter((v): v is number => v !== null);
  const controllerStats = (pick: (row: MoveRow) => number | null) => (withController ? stats(numbers(pick)) : null);
  return {
    scenario: r.name, description: r.description, moves: rows.length,
    gapMs, gapNeverResumed: allGaps.length - gaps.length, gapBeyondPauseMs,
    qemuDowntimeMs: stats(numbers((row) => row.qemuDowntimeMs)),
    pausedMs: stats(rows.map((row) => row.pausedMs)),
    detectedAfterResumeMs: controllerStats((row) => row.detectedAfterResumeMs),
    deliveredAfterResumeMs: stats(rows.flatMap((row) => Object.values(row.deliveredAfterResumeMs)).filter((v): v is number => v !== null)),
    laterStalls: rows.reduce((n, row) => n + Object.entries(row.stallStartAfterResumeMs).filter(([s, at]) => at !== null && (row.deliveredAfterResumeMs[s] ?? Infinity) <= at).length, 0),
    gapRatioToL2: l2 === null ? null : { median: ratio(gapMs.median, l2.gapMs.median), p99: ratio(gapMs.p99, l2.gapMs.p99), beyondPauseMedian: ratio(gapBeyondPauseMs.median, l2.gapBeyondPauseMs.median) },
    reconvergenceMs: controllerStats((row) => row.reconvergenceMs),
    releaseMs: controllerStats((row) => row.releaseMs),
    confirmMs: controllerStats((row) => row.confirmMs),
    rounds: withController ? tally(rows.map((row) => (row.rounds === null ? 'none' : String(row.rounds)))) : {},
    reasons: withController ? tally(rows.map((row) => row.reason ?? 'none')) : {},
    triggers: withController ? tally(rows.map((row) => row.trigger ?? 'none')) : {},
    resets: r.resets,
    bytesInOrder: r.streams.length > 0 && r.streams.every((s) => s.inOrder && s.bytesReceived === s.bytesSent && s.bytesSent > 0),
    streams: r.streams.map((s) => ({ from: s.from, bytesSent: s.bytesSent, bytesReceived: s.bytesReceived, inOrder: s.inOrder, survived: s.survived })),
    probes: { total: r.migrations.reduce((n, m) => n + m.probes.length, 0), failed: r.probesFailed, retried: rows.reduce((n, row) => n + row.probesRetried, 0) },
    conflicts, conflictsLogged: r.conflicts,
    perMove: rows,
  };
}

/**
 * The longest interval between deliveries from the last one before `fromMs` up to `untilMs` (the
 * interval measure.ts gapAround reports), with the instant it began (epoch ms); null when nothing came after.
 */
export function longestStall(timeline: Timeline, fromMs: number, untilMs: number): { ms: number; startsAt: number } | null {
  let previous: number | undefined;
  let best: { ms: number; startsAt: number } | null = null;
  for (const [t] of timeline) {
    const atMs = t * 1000;
    if (atMs < fromMs) { previous = atMs; continue; }
    if (atMs > untilMs) break;
    if (previous !== undefined && (best === null || atMs - previous > best.ms)) best = { ms: atMs - previous, startsAt: previous };
    previous = atMs;
  }
  return best;
}

export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;
}

export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/**
 * The sum of a Prometheus counter or gauge over all its label sets, from /metrics text
 * (`name{dpid="..."} 12` and `name 12` lines); 0 when the metric has no sample yet.
 */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue; // another metric with this prefix
    const sample = rest[0] === '{' ? rest.slice(rest.lastIndexOf('}') + 1) : rest;
    const value = Number(sample.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function roundOrNull(v: number | null): number | null {
  return v === null ? null : round(v);
}
