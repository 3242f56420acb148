// `npm run bench`: every benchmark in one run, figures printed, JSON written to results/.
//   npx tsx bench/run.ts [--only codec,controllers,scale,migration] [--runs 5] [--migrations 50]
//                        [--source-macs cycle,random]   (controllers: fixed MACs, and/or cbench's random ones)
//   npm run bench -- hypervisors [bench/hypervisors.ts options]     (sections may be named as words)
// Controllers run pinned to core 0, this process (the switch emulator) to core 1. The Mininet
// migration part runs last, never next to the throughput measurements. The real-QEMU part
// (hypervisors, ~15-20 min) runs only when asked for, under the lab lock:
//   flock /tmp/seamless-lab.lock npm run bench -- hypervisors

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchController, printFigures, type PeerFigures } from './controllers.js';
import { loadAverage, machine } from './machine.js';
import { pinSelf, type PeerName } from './peers.js';
import { RANDOM_POOL_SIZE, type SourceMacs } from './switch-emulator.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const SECTIONS = ['codec', 'controllers', 'scale', 'migration', 'hypervisors'];
const NAMED = process.argv.slice(2).filter((a) => SECTIONS.includes(a));
const ONLY = new Set(NAMED.length > 0 ? NAMED : arg('only', 'codec,controllers,scale,migration').split(','));
const RUNS = Number(arg('runs', '5'));
const RUN_MS = Number(arg('ms', '3000'));
const MIGRATIONS = Number(arg('migrations', '50'));
const SCALE_SWITCHES = arg('scale-switches', '100,1000').split(',').map(Number);
const SCALE_MODES = arg('scale-modes', 'eager,on-demand').split(',') as Array<'eager' | 'on-demand'>;
const SOURCE_MACS = arg('source-macs', 'cycle,random').split(',') as SourceMacs[];
/** Load averages per section, filled as sections start. */
const loads: Record<string, unknown> = { loadAverage: {} };

/** The learner's bounds raised to the random mode's pool, to show what the default bounds do. */
const UNBOUNDED_LEARNER = ['--max-macs-per-port', String(RANDOM_POOL_SIZE), '--max-macs-per-switch', String(RANDOM_POOL_SIZE)];

async function controllers(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const mode of SOURCE_MACS) out[mode] = await controllersWith(mode);
  return out;
}

async function controllersWith(sourceMacs: SourceMacs): Promise<Record<string, unknown>> {
  const what = sourceMacs === 'cycle' ? '1,000 source MACs per switch, cycled' : `a new random source MAC per packet-in (pool of ${RANDOM_POOL_SIZE.toLocaleString('en-US')} per switch)`;
  console.log(`\n== controllers: 16 emulated switches, ${what}; window 64 (throughput) / 1 (latency), median of ${RUNS} runs x ${RUN_MS} ms`);
  load(`controllers-${sourceMacs}`, loads);
  if (sourceMacs === 'random') {
    console.log(`   Seamless runs with its default learner bounds (MACs per port/switch, docs/security.md): past them it answers with a packet-out and learns nothing more;`
      + `\n   the row "learner bounds 100k" passes ${UNBOUNDED_LEARNER.join(' ')}, as a user may, to show the cost of learning every MAC`);
  }
  const base = { switches: 16, window: 64, runs: RUNS, runMs: RUN_MS, warmupMs: 1000, controllerCore: 0, sourceMacs };
  const peers: PeerName[] = ['seamless', 'os-ken', 'ovs-testcontroller'];
  const figures: PeerFigures[] = [];
  for (const peer of peers) {
    const f = await benchController(peer, { ...base, peers, firstDpid: 0x100n, label: peer === 'seamless' ? 'seamless (unmanaged dpids)' : peer });
    printFigures(f);
    figures.push(f);
  }
  const extra = sourceMacs === 'cycle'
    ? await benchController('seamless', { ...base, peers, firstDpid: 1n, label: 'seamless (dpids 1..16, 1..3 edges)' })
    : await benchController('seamless', { ...base, peers, firstDpid: 0x100n, seamlessArgs: UNBOUNDED_LEARNER, label: 'seamless (learner bounds 100k)' });
  printFigures(extra);
  figures.push(extra);
  const [seamless, osken, ovs] = figures;
  const ratios = {
    throughputVsOsken: seamless!.throughput.medianPerSec / osken!.throughput.medianPerSec,
    throughputVsOvsTestcontroller: seamless!.throughput.medianPerSec / ovs!.throughput.medianPerSec,
    latencyP99VsOsken: seamless!.latency.medianP99Ms / osken!.latency.medianP99Ms,
    latencyP99VsOvsTestcontroller: seamless!.latency.medianP99Ms / ovs!.latency.medianP99Ms,
  };
  console.log(`  ratios Seamless/peer (${sourceMacs} MACs): throughput x${ratios.throughputVsOsken.toFixed(2)} os-ken (target >= 5), `
    + `x${ratios.throughputVsOvsTestcontroller.toFixed(2)} ovs-testcontroller (target >= 0.5); `
    + `latency p99 ${seamless!.latency.medianP99Ms.toFixed(3)} ms (target < 1 ms), x${ratios.latencyP99VsOvsTestcontroller.toFixed(2)} ovs-testcontroller's`);
  return { figures, ratios };
}

