// One case-study scenario, end to end: the controller (a child process), the reference Mininet
// topology, paced TCP streams from correspondents to the VM, live migrations, reachability
// probes after each move, and the measurements (application gap per stream and migration,
// reconvergence from the controller, retransmissions and resets per sender).

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topologyFile } from '../agent-channel.js';
import { doneLine, MininetDriver, type HostProcess } from '../mininet-driver.js';
import { ControllerClient } from '../../controller/host-agent/controller-client.js';
import type { MigrationSignal } from '../../controller/host-agent/migration-signals.js';
import { ControllerProcess, type LogLine } from './controller-process.js';
import { mininetVm, qemuLabVm, readJson, type LabMigrationTimes, type LabVm, type QemuLabVmOptions, type VmKind } from './lab-vm.js';
import { addDrops, dropsBetween, readDropCounters, snmpFields, type DropCounters } from './drop-counters.js';
import { gapAround, readsAround, type ReadsAround, type Timeline } from './measure.js';
import { UdpStream, type UdpResult } from './udp-stream.js';

export type { UdpResult } from './udp-stream.js';

// The Python tools stay in the source tree (a compiled run finds them there too).
const STREAM = topologyFile('case-study/stream.py');
const UDP_PORT = 7001;
const PROBE = topologyFile('case-study/probe.py');
const PY = '/usr/bin/python3';

export const VM = 'vm';
export const VM_EID = '10.0.1.10';
export const VM_MAC = '02:00:00:00:01:0a';
export const CORRESPONDENTS: Readonly<Record<string, string>> = { cnA: '10.0.1.20', cnB: '10.0.2.20', cnC: '10.0.3.20', ext: '10.0.9.2' };

export interface MoveSpec {
  readonly toSwitch: string;
  readonly toPort?: number;
  /** How long the paused source keeps its port up after this move; default the VM's own (1000 ms). */
  readonly lingerMs?: number;
}

export interface ScenarioSpec {
  readonly name: string;
  readonly description: string;
  /** Seamless rewriting on, or the plain L2 learning baseline. */
  readonly rewrite: boolean;
  readonly moves: readonly MoveSpec[];
  /** Hosts that stream to the VM (one TCP connection each). */
  readonly senders: readonly string[];
  /** Bytes per second per stream. */
  readonly rate: number;
  /** Time between migrations (and before the first, after the last). */
  readonly dwellMs: number;
  readonly pauseMs: number;
  /** Run reachability probes after each move. */
  readonly probes: boolean;
  /** Extra controller flags, e.g. ['--correspondent-rules', 'on-demand']. */
  readonly controllerArgs?: readonly string[];
  /**
   * Loss-free: the destination port is announced (below) and the controller is told when the VM
   * stops and runs again (as the host agent does), and buffers its frames.
   */
  readonly lossFree?: boolean;
  /**
   * The destination port is announced before the stop, and nothing else: no stop or resume
   * signals. The destination hypervisor's port carries libvirt's external_ids, which the
   * controller's OVSDB watcher reads as an intent (the QEMU lab's tap always does; the emulated VM's
   * with LabMove.vif). The move is staged ahead; the VM's first frame makes it.
   */
  readonly announceDestination?: boolean;
  /** Numbered UDP datagrams per second from the first sender to the VM, to count what the network loses (udp_stream.py, or the QEMU guest's own counter). */
  readonly udpPps?: number;
  /** The emulated VM's memory copy before each stop (LabMove.precopyMs); default the lab's (300 ms). */
  readonly precopyMs?: number;
  /** The emulated host agent's copy lead (LabMove.copyLeadMs); default the agent's (250 ms). */
  readonly copyLeadMs?: number;
}

export interface ProbeResult {
  readonly from: string;
  readonly to: string;
  readonly kind: 'tcp' | 'udp' | 'ping';
  readonly ok: boolean;
  /** Tries it took (a probe is retried up to 3 times; losses on this loaded userspace datapath are not rare). */
  readonly attempts: number;
  readonly detail?: string;
}

