// Packet-in throughput of a cluster against one replica (issue 11's last benchmark), in one run,
// with the same emulated switches (bench/switch-emulator.ts; dpids from 0x100, no edge of the
// configured subnets, so every packet-in takes the learning path) and the same load:
//   - 1 Seamless replica with its file store, as bench/controllers.ts runs it;
//   - 1 replica with `--store etcd` on a 3-member etcd: the cluster code path, nobody to share with;
//   - 3 replicas with `--store etcd`: every switch connected to all three (as OVS with three
//     controller targets), one master per switch elected through etcd, packet-ins to the master
//     only (OpenFlow roles, bench/controller-roles.ts);
//   - and, to tell the cluster's cost from that of three processes on one core, 3 replicas with
//     their file stores and no cluster, each switch connected to one of them.
// All run side by side, each with its own switches (the idle ones cost next to nothing), and
// their runs take turns, so that load from elsewhere on a shared machine falls on all alike.
// Printed, never asserted. As in bench/controllers.ts every controller is pinned to core 0 (the
// three replicas share it) and the emulator to core 1; etcd (its default timing) is not pinned. On two cores this
// shows what the cluster costs on the packet-in path, not what more hosts would give.
//   npx tsx bench/cluster-packet-in.ts [--switches 16] [--runs 5] [--run-ms 3000] [--window 64]
//                                      [--only file,etcd-1,etcd-3,file-3]
//                                      [--cpu-prof DIR]   (a V8 profile per controller: bench/profile-summary.ts)

import { randomBytes } from 'node:crypto';
import type { ClusterJson } from '../test/lib/cluster-lab.js';
import { EtcdCluster } from '../test/lib/etcd-cluster.js';
import { waitUntil } from '../test/lib/wait.js';
import { formatDpid } from '../controller/switch/index.js';
import { latencyRun, medians, printFigures, scrapeCounter, throughputRun, type PeerFigures } from './controllers.js';
import { cpuSeconds, loadAverage, machine } from './machine.js';
import { pinSelf, startPeer, type PeerProcess } from './peers.js';
import { connectSwitches, DEFAULT_EMULATOR, median, sleep, type EmulatedSwitch, type LoadResult } from './switch-emulator.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const SWITCHES = Number(arg('switches', '16'));
const RUNS = { runs: Number(arg('runs', '5')), runMs: Number(arg('run-ms', '3000')), window: Number(arg('window', '64')), warmupMs: 1000 };
const CPU_PROF_DIR = arg('cpu-prof', '') || undefined;
/** How long the controllers are watched with no load, for what they cost idle. */
const IDLE_MS = 5000;
const CONTROLLER_CORE = 0;
const EMULATOR_CORE = 1;

interface Setup {
  readonly name: string;
  readonly label: string;
  readonly replicas: number;
  readonly store: 'file' | 'etcd';
  /** Each switch connected to one replica only, the switches dealt out in turn (no cluster): what three processes on one core cost by themselves. */
  readonly split?: boolean;
}

const SETUPS: readonly Setup[] = [
  { name: 'file', label: '1 replica, file store', replicas: 1, store: 'file' },
  { name: 'etcd-1', label: '1 replica, etcd', replicas: 1, store: 'etcd' },
  { name: 'etcd-3', label: '3 replicas, etcd', replicas: 3, store: 'etcd' },
  { name: 'file-3', label: '3 replicas, file, split', replicas: 3, store: 'file', split: true },
];
const ONLY = arg('only', SETUPS.map((s) => s.name).join(',')).split(',');

/** A setup, started: its replicas and switches, and what it measured so far. */
interface Running {
  readonly setup: Setup;
  readonly procs: readonly PeerProcess[];
  readonly switches: readonly EmulatedSwitch[];
  /** Switches each replica masters. */
  readonly spread: readonly number[];
  readonly throughput: LoadResult[];
  readonly latency: LoadResult[];
  /** CPU seconds used during its throughput runs (each controller, etcd, this emulator), the runs' wall time and the responses meanwhile (warm-ups included). */
  readonly cpu: { controllers: number[]; etcd: number; emulator: number; seconds: number; responses: number };
  /** Role changes the replicas counted while the runs went on: 0 unless mastership moved (a replica starved past its lease). */
  roleChanges: number;
  /** Cores its controllers kept busy together with no load (keep-alives, the change feed, liveness, echo). */
  idleCores: number;
}

