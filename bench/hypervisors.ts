// Issue 8's "done when" figures in one run, with real QEMU guests live-migrated over QMP in the
// Mininet reference lab (docs/qemu-lab.md), Seamless next to plain L2 switches:
//   l2        plain L2 (OVS NORMAL, no controller): moves s1:10 <-> s1:11, 2 TCP streams into the VM
//   intra     Seamless, the same intra-subnet moves and streams
//   cross     Seamless, A -> B -> C -> A rounds, streams, probes from every peer after every move
//   linger    cross, with the paused source kept attached for seconds (QemuVm.migrate lingerMs)
//   no-ovsdb  cross, with the controller's OVSDB watch off (moves verified by the ARP probe)
//   idle      packet-ins per second while the VM is away (in B) and idle
//   gateways  ping and TCP between the moved VM and every router address, both ways
//   hijack    another edge claims the VM's MAC (RARP) and EID (GARP) while it answers at home
//   ipv6      (emulated VM) IPv6-on hosts learned; a return home announced by GARP vs by RARP
// Prints JSON lines and tables, writes results/hypervisors-<time>.json. Starts Mininet and QEMU:
//   flock /tmp/seamless-lab.lock npx tsx bench/hypervisors.ts [--scenarios l2,cross,...] [--rounds 2] ...
//   flock /tmp/seamless-lab.lock npm run bench -- hypervisors [same options]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runMoves, startLab, warmUp, type Lab, type LabOptions, type ScenarioSpec } from '../topologies/case-study/experiment.js';
import {
  announceDetection, bindingsOf, conflictsTotal, gatewayReachability, hijackAttempt, idlePacketIns, ipv6HostsLearned, moveVm, sleep,
} from './hypervisor-checks.js';
import { movesFigures, type MovesFigures } from './hypervisor-figures.js';
import {
  checkLines, jsonLines, MOVE_SCENARIOS, movesTable, perMoveTable, SECTIONS, targets, targetTable,
  type HypervisorResults, type MoveScenario, type Section, type Target,
} from './hypervisor-report.js';
import { loadAverage, machine } from './machine.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const SENDERS = ['cnB', 'ext'];

export interface HypervisorBenchOptions {
  readonly sections: readonly Section[];
  /** Moves of the intra-subnet scenarios (plain L2 and Seamless). */
  readonly intraMoves: number;
  /** A -> B -> C -> A rounds (3 moves each) of each cross-subnet scenario. */
  readonly rounds: number;
  readonly dwellMs: number;
  /** Bytes per second of each of the two streams. */
  readonly rate: number;
  /** How long the paused source stays attached in the 'linger' scenario. */
  readonly lingerMs: number;
  readonly idleSeconds: number;
  /** Returns home per announce kind (GARP only, RARP only) in the IPv6 lab. */
  readonly announceSamples: number;
  readonly announceDwellMs: number;
  readonly log: (text: string) => void;
}

const DEFAULTS: Omit<HypervisorBenchOptions, 'log'> = {
  sections: SECTIONS, intraMoves: 12, rounds: 4, dwellMs: 4000, rate: 200_000, lingerMs: 5000, idleSeconds: 10, announceSamples: 5, announceDwellMs: 2000,
};

/** Options from a command line; `strict` false ignores flags that are not ours (bench/run.ts passes its own through). */
export function hypervisorOptions(argv: readonly string[], strict = true): Omit<HypervisorBenchOptions, 'log'> {
  const flags = ['scenarios', 'intra-moves', 'rounds', 'dwell-ms', 'rate', 'linger-ms', 'idle-s', 'announce-samples', 'announce-dwell-ms'] as const;
  const { values } = parseArgs({ args: [...argv], strict, allowPositionals: true, options: Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }])) });
  const number = (name: (typeof flags)[number], fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got ${String(raw)}`);
    return n;
  };
  const raw = values.scenarios;
  const sections = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : [...DEFAULTS.sections];
  const unknown = sections.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`--scenarios: unknown ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
  return {
    sections: sections as Section[],
    intraMoves: number('intra-moves', DEFAULTS.intraMoves, 1, 100),
    rounds: number('rounds', DEFAULTS.rounds, 1, 30),
    dwellMs: number('dwell-ms', DEFAULTS.dwellMs, 1000, 60_000),
    rate: number('rate', DEFAULTS.rate, 1000, 10_000_000),
    lingerMs: number('linger-ms', DEFAULTS.lingerMs, 0, 60_000),
    idleSeconds: number('idle-s', DEFAULTS.idleSeconds, 1, 600),
    announceSamples: number('announce-samples', DEFAULTS.announceSamples, 1, 50),
    announceDwellMs: number('announce-dwell-ms', DEFAULTS.announceDwellMs, 500, 60_000),
  };
}

