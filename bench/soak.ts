// Soak benchmark (issue 9): a mixed hostile load for N minutes against a real controller process
// beside the case study's Mininet lab (three Open vSwitch bridges, the router, the correspondents),
// while the emulated VM migrates A -> B -> C -> A every `--dwell` seconds with two TCP streams into
// it. Prints what was sent (by kind), whether the controller stayed up and counted no unexpected
// error, the latency a well-behaved canary switch saw (handshake, packet-in round trip), the
// controller's RSS over the run, and each migration with its reconvergence and gap. A benchmark,
// not a test: it prints figures and the targets they are judged by (issue 9), and exits 1 only
// when the run itself could not be made.
//
//   flock /tmp/seamless-lab.lock npx tsx bench/soak.ts [--minutes 10] [--dwell 20] [--seed 1] [--json FILE] [--baseline] [--controller-log FILE]
// --baseline: no hostile load, the canary and the migrations alone (what the attack is compared with).

import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { LogLine } from '../topologies/case-study/controller-process.js';
import { runMoves, startLab, warmUp, type Lab, type ScenarioResult, type ScenarioSpec } from '../topologies/case-study/experiment.js';
import { metricSum } from './hypervisor-figures.js';
import { sleep } from './switch-emulator.js';
import {
  duplicateDpids, endlessMultipart, fuzzInMain, garbageConnections, macFlood, nonReaders, tricklers, type Attack, type AttackContext,
} from './soak/attacks.js';
import { runCanary, type CanaryFigures } from './soak/canary.js';
import { mb, ms, summarize, summarizeRss, Tally, vmRssBytes, type RssSample } from './soak/figures.js';
import { badHttp, sseNonReaders } from './soak/http-attacks.js';
import { seededRandom } from './soak/mutate.js';

/** Counters of the bounds (docs/security.md) and of the unexpected, read from /metrics before and after. */
const COUNTERS = [
  'seamless_unexpected_errors_total',
  'seamless_openflow_handshake_timeouts_total', 'seamless_openflow_connections_refused_total', 'seamless_openflow_output_queue_overflows_total',
  'seamless_openflow_multipart_limit_total', 'seamless_openflow_early_messages_dropped_total', 'seamless_openflow_duplicate_dpid_total',
  'seamless_openflow_undecodable_messages_total', 'seamless_openflow_log_lines_suppressed_total',
  'seamless_openflow_unsolicited_errors_total', 'seamless_sse_clients_refused_total', 'seamless_sse_clients_dropped_total',
  'seamless_learner_refused_total', 'seamless_claims_limited_total', 'seamless_malformed_frames_total',
];

const ATTACKS: Record<string, Attack> = {
  'garbage connections': garbageConnections,
  'fuzzing switches in MAIN': fuzzInMain,
  'non-reading peers': nonReaders,
  'trickling pre-HELLO peers': tricklers(200),
  'endless multipart replies': endlessMultipart,
  'MAC flood': macFlood,
  'duplicate datapath ids': duplicateDpids,
  'bad HTTP requests': badHttp,
  'event-stream clients that never read': sseNonReaders(150),
};

/** Seconds between two RSS samples of the controller. */
const RSS_EVERY_S = 3;

interface SoakOptions {
  readonly minutes: number;
  readonly dwellS: number;
  readonly seed: number;
  /** The canary and the migrations alone, no hostile load: the same lab's figures to compare with. */
  readonly baseline: boolean;
  /** Where to write the controller's whole log (JSON lines) at the end. */
  readonly controllerLog?: string;
}

function soakSpec(o: SoakOptions): ScenarioSpec {
  const moves = Math.max(3, Math.round((o.minutes * 60) / o.dwellS));
  const cycle = ['s2', 's3', 's1'];
  return {
    name: 'soak', description: `A -> B -> C -> A every ${o.dwellS} s under a hostile load`, rewrite: true,
    moves: Array.from({ length: moves }, (_, i) => ({ toSwitch: cycle[i % 3]! })),
    senders: ['cnB', 'ext'], rate: 200_000, dwellMs: o.dwellS * 1000, pauseMs: 100, probes: false,
  };
}