export interface MigrationResult {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly times: LabMigrationTimes;
  /** From the controller's 'migration completed' line; null when it reported none (baselines). */
  readonly reconvergenceMs: number | null;
  /** From the VM's first packet at its new switch to its held packets going on. */
  readonly releaseMs: number | null;
  /** The confirmed rule update alone (steps 1 and 2), and the barrier rounds it took. */
  readonly confirmMs: number | null;
  readonly rounds: number | null;
  /** Its rules were planned when it was staged ahead (only the send side was left); null without a record. */
  readonly plannedAhead: boolean | null;
  /** Why the controller accepted the move: intent, old-port-down, old-attachment-silent. */
  readonly reason: string | null;
  /** The frame that revealed the move (rarp, garp, arp, ipv4, ipv6...). */
  readonly trigger: string | null;
  /** When the controller decided the move (epoch ms, its clock: this machine's). */
  readonly detectedAt: number | null;
  readonly flowMods: number | null;
  /** 'migration completed' records the controller logged during this move (1 for one clean move). */
  readonly controllerRecords: number;
  /** Longest pause in delivered bytes per stream around this migration (ms). */
  readonly gapMs: Readonly<Record<string, number | null>>;
  /** Per stream: its last read before the stop and its first after the resume. */
  readonly reads: Readonly<Record<string, ReadsAround>>;
  readonly retransmissions: Readonly<Record<string, number>>;
  readonly resets: Readonly<Record<string, number>>;
  readonly probes: readonly ProbeResult[];
  /** Datagrams of the UDP stream lost that were sent from this move's start to the next one's; null without the stream. */
  readonly udpLost: number | null;
  /** Each of those: when the datagram before it was sent, in ms from the VM's stop (negative: before it). */
  readonly udpLostAtMs: readonly number[];
  /** Drop counters that grew from just before this move to the end of its dwell (drop-counters.ts: which place dropped what). */
  readonly drops: DropCounters;
}

export interface StreamResult {
  readonly from: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly inOrder: boolean;
  readonly senderError: string | null;
  readonly receiverError: string | null;
  /** Every byte sent arrived, in order, and both ends closed cleanly. */
  readonly survived: boolean;
  readonly timeline: Timeline;
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly rewrite: boolean;
  readonly startedAt: number;
  readonly migrations: readonly MigrationResult[];
  readonly streams: readonly StreamResult[];
  readonly udp: UdpResult | null;
  readonly survived: boolean;
  readonly resets: number;
  readonly probesFailed: number;
  /** Claims the controller refused during the run (from its log: a lower bound, the log is rate-limited). */
  readonly conflicts: number;
  /** The moves' drop counters, summed. */
  readonly drops: DropCounters;
}

export interface RunOptions {
  readonly log?: (text: string) => void;
  readonly verboseController?: boolean;
  /** The VM: the emulated Mininet host (default) or a real QEMU guest live-migrated over QMP. */
  readonly vm?: VmKind;
  /** Extra settings of the QEMU VM (linger, lead, downtime limit, held stop). */
  readonly qemu?: Omit<QemuLabVmOptions, 'log'>;
  /** Write the controller's log (JSON lines) to this file when the scenario ends, whatever its outcome. */
  readonly controllerLog?: string;
}

export interface LabOptions extends RunOptions {
  /**
   * 'seamless': the controller as a child process (with `controllerArgs`); 'none': no controller,
   * every switch Open vSwitch's own L2 learning switch (actions=NORMAL), what users have today.
   */
  readonly controller: 'seamless' | 'none';
  readonly controllerArgs?: readonly string[];
}

/** A running lab: the controller (unless none), the reference Mininet network and the VM on s1 port 10. */
export interface Lab {
  readonly ctl: ControllerProcess | undefined;
  readonly net: MininetDriver;
  readonly vm: LabVm;
  /** A scratch directory the lab removes when it stops. */
  readonly scratch: string;
  stop(): Promise<void>;
}

interface Counters { retransSegs: number; outRsts: number; estabResets: number }