function moveSpecs(o: HypervisorBenchOptions): Record<MoveScenario, ScenarioSpec> {
  const common = { senders: SENDERS, rate: o.rate, dwellMs: o.dwellMs, pauseMs: 100 };
  const intra = Array.from({ length: o.intraMoves }, (_, i) => ({ toSwitch: 's1', toPort: i % 2 === 0 ? 11 : 10 }));
  const cross = (lingerMs?: number) => Array.from({ length: o.rounds * 3 }, (_, i) => ({ toSwitch: ['s2', 's3', 's1'][i % 3]!, ...(lingerMs !== undefined ? { lingerMs } : {}) }));
  return {
    l2: { name: 'plain-l2-intra-subnet', description: 'OVS NORMAL, no controller: s1:10 <-> s1:11', rewrite: false, moves: intra, probes: false, ...common },
    intra: { name: 'seamless-intra-subnet', description: 'Seamless: s1:10 <-> s1:11', rewrite: true, moves: intra, probes: false, ...common },
    cross: { name: 'seamless-cross-subnet', description: 'Seamless: A -> B -> C -> A, default linger (1 s), OVSDB on', rewrite: true, moves: cross(), probes: true, ...common },
    linger: { name: 'seamless-cross-subnet-linger', description: `Seamless: A -> B -> C -> A, the paused source attached for ${o.lingerMs} ms`, rewrite: true, moves: cross(o.lingerMs), probes: true, ...common },
    'no-ovsdb': { name: 'seamless-cross-subnet-no-ovsdb', description: 'Seamless with --ovsdb off: A -> B -> C -> A, moves verified by the ARP probe', rewrite: true, moves: cross(), probes: true, ...common },
  };
}

interface Run {
  readonly o: HypervisorBenchOptions;
  readonly results: { -readonly [K in keyof HypervisorResults]: HypervisorResults[K] };
  readonly loadAverage: Record<string, number[]>;
}

export async function benchHypervisors(o: HypervisorBenchOptions): Promise<{ results: HypervisorResults; targets: Target[]; loadAverage: Record<string, number[]> }> {
  const run: Run = { o, results: { moves: {}, errors: {} }, loadAverage: {} };
  const wants = (...s: Section[]) => s.some((x) => o.sections.includes(x));
  // The reference first: every gap ratio is to this run's plain-L2 gap.
  if (wants('l2')) await inLab(run, ['l2'], { controller: 'none', vm: 'qemu' }, (lab) => moves(run, lab, 'l2'));
  if (wants('intra', 'cross', 'linger', 'idle', 'gateways', 'hijack')) {
    await inLab(run, ['intra', 'cross', 'linger', 'idle', 'gateways', 'hijack'], { controller: 'seamless', vm: 'qemu' }, (lab) => seamlessLab(run, lab));
  }
  if (wants('no-ovsdb')) await inLab(run, ['no-ovsdb'], { controller: 'seamless', controllerArgs: ['--ovsdb', 'off'], vm: 'qemu' }, (lab) => moves(run, lab, 'no-ovsdb'));
  if (wants('ipv6')) await inLab(run, ['ipv6'], { controller: 'seamless', vm: 'mininet' }, (lab) => ipv6Lab(run, lab), false);
  return { results: run.results, targets: targets(run.results), loadAverage: run.loadAverage };
}