function codec(): Record<string, unknown> {
  console.log('\n== codec');
  const r = spawnSync('taskset', ['-c', '1', process.execPath, '--import', 'tsx', join(REPO, 'bench', 'codec.ts')], { cwd: REPO, encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  for (const l of lines.slice(0, -1)) console.log(`  ${l}`);
  try {
    return JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
  } catch {
    return { error: r.stderr.slice(-1000) };
  }
}

/** Other work shares this machine: each section records the load average it started under. */
function load(section: string, out: Record<string, unknown>): void {
  const l = loadAverage();
  (out.loadAverage as Record<string, number[]>)[section] = l;
  console.log(`  (load average before ${section}: ${l.join(' ')})`);
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`seamless benchmarks: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, kernel ${m.kernel}`);
  const out: Record<string, unknown> = { generatedAt: new Date().toISOString(), machine: m, loadAverage: loads.loadAverage };
  await pinSelf(1);
  if (ONLY.has('codec')) { load('codec', out); out.codec = codec(); }
  if (ONLY.has('controllers')) out.controllers = await controllers();
  if (ONLY.has('scale')) {
    load('scale', out);
    console.log('\n== scale: emulated edge switches over TCP, one migration, barrier-confirmed');
    const { benchScale, printScale } = await import('./scale.js');
    const scale = await benchScale({ switchCounts: SCALE_SWITCHES, bindingCounts: [10_000, 100_000], modes: SCALE_MODES, log: (t) => console.log(`  ${t}`) });
    printScale(scale);
    out.scale = scale;
  }
  if (ONLY.has('migration')) {
    load('migration', out);
    console.log(`\n== migration in Mininet: ${MIGRATIONS} migrations per scenario, 2 streams of 200 KB/s, pause 100 ms`);
    // Mininet needs both cores; unpin.
    spawnSync('taskset', ['-a', '-cp', '0-1', String(process.pid)]);
    const { benchMigrations, printMigration } = await import('./migration.js');
    const { figures, raw } = await benchMigrations({ migrations: MIGRATIONS, dwellMs: 1500, rate: 200_000, pauseMs: 100, log: (t) => console.log(`  ${t}`) });
    for (const f of figures) printMigration(f);
    const seamless = figures.find((f) => f.scenario === 'seamless-cross-subnet');
    const l2 = figures.find((f) => f.scenario === 'l2-intra-subnet');
    const gapRatio = seamless?.gapMs.median && l2?.gapMs.median ? seamless.gapMs.median / l2.gapMs.median : null;
    console.log(`  cross-subnet gap / intra-subnet gap (medians): ${gapRatio?.toFixed(2) ?? '-'} (target <= 1.1); reconvergence p99 target < 10 ms`);
    out.migration = { figures, gapRatio, perMigration: raw.map((r) => r.migrations.map((x) => ({ to: x.to, gapMs: x.gapMs, reconvergenceMs: x.reconvergenceMs, confirmMs: x.confirmMs, rounds: x.rounds, plannedAhead: x.plannedAhead, reason: x.reason, flowMods: x.flowMods }))) };
  }
  if (ONLY.has('hypervisors')) {
    load('hypervisors', out);
    console.log('\n== real hypervisors: QEMU guests live-migrated in the Mininet lab (issue 8)');
    spawnSync('taskset', ['-a', '-cp', '0-1', String(process.pid)]); // Mininet and QEMU need both cores
    const { benchHypervisors, hypervisorOptions, printHypervisors, writeResults } = await import('./hypervisors.js');
    const options = hypervisorOptions(process.argv.slice(2), false);
    const { results, targets, loadAverage: loads } = await benchHypervisors({ ...options, log: (t) => console.log(`  ${t}`) });
    printHypervisors(results, targets, (t) => console.log(t));
    const file = writeResults({ generatedAt: new Date().toISOString(), machine: m, options, loadAverage: loads, results, targets });
    console.log(`  hypervisors results: ${file}`);
    out.hypervisors = { results, targets, loadAverage: loads, file };
  }
  const dir = join(REPO, 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 1));
  console.log(`\nresults: ${path}`);
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
