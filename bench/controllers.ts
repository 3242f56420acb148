// Controller throughput and latency, Seamless next to its peers, with the same switch emulator
// in the same run. Each controller runs alone on core 0, the emulator on core 1. For each
// controller: connect N switches, then `runs` throughput measurements (a window of outstanding
// packet-ins per switch) and `runs` latency measurements (one outstanding per switch). The
// switches send either a fixed set of source MACs or, cbench's worst case, a fresh random one
// per packet-in.

import { startPeer, type PeerName } from './peers.js';
import {
  connectSwitches, DEFAULT_EMULATOR, measure, median, RANDOM_POOL_SIZE, type EmulatedSwitch, type LoadResult, type SourceMacs,
} from './switch-emulator.js';

export interface ControllerBenchOptions {
  readonly peers: readonly PeerName[];
  readonly switches: number;
  readonly window: number;
  readonly runs: number;
  readonly runMs: number;
  readonly warmupMs: number;
  /** First dpid of the emulated switches (0x100: unmanaged learning switches; 1: dpids 1..3 are edges). */
  readonly firstDpid: bigint;
  readonly controllerCore: number;
  readonly cpuProfDir?: string;
  readonly label?: string;
  /** cycle (default): 1,000 MACs per switch, soon all known; random: a new random MAC per packet-in from 100,000 per switch. */
  readonly sourceMacs?: SourceMacs;
  /** Extra flags for Seamless (e.g. its learner's bounds). */
  readonly seamlessArgs?: readonly string[];
}

export interface PeerFigures {
  readonly peer: PeerName;
  readonly label: string;
  readonly throughput: { readonly medianPerSec: number; readonly runs: readonly LoadResult[] };
  readonly latency: { readonly medianP50Ms: number; readonly medianP99Ms: number; readonly runs: readonly LoadResult[] };
  /** The controller's last output lines when a run lost packet-ins (re-sent after 2 s of silence). */
  readonly outputOnLoss?: readonly string[];
  /** Seamless: MACs its learner did not learn because a bound was reached (seamless_learner_refused_total at the end). */
  readonly learnerRefused?: number;
}

export async function benchController(peer: PeerName, o: ControllerBenchOptions): Promise<PeerFigures> {
  const proc = await startPeer(peer, {
    core: o.controllerCore,
    ...(o.cpuProfDir === undefined ? {} : { cpuProfDir: o.cpuProfDir }),
    ...(o.seamlessArgs === undefined ? {} : { seamlessArgs: o.seamlessArgs }),
  });
  const sourceMacs = o.sourceMacs ?? 'cycle';
  const switches = await connectSwitches({
    ...DEFAULT_EMULATOR, host: '127.0.0.1', port: proc.port, switches: o.switches, firstDpid: o.firstDpid, sourceMacs,
    macsPerSwitch: sourceMacs === 'random' ? RANDOM_POOL_SIZE : DEFAULT_EMULATOR.macsPerSwitch,
  });
  try {
    // Let the controller finish its own start-of-session work (table-miss rules, resync).
    await new Promise((r) => setTimeout(r, 500));
    const throughput: LoadResult[] = [];
    const latency: LoadResult[] = [];
    for (let r = 0; r < o.runs; r++) throughput.push(await throughputRun(switches, o));
    for (let r = 0; r < o.runs; r++) latency.push(await latencyRun(switches, o));
    const lost = [...throughput, ...latency].some((r) => r.retries > 0);
    const learnerRefused = proc.httpPort === undefined ? undefined : await scrapeCounter(proc.httpPort, 'seamless_learner_refused_total');
    return {
      peer, label: o.label ?? peer,
      ...(lost ? { outputOnLoss: proc.output.slice(-20) } : {}),
      ...(learnerRefused === undefined ? {} : { learnerRefused }),
      ...medians(throughput, latency),
    };
  } finally {
    for (const s of switches) s.close();
    await proc.stop();
  }
}

type RunOptions = Pick<ControllerBenchOptions, 'window' | 'runMs' | 'warmupMs'>;

/** One throughput measurement: a window of packet-ins outstanding per switch. */
export function throughputRun(switches: readonly EmulatedSwitch[], o: RunOptions): Promise<LoadResult> {
  return measure(switches, o.window, o.warmupMs, o.runMs);
}

/** One latency measurement: one packet-in outstanding per switch, round trips timed. */
export function latencyRun(switches: readonly EmulatedSwitch[], o: RunOptions): Promise<LoadResult> {
  return measure(switches, 1, o.warmupMs / 2, o.runMs);
}

/** The medians of throughput and latency runs. */
export function medians(throughput: readonly LoadResult[], latency: readonly LoadResult[]): Pick<PeerFigures, 'throughput' | 'latency'> {
  return {
    throughput: { medianPerSec: median(throughput.map((t) => t.responsesPerSec)), runs: throughput },
    latency: { medianP50Ms: median(latency.map((l) => l.p50Ms!)), medianP99Ms: median(latency.map((l) => l.p99Ms!)), runs: latency },
  };
}

export function printFigures(f: PeerFigures): void {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const t = f.throughput.runs.map((r) => fmt(r.responsesPerSec)).join(', ');
  const retries = f.throughput.runs.reduce((s, r) => s + r.retries, 0) + f.latency.runs.reduce((s, r) => s + r.retries, 0);
  const unmatched = f.throughput.runs.reduce((s, r) => s + r.unmatched, 0) + f.latency.runs.reduce((s, r) => s + r.unmatched, 0);
  const fm = median(f.throughput.runs.map((r) => r.flowModsPerSec));
  console.log(`  ${f.label.padEnd(28)} throughput ${fmt(f.throughput.medianPerSec).padStart(8)} responses/s (runs: ${t}; flow-mods ${fmt(fm)}/s)`
    + `  latency p50 ${f.latency.medianP50Ms.toFixed(3)} ms p99 ${f.latency.medianP99Ms.toFixed(3)} ms${retries > 0 ? `  (${retries} unanswered re-sent)` : ''}${unmatched > 0 ? `  (${unmatched} unmatched packet-outs)` : ''}`
    + (f.learnerRefused ? `  (learner bound reached: ${fmt(f.learnerRefused)} MACs not learned)` : ''));
  for (const line of f.outputOnLoss ?? []) console.log(`      ${f.peer}: ${line}`);
}

/** A counter from Seamless's /metrics, summed over its labels; undefined when it cannot be read. */
export async function scrapeCounter(httpPort: number, name: string): Promise<number | undefined> {
  try {
    const page = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const values = [...page.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}