/** One lab for `sections`; a failure is recorded against those of them not measured yet, and the run goes on. */
async function inLab(run: Run, sections: readonly Section[], options: LabOptions, body: (lab: Lab) => Promise<void>, warm = true): Promise<void> {
  const { o } = run;
  const started = Date.now();
  let lab: Lab | undefined;
  try {
    o.log(`lab: ${options.controller === 'none' ? 'no controller (OVS NORMAL)' : `Seamless ${(options.controllerArgs ?? []).join(' ')}`.trim()}, ${options.vm === 'qemu' ? 'QEMU guest' : 'emulated VM'} (load ${loadAverage().join(' ')})`);
    lab = await startLab({ ...options, log: (t) => o.log(`  ${t}`) });
    if (warm) await warmUp(lab.net, SENDERS);
    await body(lab);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    o.log(`  FAILED: ${(error as Error).stack ?? message}`);
    for (const s of sections) if (o.sections.includes(s) && !measured(run, s)) run.results.errors[s] = message.slice(0, 500);
  } finally {
    await lab?.stop();
    o.log(`  (lab done in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
}

function measured(run: Run, s: Section): boolean {
  const r = run.results;
  return (MOVE_SCENARIOS as readonly string[]).includes(s) ? r.moves[s as MoveScenario] !== undefined : r[s as 'idle' | 'hijack' | 'ipv6' | 'gateways'] !== undefined;
}

async function moves(run: Run, lab: Lab, key: MoveScenario): Promise<void> {
  const spec = moveSpecs(run.o)[key];
  run.loadAverage[key] = loadAverage();
  run.o.log(`${key}: ${spec.description}, ${spec.moves.length} moves (load ${run.loadAverage[key]!.join(' ')})`);
  const conflictsBefore = lab.ctl ? await conflictsTotal(lab.ctl) : null;
  const result = await runMoves(spec, lab, (t) => run.o.log(`  ${t}`));
  const conflicts = lab.ctl && conflictsBefore !== null ? (await conflictsTotal(lab.ctl)) - conflictsBefore : null;
  const l2 = key === 'l2' ? null : run.results.moves.l2 ?? null;
  run.results.moves[key] = movesFigures(result, lab.ctl !== undefined, conflicts, l2);
}

async function seamlessLab(run: Run, lab: Lab): Promise<void> {
  const { o } = run;
  const wants = (s: Section) => o.sections.includes(s);
  run.results.qemuLearned = await bindingsOf(lab.ctl!);
  for (const key of ['intra', 'cross', 'linger'] as const) if (wants(key)) await moves(run, lab, key);
  if (wants('idle') || wants('gateways')) {
    await awayInB(run, lab);
    if (wants('idle')) {
      run.loadAverage.idle = loadAverage();
      run.results.idle = { ...(await idlePacketIns(lab, o.idleSeconds)), vmAt: 's2:10' };
      o.log(`idle: ${run.results.idle.perSecond} packet-ins/s over ${run.results.idle.seconds} s`);
    }
    if (wants('gateways')) {
      run.loadAverage.gateways = loadAverage();
      run.results.gateways = await gatewayReachability(lab);
      o.log(`gateways: ${run.results.gateways.probes.filter((p) => p.ok).length}/${run.results.gateways.probes.length} passed`);
    }
  }
  if (wants('hijack')) {
    const at = await lab.vm.attachment();
    if (at.bridge !== lab.net.bridge('s1') || at.port !== 10) {
      o.log('hijack: the VM returns home first');
      await moveVm(lab, 's1', 10);
      await lab.vm.settled();
      await sleep(2000);
    }
    run.loadAverage.hijack = loadAverage();
    run.results.hijack = await hijackAttempt(lab);
    o.log(`hijack: ${run.results.hijack.conflicts} conflicts, binding ${run.results.hijack.bindingUnchanged ? 'unchanged' : 'CHANGED'}`);
  }
}

/** The VM away in subnet B, its old port gone and its announcements over: the state 'idle' and 'gateways' measure. */
async function awayInB(run: Run, lab: Lab): Promise<void> {
  const at = await lab.vm.attachment();
  if (at.bridge !== lab.net.bridge('s2')) {
    const { record } = await moveVm(lab, 's2', 10);
    run.o.log(`the VM moves to B for the idle and gateway checks (${record ? `${String(record.reason)}, reconvergence ${String(record.reconvergenceMs)} ms` : 'NO MOVE RECORDED'})`);
  }
  await lab.vm.settled();
  await sleep(3000); // QEMU's RARP rounds and the guest's gratuitous ARPs are over
}

async function ipv6Lab(run: Run, lab: Lab): Promise<void> {
  run.loadAverage.ipv6 = loadAverage();
  // No IPv4 yet: every host sends IPv6 first, then the usual warm-up.
  const learned = await ipv6HostsLearned(lab, () => warmUp(lab.net, SENDERS));
  run.o.log(`ipv6: learned ${Object.entries(learned.learned).filter(([, b]) => b).map(([h]) => h).join(', ')}`);
  const announce = await announceDetection(lab, run.o.announceSamples, run.o.announceDwellMs, (t) => run.o.log(`  ${t}`));
  run.results.ipv6 = { learned, announce };
}

export function printHypervisors(r: HypervisorResults, ts: readonly Target[], log: (t: string) => void): void {
  log('');
  for (const line of jsonLines(r)) log(line);
  log('');
  for (const line of movesTable(r)) log(line);
  for (const key of MOVE_SCENARIOS) {
    const f: MovesFigures | undefined = r.moves[key];
    if (!f) continue;
    log(`\n${f.scenario} (${f.description}), per move:`);
    for (const line of perMoveTable(f)) log(line);
  }
  log('');
  for (const line of checkLines(r)) log(line);
  log('');
  for (const line of targetTable(ts)) log(line);
}

export function writeResults(out: Record<string, unknown>): string {
  const dir = join(REPO, 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `hypervisors-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, JSON.stringify(out, null, 1));
  return path;
}

async function main(): Promise<void> {
  let options: Omit<HypervisorBenchOptions, 'log'>;
  try {
    options = hypervisorOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench hypervisors: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const log = (t: string) => process.stdout.write(`${t}\n`);
  const m = machine();
  const startedAt = new Date();
  log(`seamless hypervisors bench: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, kernel ${m.kernel}, load ${loadAverage().join(' ')}`);
  const { results, targets: ts, loadAverage: loads } = await benchHypervisors({ ...options, log });
  printHypervisors(results, ts, log);
  const path = writeResults({ generatedAt: startedAt.toISOString(), durationS: Math.round((Date.now() - startedAt.getTime()) / 1000), machine: m, options, loadAverage: loads, results, targets: ts });
  log(`\nresults: ${path}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`bench hypervisors failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