async function metricsText(lab: Lab): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${lab.ctl!.httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return await r.text();
  } catch {
    return undefined;
  }
}

/** RSS of `pid` every `everyMs` until stopped; also whether the process is still there. */
function sampleRss(pid: number, everyMs: number, samples: RssSample[], stopped: () => boolean): Promise<void> {
  const started = performance.now();
  return (async () => {
    while (!stopped()) {
      let bytes: number | undefined;
      try { bytes = vmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { bytes = undefined; }
      if (bytes === undefined) return;
      samples.push({ atS: (performance.now() - started) / 1000, bytes });
      await sleep(everyMs);
    }
  })();
}

async function soak(o: SoakOptions, say: (t: string) => void): Promise<Record<string, unknown>> {
  const lab = await startLab({ controller: 'seamless', log: say });
  try {
    const ctl = lab.ctl!;
    const pid = ctl.pid!;
    say(`controller pid ${pid}, OpenFlow ${ctl.openflowPort}, HTTP ${ctl.httpPort}`);
    const spec = soakSpec(o);
    await warmUp(lab.net, spec.senders);
    const before = await metricsText(lab);
    const rss: RssSample[] = [];
    let done = false;
    const stopped = () => done;
    const sampler = sampleRss(pid, RSS_EVERY_S * 1000, rss, stopped);
    await sleep(RSS_EVERY_S * 2000 + 500); // the idle figure: three samples before any attack
    const attackFromS = rss.at(-1)?.atS ?? 0;
    const tally = new Tally();
    const ctx: AttackContext = {
      openflowPort: ctl.openflowPort, httpPort: ctl.httpPort, realDpids: Object.values(lab.net.topology.switches).map((s) => BigInt(`0x${s.dpid}`)),
      tally, rand: seededRandom(o.seed), stopped,
    };
    const canary: CanaryFigures = { handshakeMs: [], rttMs: [], handshakesFailed: 0, retries: 0 };
    const started = Date.now();
    // The canary shares this process with the attackers: its figures include this loop's delays.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const logMark = ctl.lines.length;
    const attacks = Object.entries(o.baseline ? {} : ATTACKS).map(([name, attack]) => attack(ctx).catch((e: Error) => { tally.add(`ATTACK FAILED: ${name}: ${e.message}`); }));
    const canaryRun = runCanary(ctx, 4000, canary);
    say(`${o.baseline ? 'baseline (canary only)' : `attack started: ${Object.keys(ATTACKS).join(', ')}`}; ${spec.moves.length} migrations, one every ${o.dwellS} s`);
    let result: ScenarioResult | undefined;
    let movesError: string | undefined;
    try {
      result = await runMoves(spec, lab, say);
    } catch (error) {
      movesError = (error as Error).message;
    }
    done = true;
    await Promise.all([...attacks, canaryRun, sampler]);
    const attackS = (Date.now() - started) / 1000;
    loopDelay.disable();
    const benchLoop = { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };
    await sleep(3000); // let the last closes land before the final counters
    const alive = ctl.exitCode === null && existsProcess(pid);
    if (o.controllerLog !== undefined) writeFileSync(o.controllerLog, ctl.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const after = alive ? await metricsText(lab) : undefined;
    return report({ o, spec, attackFromS, benchLoop, tally, canary, rss, before, after, alive, result, movesError, attackS, log: logVolume(ctl.lines.slice(logMark)), fatal: ctl.lines.filter((l) => l.level === 'fatal' || /unhandled|uncaught/.test(l.msg)).map((l) => `${l.msg}: ${String(l.error)}`) });
  } finally {
    await lab.stop();
  }
}

interface LogVolume { readonly lines: number; readonly bytes: number; readonly top: [string, number][] }

/** What the controller logged during the attack: a peer must not be able to flood the log (issue 9 row 10). */
function logVolume(lines: readonly LogLine[]): LogVolume {
  const byMsg = new Tally();
  let bytes = 0;
  for (const l of lines) {
    byMsg.add(`${l.level} ${l.msg}`);
    bytes += JSON.stringify(l).length + 1;
  }
  return { lines: lines.length, bytes, top: byMsg.entries().sort((a, b) => b[1] - a[1]).slice(0, 6) };
}

function existsProcess(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

interface RunRecord {
  readonly o: SoakOptions;
  readonly spec: ScenarioSpec;
  readonly tally: Tally;
  readonly canary: CanaryFigures;
  readonly rss: RssSample[];
  /** Sampler time at which the attack began (the samples before are the idle baseline). */
  readonly attackFromS: number;
  /** This process's event-loop delay during the run (the canary's own share of its latency). */
  readonly benchLoop: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly before: string | undefined;
  readonly after: string | undefined;
  readonly alive: boolean;
  readonly result: ScenarioResult | undefined;
  readonly movesError: string | undefined;
  readonly attackS: number;
  readonly log: LogVolume;
  readonly fatal: string[];
}

function report(r: RunRecord): Record<string, unknown> {
  const out = (t: string) => console.log(t);
  out(r.o.baseline ? `\nSoak baseline: ${r.attackS.toFixed(0)} s, the canary and the migrations alone` : `\nSoak: ${r.attackS.toFixed(0)} s of hostile load, seed ${r.o.seed}`);
  out(`  sent (by kind), ${r.tally.total.toLocaleString('en')} in all:`);
  for (const [kind, n] of r.tally.entries()) out(`    ${kind.padEnd(52)} ${n.toLocaleString('en')}`);

  const counters = Object.fromEntries(COUNTERS.map((name) => [name, r.after === undefined || r.before === undefined ? null : metricSum(r.after, name) - metricSum(r.before, name)]));
  const unexpected = counters.seamless_unexpected_errors_total;
  out(`  controller: ${r.alive ? 'alive' : 'DEAD'} at the end (crashes ${r.alive ? 0 : 1}; target 0), unexpected errors ${unexpected ?? 'unknown'} (target 0)${r.fatal.length ? `; log: ${r.fatal.slice(0, 3).join(' | ')}` : ''}`);
  out('  bounds that bit during the run (counter deltas):');
  for (const [name, v] of Object.entries(counters)) if (name !== 'seamless_unexpected_errors_total') out(`    ${name.padEnd(52)} ${v ?? '-'}`);

  const perMin = (n: number) => Math.round(n / (r.attackS / 60));
  out(`  controller log during the attack: ${r.log.lines.toLocaleString('en')} lines (${perMin(r.log.lines)} a minute, ${mb(r.log.bytes)} MB); most frequent:`);
  for (const [msg, n] of r.log.top) out(`    ${msg.slice(0, 70).padEnd(72)} ${n.toLocaleString('en')}`);

  const hs = summarize(r.canary.handshakeMs);
  const rtt = summarize(r.canary.rttMs);
  out(`  canary handshake: p50 ${ms(hs.p50Ms)} ms, p99 ${ms(hs.p99Ms)} ms, max ${ms(hs.maxMs)} ms (${hs.samples} handshakes, ${r.canary.handshakesFailed} failed)`);
  out(`  the bench's own event-loop delay (included in the canary's figures): p50 ${ms(r.benchLoop.p50Ms)} ms, p99 ${ms(r.benchLoop.p99Ms)} ms, max ${ms(r.benchLoop.maxMs)} ms`);
  out(`  canary packet-in round trip: p50 ${ms(rtt.p50Ms)} ms, p99 ${ms(rtt.p99Ms)} ms, max ${ms(rtt.maxMs)} ms (${rtt.samples} answered, ${r.canary.retries} re-sent after 2 s)`);

  // Idle: before the attack. Start: its first minute behind it (every attacker has its sockets
  // and the canary has run); the target compares that with the end: growth, not working set.
  const idle = r.rss.filter((s) => s.atS <= r.attackFromS);
  const warm = r.rss.filter((s) => s.atS >= r.attackFromS + Math.min(60, r.attackS / 4));
  const perMinute = Math.max(3, Math.round(60 / RSS_EVERY_S));
  const mem = warm.length > 0 ? summarizeRss(warm, 0.1, Math.min(perMinute, Math.ceil(warm.length / 3))) : undefined;
  const idleMb = idle.length > 0 ? mb(summarizeRss(idle).endBytes) : '-';
  if (mem) out(`  controller RSS: idle ${idleMb} MB; under attack start ${mb(mem.startBytes)} MB, end ${mb(mem.endBytes)} MB (medians of the first and last ${Math.min(perMinute, Math.ceil(warm.length / 3))} samples: ${(mem.growth * 100).toFixed(1)}%; target within 10%: ${mem.flat ? 'met' : 'MISSED'}), max ${mb(mem.maxBytes)} MB; ${r.rss.length} samples every ${RSS_EVERY_S} s`);

  const res = r.result;
  if (res === undefined) {
    out(`  migrations: the run broke off: ${r.movesError}`);
  } else {
    const completed = res.migrations.filter((m) => m.reconvergenceMs !== null).length;
    out(`  migrations: ${completed} of ${r.spec.moves.length} completed (target: all); streams ${res.survived ? 'survived' : 'BROKE'}: ${res.streams.map((s) => `${s.from} ${s.bytesReceived}/${s.bytesSent} bytes${s.survived ? '' : ` (${s.senderError ?? s.receiverError ?? 'out of order'})`}`).join(', ')}; resets ${res.resets}`);
    // A move's gap is the worse of the two streams' (as in bench/migration.ts).
    const rec = summarize(res.migrations.flatMap((m) => (m.reconvergenceMs === null ? [] : [m.reconvergenceMs])));
    const gap = summarize(res.migrations.map((m) => Math.max(...Object.values(m.gapMs).map((g) => g ?? Number.POSITIVE_INFINITY))));
    out(`  reconvergence median ${ms(rec.p50Ms)} ms, p99 ${ms(rec.p99Ms)} ms; gap (worse stream) median ${ms(gap.p50Ms)} ms, p99 ${ms(gap.p99Ms)} ms`);
    for (const m of res.migrations) {
      const gaps = Object.entries(m.gapMs).map(([h, g]) => `${h} ${g ?? '-'}`).join(', ');
      out(`    ${String(m.index).padStart(2)} ${m.from} -> ${m.to}: reconvergence ${m.reconvergenceMs === null ? 'NONE' : ms(m.reconvergenceMs)} ms (${m.reason ?? '-'}), gap ${gaps} ms, pause ${m.times.pauseMs.toFixed(0)} ms`);
    }
  }
  return {
    generatedAt: new Date().toISOString(), options: r.o, attackS: r.attackS, log: r.log, sent: Object.fromEntries(r.tally.entries()), alive: r.alive, counters,
    benchLoop: r.benchLoop, canary: { handshake: hs, rtt, failed: r.canary.handshakesFailed, retries: r.canary.retries }, rss: { idleMb, summary: mem, samples: r.rss },
    migrations: res?.migrations.map((m) => ({ index: m.index, from: m.from, to: m.to, reconvergenceMs: m.reconvergenceMs, reason: m.reason, gapMs: m.gapMs, pauseMs: m.times.pauseMs })) ?? null,
    survived: res?.survived ?? false, movesError: r.movesError ?? null,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    minutes: { type: 'string', default: '10' }, dwell: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, json: { type: 'string' }, baseline: { type: 'boolean', default: false },
    'controller-log': { type: 'string' },
  } });
  const o: SoakOptions = {
    minutes: Number(values.minutes), dwellS: Number(values.dwell), seed: Number(values.seed), baseline: values.baseline,
    ...(values['controller-log'] === undefined ? {} : { controllerLog: values['controller-log'] }),
  };
  if (!(o.minutes > 0) || !(o.dwellS >= 5) || !Number.isInteger(o.seed)) {
    process.stderr.write('usage: flock /tmp/seamless-lab.lock npx tsx bench/soak.ts [--minutes 10] [--dwell 20] [--seed 1] [--json FILE] [--baseline] [--controller-log FILE]\n');
    process.exit(2);
  }
  const t0 = Date.now();
  const say = (t: string) => console.log(`  [${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${t}`);
  const figures = await soak(o, say);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(figures, null, 1));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (error: unknown) => { console.error(error); process.exit(1); });
}
