// Cluster figures in the Mininet reference lab (issue 11), printed, never asserted. Three Seamless
// replicas on a 3-member etcd, every switch connected to all three (test/lib/cluster-lab.ts):
//   - failover under streams: a paced TCP stream (ext -> VM) and a numbered UDP stream (cnB -> VM)
//     run while the master of the VM's switch is killed (-9); per kill, the time until every
//     switch it held is mastered again, the longest gap between the TCP stream's arrivals and the
//     datagrams lost in a window from the kill, against the same window just before it (the
//     stream's normal jitter). The killed replica is started again before the next kill.
//   - a move during failover: the VM migrates to the next subnet with no kill, at the moment the
//     master of its switch is killed, and 100 ms after; per move, when the store holds the move and
//     every switch exactly the rules one controller compiles for the stored bindings
//     (test/lib/desired-rules.ts), when the stream is back, and its longest gap.
//   flock /tmp/seamless-lab.lock npx tsx bench/cluster-lab.ts [--kills 10] [--moves 10] [--ttl-ms 2000] [--only gap,moves] [--json FILE]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VM, VM_EID, warmUp } from '../topologies/case-study/experiment.js';
import { mininetVm } from '../topologies/case-study/lab-vm.js';
import { gapAround, percentile, type Timeline } from '../topologies/case-study/measure.js';
import { UdpStream, type UdpCount } from '../topologies/case-study/udp-stream.js';
import { ClusterLab, DPIDS, SWITCHES, type LabReplica, type SwitchName } from '../test/lib/cluster-lab.js';
import { TcpStream, type StreamResult } from '../test/lib/tcp-stream.js';
import { removeAtExit, untrackDir } from '../test/lib/exit-cleanup.js';
import { waitFor, waitUntil } from '../test/lib/wait.js';
import { loadAverage, machine } from './machine.js';