/** PIDs of the controllers started here and still running, killed if this process exits first (etcd has its own hook). */
const live = new Set<number>();
process.on('exit', () => {
  for (const pid of live) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

async function stopReplicas(procs: readonly PeerProcess[]): Promise<void> {
  await Promise.all(procs.map(async (p) => {
    await p.stop();
    live.delete(p.pid);
  }));
}

async function clusterView(proc: PeerProcess): Promise<ClusterJson> {
  const res = await fetch(`http://127.0.0.1:${proc.httpPort}/api/cluster`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as ClusterJson;
}

/**
 * Waits until every switch has exactly one master by the replicas' word and, with `roles` (a
 * cluster), by the switch's own roles; returns how many each replica masters.
 */
async function waitMastered(procs: readonly PeerProcess[], switches: readonly EmulatedSwitch[], roles: boolean): Promise<number[]> {
  const dpids = new Set(switches.map((s) => formatDpid(s.dpid)));
  let spread: number[] = [];
  await waitUntil(async () => {
    const views = await Promise.all(procs.map(clusterView));
    spread = views.map((v) => v.mastered.filter((d) => dpids.has(d)).length);
    const covered = new Set(views.flatMap((v) => v.mastered.filter((d) => dpids.has(d))));
    return covered.size === dpids.size && sum(spread) === dpids.size && (!roles || switches.every((s) => s.mastered));
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'a master for every switch' });
  return spread;
}

/**
 * Starts the setup's replicas; once each sees all of them (so that mastership spreads over all),
 * connects the switches to every replica and waits for their masters.
 */
async function startSetup(setup: Setup, etcd: EtcdCluster): Promise<Running> {
  const prefix = `/bench-packet-in-${randomBytes(3).toString('hex')}/`;
  const procs: PeerProcess[] = [];
  let switches: EmulatedSwitch[] = [];
  try {
    for (let i = 1; i <= setup.replicas; i++) {
      const clustered = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', prefix, '--replica-id', `r${i}`];
      const proc = await startPeer('seamless', {
        core: CONTROLLER_CORE, seamlessArgs: setup.store === 'etcd' ? clustered : [], ...(CPU_PROF_DIR === undefined ? {} : { cpuProfDir: CPU_PROF_DIR }),
      });
      live.add(proc.pid);
      procs.push(proc);
    }
    if (setup.store === 'etcd') {
      await waitUntil(async () => (await Promise.all(procs.map(clusterView))).every((v) => v.replicas.length === procs.length), { timeoutMs: 30_000, what: `${setup.label}: every replica to see the others` });
    }
    const options = { ...DEFAULT_EMULATOR, host: '127.0.0.1', port: procs.map((p) => p.port), switches: SWITCHES, firstDpid: 0x100n };
    const dpids = Array.from({ length: SWITCHES }, (_, i) => options.firstDpid + BigInt(i));
    switches = setup.split === true
      ? (await Promise.all(procs.map((p, r) => connectSwitches({ ...options, port: p.port }, dpids.filter((_, i) => i % procs.length === r))))).flat()
      : await connectSwitches(options, dpids);
    const spread = await waitMastered(procs, switches, setup.store === 'etcd');
    return { setup, procs, switches, spread, throughput: [], latency: [], cpu: { controllers: procs.map(() => 0), etcd: 0, emulator: 0, seconds: 0, responses: 0 }, roleChanges: 0, idleCores: 0 };
  } catch (error) {
    for (const s of switches) s.close();
    await stopReplicas(procs);
    throw error;
  }
}

async function stopSetup(x: Running): Promise<void> {
  for (const s of x.switches) s.close();
  await stopReplicas(x.procs);
}

/** Role changes the replicas of a setup counted so far (seamless_cluster_role_changes_total, every role). */
async function roleChanges(x: Running): Promise<number> {
  return sum(await Promise.all(x.procs.map(async (p) => (await scrapeCounter(p.httpPort!, 'seamless_cluster_role_changes_total')) ?? 0)));
}

/** Leader changes every etcd member has seen so far (its own /metrics). */
async function leaderChanges(etcd: EtcdCluster): Promise<number> {
  const seen = await Promise.all(etcd.members.map((m) => scrapeCounter(Number(new URL(m.clientUrl).port), 'etcd_server_leader_changes_seen_total')));
  return sum(seen.map((n) => n ?? 0));
}

/** CPU seconds used so far by each of these processes. */
const cpuOf = (pids: readonly (number | undefined)[]) => pids.map((pid) => (pid === undefined ? 0 : cpuSeconds(pid) ?? 0));
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** One throughput run of a setup, with the CPU time its controllers, etcd and this emulator used meanwhile. */
async function throughputRunOf(x: Running, etcd: EtcdCluster): Promise<void> {
  const etcdPids = etcd.members.map((_, i) => etcd.pid(i));
  const responses = () => sum(x.switches.map((s) => s.counters.packetOuts));
  const before = { controllers: cpuOf(x.procs.map((p) => p.pid)), etcd: sum(cpuOf(etcdPids)), emulator: process.cpuUsage(), responses: responses() };
  const started = performance.now();
  x.throughput.push(await throughputRun(x.switches, RUNS));
  x.cpu.seconds += (performance.now() - started) / 1000;
  x.cpu.responses += responses() - before.responses;
  cpuOf(x.procs.map((p) => p.pid)).forEach((t, i) => { x.cpu.controllers[i]! += t - before.controllers[i]!; });
  x.cpu.etcd += sum(cpuOf(etcdPids)) - before.etcd;
  const emulator = process.cpuUsage(before.emulator);
  x.cpu.emulator += (emulator.user + emulator.system) / 1e6;
}

function figuresOf(x: Running): PeerFigures {
  const lost = [...x.throughput, ...x.latency].some((r) => r.retries > 0);
  return { peer: 'seamless', label: x.setup.label, ...medians(x.throughput, x.latency), ...(lost ? { outputOnLoss: x.procs.flatMap((p) => p.output.slice(-10)) } : {}) };
}

/** "0.61+0.12+0.10 / 0.05 / 0.30": cores busy during the throughput runs, each controller / etcd / the emulator. */
function cores(x: Running): string {
  const per = (cpuSecondsUsed: number) => (cpuSecondsUsed / x.cpu.seconds).toFixed(2);
  return `${x.cpu.controllers.map(per).join('+')} / ${per(x.cpu.etcd)} / ${per(x.cpu.emulator)}`;
}

/** Controller CPU time per response (µs), all replicas together: less bound to the core share the machine left than responses/s. */
const cpuPerResponse = (x: Running) => (sum(x.cpu.controllers) / x.cpu.responses) * 1e6;

function printSummary(running: readonly Running[]): void {
  const base = median(running[0]!.throughput.map((r) => r.responsesPerSec));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log('\n| setup | responses/s (median) | vs 1 replica, file | latency p50 / p99 (ms) | masters (role changes in the runs) | cores busy: controllers / etcd / emulator | controller CPU per response | controllers idle |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const x of running) {
    const { throughput, latency } = figuresOf(x);
    console.log(`| ${x.setup.label} | ${fmt(throughput.medianPerSec)} | x${(throughput.medianPerSec / base).toFixed(2)} | ${latency.medianP50Ms.toFixed(3)} / ${latency.medianP99Ms.toFixed(3)} | `
      + `${x.spread.join('/')} (${x.roleChanges}) | ${cores(x)} | ${cpuPerResponse(x).toFixed(1)} µs | ${x.idleCores.toFixed(3)} cores |`);
  }
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`cluster packet-in benchmark: ${m.nproc} cores (${m.cpu}), node ${m.node}; ${SWITCHES} emulated switches, window ${RUNS.window} (throughput) / 1 (latency),`
    + ` median of ${RUNS.runs} runs x ${RUNS.runMs} ms, the setups' runs interleaved; controllers on core ${CONTROLLER_CORE}, emulator on core ${EMULATOR_CORE}, etcd (3 members, heartbeat 100 ms, election 1 s) unpinned`);
  await pinSelf(EMULATOR_CORE);
  // etcd's own default timing: the lab's (50 / 500 ms, for 1 s leases) is for failover tests, and
  // on a loaded machine it stalls keep-alives, which moves mastership in the middle of a run.
  const etcd = await EtcdCluster.start({ members: 3, heartbeatMs: 100, electionMs: 1000 });
  const running: Running[] = [];
  try {
    for (const setup of SETUPS.filter((s) => ONLY.includes(s.name))) running.push(await startSetup(setup, etcd));
    await sleep(500); // the masters' start-of-session work (read the flows back, table-miss rules)
    for (const x of running) await throughputRun(x.switches, RUNS); // warm-up (the JIT, the learners), not counted
    const idleFrom = running.map((x) => sum(cpuOf(x.procs.map((p) => p.pid))));
    await sleep(IDLE_MS);
    for (const [i, x] of running.entries()) x.idleCores = (sum(cpuOf(x.procs.map((p) => p.pid))) - idleFrom[i]!) / (IDLE_MS / 1000);
    console.log(`  (load average before the runs: ${loadAverage().join(' ')})`);
    const changes = await Promise.all(running.map(roleChanges));
    const elections = await leaderChanges(etcd);
    for (let r = 0; r < RUNS.runs; r++) for (const x of running) await throughputRunOf(x, etcd);
    for (let r = 0; r < RUNS.runs; r++) for (const x of running) x.latency.push(await latencyRun(x.switches, RUNS));
    for (const [i, x] of running.entries()) x.roleChanges = (await roleChanges(x)) - changes[i]!;
    console.log(`  (etcd leader changes during the runs: ${(await leaderChanges(etcd)) - elections})`);
    console.log(`  (load average after the runs: ${loadAverage().join(' ')})`);
    for (const x of running) {
      printFigures(figuresOf(x));
      const slaveWrites = sum(x.switches.map((s) => s.counters.slaveWrites));
      console.log(`      masters ${x.spread.join('/')}; cores busy during the throughput runs (controllers / etcd / emulator): ${cores(x)}; controller CPU per response ${cpuPerResponse(x).toFixed(1)} µs; idle ${x.idleCores.toFixed(3)} cores`
        + (slaveWrites > 0 ? `; ${slaveWrites} writes from slaves refused` : '') + (x.roleChanges > 0 ? `; ${x.roleChanges} role changes during the runs` : ''));
    }
    printSummary(running);
  } finally {
    for (const x of running) await stopSetup(x);
    await etcd.destroy();
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(`cluster packet-in benchmark failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