export async function runScenario(spec: ScenarioSpec, options: RunOptions = {}): Promise<ScenarioResult> {
  const say = options.log ?? (() => undefined);
  const lab = await startLab({ ...options, controller: 'seamless', controllerArgs: [...(spec.rewrite ? [] : ['--rewrite', 'false']), ...(spec.controllerArgs ?? [])] });
  try {
    say(`${spec.name}: controller pid ${lab.ctl!.pid} on OpenFlow port ${lab.ctl!.openflowPort}`);
    await warmUp(lab.net, spec.senders);
    return await runMoves(spec, lab, say);
  } finally {
    if (options.controllerLog !== undefined) writeFileSync(options.controllerLog, lab.ctl!.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await lab.stop();
  }
}

/** Start the controller (unless none), the reference network and the VM; everything is removed again on failure and by stop(). */
export async function startLab(options: LabOptions): Promise<Lab> {
  const say = options.log ?? (() => undefined);
  const stateDir = mkdtempSync(join(tmpdir(), 'seamless-state-'));
  const scratch = mkdtempSync(join(tmpdir(), 'seamless-run-'));
  let ctl: ControllerProcess | undefined;
  let net: MininetDriver | undefined;
  let vm: LabVm | undefined;
  const stop = async (): Promise<void> => {
    await vm?.stop().catch(() => undefined);
    await net?.stop().catch(() => undefined);
    await ctl?.stop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    if (options.controller === 'seamless') {
      ctl = await ControllerProcess.start({
        stateDir, args: options.controllerArgs ?? [],
        ...(options.verboseController ? { onLine: (l: LogLine) => say(`[controller] ${l.msg} ${JSON.stringify(l)}`) } : {}),
      });
    }
    const vmKind = options.vm === 'qemu' ? 'none' : 'mininet';
    net = await MininetDriver.start(ctl ? { controller: { host: '127.0.0.1', port: ctl.openflowPort }, vm: vmKind } : { plainL2: true, vm: vmKind });
    if (ctl) await ctl.waitFor(() => ctl!.find('switch up').length >= 3, 30_000, 'three switches up');
    vm = options.vm === 'qemu' ? await qemuLabVm(net, { ...options.qemu, log: say }) : mininetVm(net, VM);
    return { ctl, net, vm, scratch, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every correspondent reaches the VM once, so that bindings and ARP caches exist before we measure. */
export async function warmUp(net: MininetDriver, senders: readonly string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const host of new Set([...senders, ...Object.keys(CORRESPONDENTS)])) {
    for (;;) {
      const r = await net.cmd(host, `ping -c 1 -W 1 ${VM_EID}`);
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error(`${host} cannot reach the VM before any migration`);
    }
  }
}

/**
 * What the host agent does with a migration's signals (controller/host-agent): each goes to the
 * controller, in order. The destination port is not the agent's to say: the controller's OVSDB
 * watcher reads it from the destination's external_ids (the QEMU lab's tap; the emulated VM's port
 * with LabMove.vif), as from a libvirt or OpenStack host. `phases` false: a hypervisor with no host
 * agent (the destination announced, nothing else).
 */
function hostAgent(ctl: ControllerProcess, mac: string, say: (t: string) => void, phases = true): (signal: MigrationSignal) => void {
  const client = new ControllerClient({ api: `http://127.0.0.1:${ctl.httpPort}` });
  let told: Promise<unknown> = Promise.resolve();
  return (signal) => {
    if (!phases) return;
    told = told.then(() => client.signal(mac, signal)).then(
      () => say(`host agent: ${signal.kind} told ${(Date.now() - signal.at).toFixed(0)} ms after it happened`),
      (e: Error) => say(`host agent: controller not told ${signal.kind}: ${e.message}`),
    );
  };
}

/**
 * The measured part of a scenario on a running lab: streams into the VM, the moves, probes after
 * each, then the streams' results. Can run several times on one lab (the VM starts where it is).
 */
export async function runMoves(spec: ScenarioSpec, lab: Lab, say: (t: string) => void = () => undefined): Promise<ScenarioResult> {
  const { net, vm, ctl } = lab;
  const scratch = mkdtempSync(join(lab.scratch, 'moves-'));
  const startedAt = Date.now();
  const conflictsBefore = ctl?.find('conflicting claim: refused').length ?? 0;
  // Senders run until told to stop (SIGTERM after the last dwell), then close and wait for the receiver.
  const durationS = 3600;
  const receivers = spec.senders.map((from, i) => {
    const out = join(scratch, `rx-${from}.json`);
    return { from, out, proc: vm.spawn(vm.streamServeCommand(5001 + i, out)) };
  });
  await Promise.all(receivers.map((r) => r.proc.waitForLine(/listening/)));
  const servers = await startProbeServers(net, vm, spec);
  const stopFile = join(scratch, 'stop-senders');
  const senders = spec.senders.map((from, i) => ({
    from, proc: net.spawn(from, `${PY} ${STREAM} send --host ${VM_EID} --port ${5001 + i} --rate ${spec.rate} --duration ${durationS} --linger 4 --stop-file ${stopFile}`),
  }));
  await Promise.all(senders.map((s) => s.proc.waitForLine(/connected/)));
  const udp = await startUdp(spec, net, vm, scratch, stopFile);
  say(`${spec.name}: ${senders.length} streams of ${spec.rate / 1e6} MB/s running${udp ? `, ${spec.udpPps} datagrams/s from ${udp.from}` : ''}`);
  if (spec.lossFree === true && ctl !== undefined) await fetch(`http://127.0.0.1:${ctl.httpPort}/api/health`).then((r) => r.body?.cancel()); // the agent's connection is up before the first migration

  const raw: Array<Omit<MigrationResult, 'gapMs' | 'reads' | 'udpLostAtMs'>> = [];
  const readDrops = () => readDropCounters(net, vm, { ...(udp === undefined ? {} : { sender: udp.from }), ...(ctl === undefined ? {} : { ctl }) });
  let from = await whereIs(vm, net);
  const vif = { ifaceId: randomUUID(), vmUuid: randomUUID() }; // the VM's interface, as its hypervisors name it in OVSDB
  for (const [index, move] of spec.moves.entries()) {
    await sleep(spec.dwellMs / 2);
    const [before, dropsBefore] = await Promise.all([countersOf(net, spec.senders), readDrops()]);
    const mark = ctl?.lines.length ?? 0;
    const toPort = move.toPort ?? 10;
    const told = spec.lossFree === true || spec.announceDestination === true;
    const onSignal = told && ctl !== undefined ? hostAgent(ctl, VM_MAC, say, spec.lossFree === true) : undefined;
    const times = await vm.migrate({
      toSwitch: move.toSwitch, toPort, pauseMs: spec.pauseMs, ...(move.lingerMs !== undefined ? { lingerMs: move.lingerMs } : {}), ...(onSignal === undefined ? {} : { onSignal }),
      ...(told ? { vif } : {}),
      ...(spec.precopyMs === undefined ? {} : { precopyMs: spec.precopyMs }), ...(spec.copyLeadMs === undefined ? {} : { copyLeadMs: spec.copyLeadMs }),
    });
    const to = `${move.toSwitch}:${toPort}`;
    const record = ctl && spec.rewrite ? await completedMove(ctl, mark, net.topology.switches[move.toSwitch]?.dpid ?? '', toPort) : undefined;
    await sleep(spec.dwellMs / 2);
    const probes = spec.probes ? await probeAll(net, vm) : [];
    const [after, dropsAfter] = await Promise.all([countersOf(net, spec.senders), readDrops()]);
    const delta = (k: keyof Counters) => Object.fromEntries(spec.senders.map((h) => [h, after[h]![k] - before[h]![k]]));
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    raw.push({
      index: index + 1, from, to, times, udpLost: null, drops: dropsBetween(dropsBefore, dropsAfter),
      reconvergenceMs: num(record?.reconvergenceMs), releaseMs: num(record?.releaseMs), confirmMs: num(record?.confirmMs), rounds: num(record?.rounds),
      plannedAhead: typeof record?.plannedAhead === 'boolean' ? record.plannedAhead : null,
      reason: typeof record?.reason === 'string' ? record.reason : null,
      trigger: typeof record?.trigger === 'string' ? record.trigger : null,
      detectedAt: num(record?.detectedAt), flowMods: num(record?.flowMods),
      controllerRecords: ctl ? ctl.lines.slice(mark).filter((l) => l.msg === 'migration completed').length : 0,
      retransmissions: delta('retransSegs'),
      resets: Object.fromEntries(spec.senders.map((h) => [h, after[h]!.outRsts - before[h]!.outRsts + after[h]!.estabResets - before[h]!.estabResets])),
      probes,
    });
    const failed = probes.filter((p) => !p.ok);
    const retried = probes.filter((p) => p.ok && p.attempts > 1).length;
    const downtime = times.qemu ? `, QEMU downtime ${times.qemu.downtimeMs} ms` : '';
    say(`${spec.name}: move ${index + 1} ${from} -> ${to}: pause ${times.pauseMs.toFixed(0)} ms${downtime}, announce +${times.announcedAt === null ? '-' : (times.announcedAt - times.resumedAt).toFixed(0)} ms, reconvergence ${record?.reconvergenceMs ?? '-'} ms${record ? ` (${String(record.reason)})` : ''}, probes ${probes.length - failed.length}/${probes.length} ok${retried > 0 ? ` (${retried} after a retry)` : ''}${failed.length ? ' (failed: ' + failed.map((p) => `${p.kind} ${p.from}->${p.to}`).join(', ') + ')' : ''}`);
    from = to;
  }

  await sleep(spec.dwellMs / 2);
  writeFileSync(stopFile, '');
  const sent = await Promise.all(senders.map(async (s) => ({ from: s.from, result: await doneLine(s.proc, 15_000) })));
  const udpCount = udp === undefined ? undefined : await udp.finish();
  // A receiver ends by itself at its sender's close, once it has written its result. A long run's
  // timeline takes seconds to write on a loaded machine, and a kill gives 1 s before SIGKILL: the
  // soak's cnB receiver was killed that way, writing, at the end of its 10-minute runs. So a receiver
  // is only stopped when it has not ended within 20 s.
  await Promise.all(receivers.map((r) => r.proc.wait(20_000).catch(() => undefined)));
  for (const r of receivers) if (r.proc.exit === undefined) await r.proc.kill().catch(() => undefined);
  await Promise.all(servers.map((p) => p.kill().catch(() => undefined)));

  const streams: StreamResult[] = receivers.map((r) => {
    const rx = vm.streamResult(r.proc, r.out) as { bytes?: number; inOrder?: boolean; error?: string | null; timeline?: Timeline };
    const tx = sent.find((s) => s.from === r.from)?.result ?? {};
    const bytesSent = typeof tx.bytes === 'number' ? tx.bytes : 0;
    const bytesReceived = rx.bytes ?? 0;
    const senderError = typeof tx.error === 'string' ? tx.error : tx.bytes === undefined ? `sender printed no result (${processState(senders.find((s) => s.from === r.from)!.proc)})` : null;
    const receiverError = rx.error ?? (rx.bytes === undefined ? `receiver wrote no result (${processState(r.proc)})` : null);
    return {
      from: r.from, bytesSent, bytesReceived, inOrder: rx.inOrder === true, senderError, receiverError,
      survived: senderError === null && receiverError === null && rx.inOrder === true && bytesReceived === bytesSent && bytesSent > 0,
      timeline: rx.timeline ?? [],
    };
  });
  const migrations: MigrationResult[] = raw.map((m, i) => {
    const until = raw[i + 1]?.times.pausedAt ?? Number.POSITIVE_INFINITY;
    // A datagram lost at a stop is named by the one sent just before it (before the stop): a move's
    // window runs from halfway after the previous stop to halfway before the next.
    const previous = raw[i - 1]?.times.pausedAt;
    const next = raw[i + 1]?.times.pausedAt;
    const udpSince = previous === undefined ? Number.NEGATIVE_INFINITY : (previous + m.times.pausedAt) / 2;
    const udpUntil = next === undefined ? Number.POSITIVE_INFINITY : (m.times.pausedAt + next) / 2;
    const udpLost = udpCount === undefined ? null : UdpStream.lostBetween(udpCount, udpSince, udpUntil);
    const udpLostAtMs = udpCount === undefined ? [] : UdpStream.lostAt(udpCount, udpSince, udpUntil).map((t) => Math.round(t - m.times.pausedAt));
    return {
      ...m, udpLost, udpLostAtMs,
      gapMs: Object.fromEntries(streams.map((s) => [s.from, gapAround(s.timeline, m.times.pausedAt, until)])),
      reads: Object.fromEntries(streams.map((s) => [s.from, readsAround(s.timeline, m.times.pausedAt, m.times.resumedAt, until)])),
    };
  });
  const resets = migrations.reduce((n, m) => n + Object.values(m.resets).reduce((a, b) => a + b, 0), 0);
  return {
    name: spec.name, description: spec.description, rewrite: spec.rewrite, startedAt, migrations, streams,
    udp: udpCount === undefined ? null : udpCount.result,
    survived: streams.every((s) => s.survived), resets,
    probesFailed: migrations.reduce((n, m) => n + m.probes.filter((p) => !p.ok).length, 0),
    conflicts: (ctl?.find('conflicting claim: refused').length ?? 0) - conflictsBefore,
    drops: addDrops(...migrations.map((m) => m.drops)),
  };
}

/**
 * The numbered UDP stream of a scenario (udpPps), from its first sender to the VM: started now,
 * stopped with the TCP senders (the same stop file).
 */
async function startUdp(spec: ScenarioSpec, net: MininetDriver, vm: LabVm, scratch: string, stopFile: string): Promise<UdpStream | undefined> {
  const from = spec.senders[0];
  if (spec.udpPps === undefined || from === undefined) return undefined;
  const out = join(scratch, 'udp-rx.json');
  return UdpStream.start(net, { from, receiver: vm.spawn(vm.udpServeCommand(UDP_PORT, out)), out, toIp: VM_EID, port: UDP_PORT, pps: spec.udpPps, stopFile });
}

/** How a process ended, or that it has not, with its last line on stderr: why it left no result. */
export function processState(proc: Pick<HostProcess, 'exit' | 'stderr'>): string {
  const exit = proc.exit;
  const how = exit === undefined ? 'still running' : exit.code !== null ? `exited with code ${exit.code}` : `ended by ${exit.signal ?? 'a signal'}`;
  const last = proc.stderr.filter((l) => l.trim() !== '').at(-1);
  return last === undefined ? how : `${how}; stderr: ${last.trim().slice(0, 200)}`;
}

/** The controller's record of a move to (dpid, port) logged after line `mark`; undefined when none came within `timeoutMs`. */
export async function completedMove(ctl: ControllerProcess, mark: number, dpid: string, port: number, timeoutMs = 5_000): Promise<LogLine | undefined> {
  const wanted = (l: LogLine) => l.msg === 'migration completed' && typeof l.to === 'string' && sameAttachment(l.to, dpid, port);
  return ctl.waitFor(wanted, timeoutMs, `a move to ${dpid}:${port}`, mark).catch(() => undefined);
}

/** A locator text `A/0000000000000001:10/10.0.1.10` names switch `dpid` (hex) and `port`. */
function sameAttachment(locator: string, dpid: string, port: number): boolean {
  const m = /\/([0-9a-f]+):(\d+)\//i.exec(locator);
  return m !== null && dpid !== '' && BigInt(`0x${m[1]}`) === BigInt(`0x${dpid}`) && Number(m[2]) === port;
}

/** Where the VM is now, as `s1:10`. */
async function whereIs(vm: LabVm, net: MininetDriver): Promise<string> {
  const a = await vm.attachment();
  const name = Object.entries(net.topology.switches).find(([, s]) => s.bridge === a.bridge)?.[0] ?? a.bridge ?? '?';
  return `${name}:${a.port}`;
}

async function startProbeServers(net: MininetDriver, vm: LabVm, spec: ScenarioSpec): Promise<HostProcess[]> {
  if (!spec.probes) return [];
  const procs = [vm.spawn(vm.probeServerCommand('tcp', 6001)), vm.spawn(vm.probeServerCommand('udp', 6002))];
  for (const host of Object.keys(CORRESPONDENTS)) procs.push(net.spawn(host, `${PY} ${PROBE} udp-server --port 6002`));
  await Promise.all(procs.map((p) => p.waitForLine(/listening/)));
  return procs;
}

/** New TCP connections, UDP round trips and pings, to the VM from everyone and back. */
export async function probeAll(net: MininetDriver, vm: LabVm): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  const run = async (from: string, to: string, kind: ProbeResult['kind'], command: string): Promise<void> => {
    let r = { code: -1, stdout: '', stderr: '' };
    let attempts = 0;
    while (attempts < 3 && r.code !== 0) {
      attempts++;
      const cmd = from === VM ? vm.cmd(command, { timeoutMs: 8_000 }) : net.cmd(from, command, { timeoutMs: 8_000 });
      r = await cmd.catch((e: Error) => ({ code: -1, stdout: e.message, stderr: '' }));
    }
    results.push({ from, to, kind, ok: r.code === 0, attempts, ...(r.code === 0 ? {} : { detail: (r.stdout + r.stderr).trim().slice(0, 200) }) });
  };
  for (const [host, ip] of Object.entries(CORRESPONDENTS)) {
    await run(host, VM, 'tcp', `${PY} ${PROBE} tcp --host ${VM_EID} --port 6001`);
    await run(host, VM, 'udp', `${PY} ${PROBE} udp --host ${VM_EID} --port 6002`);
    await run(host, VM, 'ping', `ping -c 3 -i 0.2 -W 2 ${VM_EID}`);
    await run(VM, host, 'udp', vm.probeClientCommand('udp', ip, 6002));
    await run(VM, host, 'ping', `ping -c 3 -i 0.2 -W 2 ${ip}`);
  }
  return results;
}

async function countersOf(net: MininetDriver, hosts: readonly string[]): Promise<Record<string, Counters>> {
  const out: Record<string, Counters> = {};
  for (const host of hosts) {
    const tcp = snmpFields(await net.check(host, 'cat /proc/net/snmp'), 'Tcp');
    out[host] = { retransSegs: tcp.RetransSegs ?? 0, outRsts: tcp.OutRsts ?? 0, estabResets: tcp.EstabResets ?? 0 };
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