const TCP_FROM = 'ext';
const UDP_FROM = 'cnB';
const UDP_PPS = 1000;
/** Streams run this long before anything is measured (connection set up, ARP caches warm). */
const WARMUP_MS = 500;
const MODES = [
  { name: 'no kill', killOffsetMs: null },
  { name: 'kill, move at once', killOffsetMs: 0 },
  { name: 'kill, move 100 ms later', killOffsetMs: 100 },
] as const;
type Mode = (typeof MODES)[number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const switchOf = (dpid: string): SwitchName => SWITCHES.find((s) => DPIDS[s] === dpid) ?? (() => { throw new Error(`unknown dpid ${dpid}`); })();
const nextSwitch = (sw: SwitchName): SwitchName => SWITCHES[(SWITCHES.indexOf(sw) + 1) % SWITCHES.length]!;

/** A TCP and a UDP stream into the VM, started and ended together. */
class Streams {
  private constructor(readonly tcp: TcpStream, readonly udp: UdpStream, private readonly dir: string) {}

  static async start(lab: ClusterLab, n: number): Promise<Streams> {
    const dir = mkdtempSync(join(tmpdir(), 'seamless-bench-udp-'));
    removeAtExit(dir);
    const tcp = await TcpStream.start(lab.net, { from: TCP_FROM, to: VM, toIp: VM_EID, port: 5400 + n });
    try {
      const out = join(dir, 'rx.json');
      const vm = mininetVm(lab.net, VM);
      const receiver = vm.spawn(vm.udpServeCommand(7100 + n, out));
      const udp = await UdpStream.start(lab.net, { from: UDP_FROM, receiver, out, toIp: VM_EID, port: 7100 + n, pps: UDP_PPS, stopFile: join(dir, 'stop') });
      return new Streams(tcp, udp, dir);
    } catch (error) {
      await tcp.kill();
      Streams.remove(dir);
      throw error;
    }
  }

  async finish(): Promise<{ tcp: StreamResult; udp: UdpCount }> {
    try {
      const [tcp, udp] = await Promise.all([this.tcp.finish(), this.udp.finish()]);
      return { tcp, udp };
    } finally {
      Streams.remove(this.dir);
    }
  }

  async kill(): Promise<void> {
    await Promise.all([this.tcp.kill(), this.udp.kill()]);
    Streams.remove(this.dir);
  }

  private static remove(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    untrackDir(dir);
  }
}

const intact = (r: StreamResult) => r.senderError === null && r.receiverError === null && r.inOrder && r.resets === 0 && r.bytesSent > 0 && r.bytesReceived === r.bytesSent;

/** The VM's switch, from its binding in etcd, with the binding's version. */
async function vmAt(lab: ClusterLab): Promise<{ sw: SwitchName; version: number }> {
  const b = (await lab.storedBindings()).get(VM_EID);
  if (b === undefined) throw new Error('the VM has no binding in etcd');
  return { sw: switchOf(b.locator.dpid), version: b.version };
}

/** A killed master's switches: when the last of them was granted to a survivor, after the kill (ms). */
async function remastered(lab: ClusterLab, orphans: readonly SwitchName[], killedAt: number): Promise<number> {
  await lab.waitMastered(30_000);
  const times = await Promise.all(orphans.map((s) => waitFor(() => lab.masteredAt(s, killedAt), { timeoutMs: 2000, what: `the log line of ${s}'s new master` })));
  return Math.max(...times.map((t) => t.at)) - killedAt;
}

/** A clean start for each measurement: every replica running and known, every switch mastered and holding exactly the desired rules. */
async function settled(lab: ClusterLab): Promise<Record<SwitchName, LabReplica>> {
  await lab.recover();
  const masters = await lab.waitMastered(30_000);
  await lab.waitRulesConverged(lab.running()[0]!, 20_000);
  return masters;
}

interface KillFigures {
  readonly victim: string;
  readonly orphans: readonly SwitchName[];
  readonly remasteredMs: number;
  /** Longest interval between two TCP arrivals in the window from the kill, and in the window before it. */
  readonly gapMs: number | null;
  readonly baselineGapMs: number | null;
  readonly udpLost: number;
  readonly baselineUdpLost: number;
  readonly intact: boolean;
}

async function killUnderStreams(lab: ClusterLab, n: number, windowMs: number): Promise<KillFigures> {
  const masters = await settled(lab);
  const victim = masters[(await vmAt(lab)).sw];
  const orphans = SWITCHES.filter((s) => masters[s] === victim);
  const streams = await Streams.start(lab, n);
  try {
    await sleep(WARMUP_MS + windowMs); // the baseline window: the last windowMs before the kill
    const killedAt = await lab.kill(victim.id);
    const remasteredMs = await remastered(lab, orphans, killedAt);
    await sleep(Math.max(0, killedAt + windowMs - Date.now()));
    const { tcp, udp } = await streams.finish();
    return {
      victim: victim.id, orphans, remasteredMs,
      gapMs: gapAround(tcp.timeline, killedAt, killedAt + windowMs), baselineGapMs: gapAround(tcp.timeline, killedAt - windowMs, killedAt),
      udpLost: UdpStream.lostBetween(udp, killedAt, killedAt + windowMs), baselineUdpLost: UdpStream.lostBetween(udp, killedAt - windowMs, killedAt),
      intact: intact(tcp),
    };
  } catch (error) {
    await streams.kill();
    throw error;
  }
}

interface MoveFigures {
  readonly mode: Mode['name'];
  readonly from: SwitchName;
  readonly to: SwitchName;
  readonly victim: string | null;
  readonly orphans: readonly SwitchName[];
  /** The killed replica mastered the target switch too: the move fell to its successor there. */
  readonly targetOrphaned: boolean;
  readonly remasteredMs: number | null;
  /** From the VM's first announcement: the move in etcd and every switch holding exactly the desired rules (the first poll that saw it). */
  readonly rulesMs: number;
  /** The switches whose rules were the last to converge. */
  readonly lagging: readonly string[];
  /** From the VM's first announcement: the first TCP arrival after the VM resumed. */
  readonly streamBackMs: number | null;
  readonly gapMs: number | null;
  readonly udpLost: number;
  readonly pauseMs: number;
  /** The controller's record of the move (its "migration completed" line): from the announcement to its decision, the flight (first sighting to every switch confirmed), why it moved. */
  readonly decidedMs: number | null;
  readonly controllerMs: number | null;
  readonly reason: string | null;
  /** Median time of one convergence poll (the resolution of rulesMs). */
  readonly pollMs: number;
  readonly intact: boolean;
}

/**
 * Polls until the store holds the move (a newer version at `to`) and every switch exactly the
 * desired rules: the instant of the first poll that saw it, and the switches that still differed
 * in the poll before (none when the first poll after the move found them converged).
 */
async function movedAndConverged(lab: ClusterLab, to: SwitchName, version: number, polls: number[]): Promise<{ at: number; lagging: string[] }> {
  let lagging: string[] = [];
  const at = await waitFor(async () => {
    const started = Date.now();
    const b = (await lab.storedBindings()).get(VM_EID);
    if (b === undefined || b.version <= version || b.locator.dpid !== DPIDS[to]) return undefined;
    const differences = Object.keys(await lab.ruleDifferences(lab.running()[0]!));
    polls.push(Date.now() - started);
    if (differences.length === 0) return Date.now();
    lagging = differences;
    return undefined;
  }, { timeoutMs: 30_000, intervalMs: 10, what: `the move to ${to} in etcd and every switch converged` });
  return { at, lagging };
}

/** The "migration completed" line of the VM's move to `version`, whichever replica logged it. */
function completion(lab: ClusterLab, version: number): { detectedAt: number | null; reconvergenceMs: number | null; reason: string | null } | undefined {
  const line = lab.replicas.flatMap((r) => r.find('migration completed')).find((l) => l.eid === VM_EID && l.version === version);
  if (line === undefined) return undefined;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return { detectedAt: num(line.detectedAt), reconvergenceMs: num(line.reconvergenceMs), reason: typeof line.reason === 'string' ? line.reason : null };
}

const firstArrivalAfter = (timeline: Timeline, ms: number): number | null => {
  const hit = timeline.find(([t]) => t * 1000 > ms);
  return hit === undefined ? null : hit[0] * 1000;
};

async function moveDuringFailover(lab: ClusterLab, n: number, mode: Mode): Promise<MoveFigures> {
  const masters = await settled(lab);
  const { sw: from, version } = await vmAt(lab);
  const to = nextSwitch(from);
  const victim = mode.killOffsetMs === null ? undefined : masters[from];
  const orphans = victim === undefined ? [] : SWITCHES.filter((s) => masters[s] === victim);
  const streams = await Streams.start(lab, n);
  try {
    await sleep(WARMUP_MS + 500);
    const killing = victim === undefined ? undefined : lab.kill(victim.id); // the signal is sent before this returns
    const killedAt = Date.now();
    if (mode.killOffsetMs) await sleep(mode.killOffsetMs);
    const polls: number[] = [];
    const [times, { at: convergedAt, lagging }] = await Promise.all([lab.net.migrate(VM, { toSwitch: to }), movedAndConverged(lab, to, version, polls)]);
    await killing;
    const remasteredMs = victim === undefined ? null : await remastered(lab, orphans, killedAt);
    await sleep(Math.max(0, convergedAt + 2000 - Date.now()));
    const { tcp, udp } = await streams.finish();
    const announced = times.announcedAt ?? times.resumedAt;
    const back = firstArrivalAfter(tcp.timeline, times.resumedAt);
    const record = completion(lab, (await vmAt(lab)).version);
    return {
      mode: mode.name, from, to, victim: victim?.id ?? null, orphans, targetOrphaned: orphans.includes(to), remasteredMs,
      rulesMs: convergedAt - announced, lagging, streamBackMs: back === null ? null : back - announced,
      gapMs: gapAround(tcp.timeline, times.pausedAt, Number.POSITIVE_INFINITY),
      udpLost: UdpStream.lostBetween(udp, times.pauseRequestedAt - 100, Number.POSITIVE_INFINITY),
      decidedMs: record?.detectedAt == null ? null : record.detectedAt - announced, controllerMs: record?.reconvergenceMs ?? null, reason: record?.reason ?? null,
      pauseMs: times.pauseMs, pollMs: percentile(polls, 50) ?? Number.NaN, intact: intact(tcp),
    };
  } catch (error) {
    await streams.kill();
    throw error;
  }
}

const ms = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : `${Math.round(v)} ms`);
const stats = (values: ReadonlyArray<number | null>) => {
  const xs = values.filter((v): v is number => v !== null);
  const missing = values.length - xs.length;
  return `median ${ms(percentile(xs, 50))}, p99 ${ms(percentile(xs, 99))}, max ${ms(xs.length > 0 ? Math.max(...xs) : null)}${missing > 0 ? ` (${missing} without a value)` : ''}`;
};

function printKills(kills: readonly KillFigures[], ttlMs: number, windowMs: number): void {
  const udpIn = (f: (k: KillFigures) => number) => `${kills.reduce((a, k) => a + f(k), 0)} of ${kills.length * windowMs * UDP_PPS / 1000} sent (${kills.filter((k) => f(k) > 0).length}/${kills.length} windows with loss)`;
  console.log(`\nFailover under streams (lease TTL ${ttlMs} ms, ${kills.length} kills -9 of the VM's switch's master, windows of ${windowMs} ms):`);
  console.log(`  every switch it held re-mastered:                 ${stats(kills.map((k) => k.remasteredMs))}`);
  console.log(`  TCP ${TCP_FROM} -> VM longest gap, window from the kill:  ${stats(kills.map((k) => k.gapMs))}`);
  console.log(`  TCP ${TCP_FROM} -> VM longest gap, window before it:      ${stats(kills.map((k) => k.baselineGapMs))}`);
  console.log(`  UDP ${UDP_FROM} -> VM (${UDP_PPS}/s) lost, window from the kill: ${udpIn((k) => k.udpLost)}`);
  console.log(`  UDP ${UDP_FROM} -> VM (${UDP_PPS}/s) lost, window before it:     ${udpIn((k) => k.baselineUdpLost)}`);
  console.log(`  TCP streams intact (every byte in order, no reset): ${kills.filter((k) => k.intact).length}/${kills.length}`);
}

function printMoves(moves: readonly MoveFigures[], ttlMs: number): void {
  console.log(`\nA move during failover (lease TTL ${ttlMs} ms; times from the VM's first announcement; p99 of 10 is the max):`);
  for (const mode of MODES) {
    const rows = moves.filter((m) => m.mode === mode.name);
    if (rows.length === 0) continue;
    const orphaned = rows.filter((m) => m.targetOrphaned).length;
    console.log(`  ${mode.name} (${rows.length} moves${mode.killOffsetMs === null ? '' : `, the target's master killed in ${orphaned}`}, pause ${ms(percentile(rows.map((m) => m.pauseMs), 50))}):`);
    console.log(`    store + every switch's rules converged: ${stats(rows.map((m) => m.rulesMs))} (poll ${ms(percentile(rows.map((m) => m.pollMs), 50))})`);
    if (mode.killOffsetMs !== null) {
      // Right after the store commit every switch differs: only a poll with the victim's switches alone left says they were late.
      const orphansLast = rows.filter((m) => m.lagging.length > 0 && m.lagging.every((s) => m.orphans.includes(s as SwitchName))).length;
      console.log(`    only switches the killed replica held were left to converge in ${orphansLast}/${rows.length} moves`);
    }
    console.log(`    the controller decided:                 ${stats(rows.map((m) => m.decidedMs))} (${[...new Set(rows.map((m) => m.reason ?? 'no record'))].join(', ')})`);
    console.log(`    its flight, first sighting to confirmed: ${stats(rows.map((m) => m.controllerMs))}`);
    console.log(`    TCP stream back:                        ${stats(rows.map((m) => m.streamBackMs))}`);
    console.log(`    TCP longest gap:                        ${stats(rows.map((m) => m.gapMs))}`);
    if (mode.killOffsetMs !== null) console.log(`    re-mastered after the kill:             ${stats(rows.map((m) => m.remasteredMs))}`);
    console.log(`    UDP lost: ${rows.reduce((a, m) => a + m.udpLost, 0)} (${rows.filter((m) => m.udpLost > 0).length}/${rows.length} moves); TCP intact ${rows.filter((m) => m.intact).length}/${rows.length}`);
  }
}

/** Runs `measure` `count` times, printing each outcome; a failed round is said and skipped (the next one recovers the lab). */
async function rounds<T>(count: number, what: (i: number) => string, measure: (i: number) => Promise<T>, describe: (r: T) => string): Promise<T[]> {
  const out: T[] = [];
  let failures = 0;
  for (let i = 0; i < count; i++) {
    try {
      const r = await measure(i);
      out.push(r);
      console.log(`  ${what(i)}: ${describe(r)}`);
    } catch (error) {
      console.log(`  ${what(i)}: FAILED ${(error as Error).message.split('\n')[0]}`);
      if (++failures > Math.max(3, count / 5)) throw new Error(`too many failed rounds (${failures})`, { cause: error });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    kills: { type: 'string', default: '10' }, moves: { type: 'string', default: '10' }, 'ttl-ms': { type: 'string', default: '2000' },
    only: { type: 'string', default: 'gap,moves' }, json: { type: 'string' },
  } });
  const kills = Number(values.kills);
  const moves = Number(values.moves);
  const ttlMs = Number(values['ttl-ms']);
  const only = new Set(values.only.split(','));
  if (![kills, moves, ttlMs].every((v) => Number.isInteger(v) && v > 0) || [...only].some((o) => o !== 'gap' && o !== 'moves')) {
    process.stderr.write('usage: bench/cluster-lab.ts [--kills 10] [--moves 10] [--ttl-ms 2000] [--only gap,moves] [--json FILE]\n');
    process.exit(2);
  }
  // The window covers a failover that waits for the lease (TTL + etcd's 500 ms expiry check).
  const windowMs = ttlMs + 1000;
  const m = machine();
  console.log(`cluster lab bench: ${m.nproc} cores (${m.cpu}), node ${m.node}; load average ${loadAverage().join(' ')}`);
  const lab = await ClusterLab.start({ leaseTtlMs: ttlMs });
  let destroyed: Promise<void> | undefined;
  const destroy = () => (destroyed ??= lab.destroy());
  const stop = () => { destroy().then(() => process.exit(130), () => process.exit(130)); };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const out: Record<string, unknown> = { generatedAt: new Date().toISOString(), machine: m, ttlMs, windowMs, loadAverage: { start: loadAverage() } };
  try {
    // Every peer reaches the VM once: the controller learns the endpoints (bindings in etcd), the hosts their neighbours.
    await warmUp(lab.net, [TCP_FROM, UDP_FROM]);
    await waitUntil(async () => (await lab.storedBindings()).has(VM_EID), { timeoutMs: 10_000, what: 'the VM\'s binding in etcd' });
    let n = 0;
    if (only.has('gap')) {
      console.log(`failover under streams (load average ${loadAverage().join(' ')}):`);
      const figures = await rounds(kills, (i) => `kill ${i + 1}`, () => killUnderStreams(lab, n++, windowMs),
        (k) => `${k.victim} held ${k.orphans.join(', ')}: re-mastered ${ms(k.remasteredMs)}; TCP gap ${ms(k.gapMs)} (before: ${ms(k.baselineGapMs)}); UDP lost ${k.udpLost} (before: ${k.baselineUdpLost})${k.intact ? '' : '; TCP STREAM BROKE'}`);
      out.kills = figures;
      printKills(figures, ttlMs, windowMs);
    }
    if (only.has('moves')) {
      console.log(`\na move during failover (load average ${loadAverage().join(' ')}):`);
      const plan = Array.from({ length: moves }, () => MODES).flat();
      const figures = await rounds(plan.length, (i) => `move ${i + 1} (${plan[i]!.name})`, (i) => moveDuringFailover(lab, n++, plan[i]!),
        (f) => `${f.from} -> ${f.to}${f.victim === null ? '' : `, ${f.victim} killed (held ${f.orphans.join(', ')}), re-mastered ${ms(f.remasteredMs)}`}: decided ${ms(f.decidedMs)} (${f.reason ?? 'no record'}), flight ${ms(f.controllerMs)}, converged ${ms(f.rulesMs)}${f.lagging.length > 0 ? ` (last: ${f.lagging.join(', ')})` : ''}, stream back ${ms(f.streamBackMs)}, gap ${ms(f.gapMs)}, UDP lost ${f.udpLost}${f.intact ? '' : '; TCP STREAM BROKE'}`);
      out.moves = figures;
      printMoves(figures, ttlMs);
    }
  } finally {
    (out.loadAverage as Record<string, number[]>).end = loadAverage();
    console.log(`\nload average at the end: ${loadAverage().join(' ')}`);
    await destroy();
  }
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(out, null, 1));
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
