/**
 * The Seamless reference topology in Mininet, driven from TypeScript.
 *
 * A Python agent (mininet_agent.py, run by Debian's /usr/bin/python3) builds the topology with the
 * Mininet API and executes commands; this class is its typed front. Host names are the topology's
 * (cnA, cnB, cnC, ext, r, vm); switch names are logical (s1, s2, s3) and map to bridges named with a
 * per-run prefix, so that several runs can share one Open vSwitch.
 *
 * Cleanup happens in every case: stop() (idempotent), the agent's own handlers for stdin EOF and
 * signals (so even a killed Node process leaves nothing behind), and a process exit hook.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { AGENT_PYTHON, AgentChannel, AgentError, topologyFile, type AgentEvent, type MigrationPhase } from './agent-channel.js';
import { HostProcess, type ProcessExit } from './host-process.js';

export { doneLine, HostProcess, type ProcessExit, type ProcessLine } from './host-process.js';
export { AgentError } from './agent-channel.js';

const run = promisify(execFile);

export interface StartOptions {
  /** Remote OpenFlow controller; without one, switches (fail_mode secure) drop everything until given flows. */
  controller?: { host: string; port: number };
  /** Several controllers (the replicas of a cluster): every switch connects to each of them. */
  controllers?: readonly { host: string; port: number }[];
  /** Install `priority=0,actions=NORMAL` in every switch: plain L2 learning, no controller needed. */
  plainL2?: boolean;
  /** Prefix of bridge and tap names, 0-5 of [a-z0-9]; default: a random one. */
  prefix?: string;
  /** Number of managed subnets (10.0.1.0/24, 10.0.2.0/24, ...); default 3. */
  subnets?: number;
  /** Add the external host `ext` (10.0.9.2) behind the router; default true. */
  external?: boolean;
  /**
   * The VM: 'mininet' (default) adds the emulated VM host `vm` on s1 port 10; 'none' leaves s1 port
   * 10 free for a real QEMU guest (topologies/qemu/qemu-vm.ts) attached to bridge(s1).
   */
  vm?: 'mininet' | 'none';
  /** OpenFlow versions offered by the switches; default "OpenFlow13". */
  protocols?: string;
  /** Default 60 s. */
  startTimeoutMs?: number;
  /** Receives the agent's stderr lines (Mininet warnings, tracebacks). */
  log?: (line: string) => void;
}

export interface HostInfo {
  readonly pid: number;
  readonly interfaces: ReadonlyArray<{ name: string; ip: string | null; mac: string | null }>;
}

export interface Topology {
  readonly prefix: string;
  readonly hosts: Readonly<Record<string, HostInfo>>;
  readonly switches: Readonly<Record<string, { bridge: string; dpid: string }>>;
  readonly vms: Readonly<Record<string, { iface: string; mac: string; ip: string; tap: string }>>;
  /** Switch-side veth ends in the root namespace (all named with the prefix). */
  readonly rootLinks: readonly string[];
  /** How long the agent took to build and start the network. */
  readonly startMs: number;
}

export interface CmdOptions {
  /** Default 10 s; a command still running then is killed and the call rejects. */
  timeoutMs?: number;
}

export interface CmdResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export type Announce = 'rarp' | 'garp' | 'both' | 'none';

/** libvirt's ids of a VM interface: with them the destination's port carries external_ids attached-mac (the VM's MAC), iface-id, vm-uuid and iface-status=active, as libvirt writes them, and the controller's OVSDB watcher reads the move ahead. */
export interface VifIds {
  readonly ifaceId: string;
  readonly vmUuid: string;
}

/** Where a migration goes, and what the destination hypervisor says about it in Open vSwitch's database. */
export interface Destination {
  toSwitch: string;
  /** OpenFlow port on the target switch; default 10. */
  toPort?: number;
  /** Without: the port carries no external_ids (a hypervisor that does not write them). */
  vif?: VifIds;
}

export interface MigrateOptions extends Destination {
  /** Stop-and-copy pause; default 100 ms. */
  pauseMs?: number;
  /** What the VM sends after resuming; default 'both': QEMU's RARP rounds (announce_self) and the guest's gratuitous ARP. */
  announce?: Announce;
  /**
   * The source's port stays up after the move, as a real hypervisor leaves the paused source's tap
   * (default true); false = it goes at the stop (a port-down the controller sees at once).
   */
  keepSource?: boolean;
  /** How long after the resume the source's port stays (the source being quit); default 1000 ms. */
  lingerMs?: number;
  /** QEMU's announce timer: rounds (5), initial (50 ms), step (100 ms): frames at 0, 50, 200, 450, 800 ms. */
  announceRounds?: number;
  announceInitialMs?: number;
  announceStepMs?: number;
  timeoutMs?: number;
  /** Hears the VM stop and resume, as they happen: what a host agent hears from QEMU. */
  onPhase?: (phase: MigrationPhase, at: number) => void;
}

/** Instants are epoch milliseconds (comparable with Date.now()), with sub-millisecond precision. */
export interface MigrationTimes {
  readonly pauseRequestedAt: number;
  /** The VM stopped (its source's port left its hub): from here it neither receives nor delivers packets. */
  readonly pausedAt: number;
  /** The destination's port was added to the target switch with its port number (before the stop, by `prepare` or at the start of the migration). */
  readonly movedAt: number;
  /** The VM runs at the destination's port: pausedAt + pauseMs. */
  readonly resumedAt: number;
  /** Measured pause (resumedAt - pausedAt) and the one asked for. */
  readonly pauseMs: number;
  readonly requestedPauseMs: number;
  /** First announce frame sent, or null with announce 'none'. */
  readonly announcedAt: number | null;
  readonly announcements: ReadonlyArray<{ round: number; kind: 'rarp' | 'garp'; t: number }>;
  readonly fromSwitch: string | null;
  readonly fromBridge: string | null;
  readonly fromPort: number | null;
  readonly toSwitch: string;
  readonly toBridge: string;
  readonly toPort: number;
  /** The destination's port (the VM's hypervisor port, as `Attachment.tap`). */
  readonly port: string;
  /** When the source's port (left up) goes, or absent when it went at the stop. */
  readonly sourceQuitAt?: number;
}

export interface Attachment {
  /** The port of the hypervisor running the VM: <prefix><vm>-p0 or -p1 (topologies/vm_nic.py). */
  readonly tap: string;
  /** Logical switch name, or null when the port is on no bridge. */
  readonly switch: string | null;
  readonly bridge: string | null;
  readonly port: number | null;
}

const CMD_MARGIN_MS = 5_000;

export class MininetDriver {
  private readonly processes = new Map<number, HostProcess>();
  /** Events that arrived before the response carrying their handle. */
  private readonly early = new Map<number, AgentEvent[]>();
  /** The onPhase of each VM's migration under way. */
  private readonly phaseListeners = new Map<string, (phase: MigrationPhase, at: number) => void>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly channel: AgentChannel,
    readonly topology: Topology,
  ) {}

  static async start(options: StartOptions = {}): Promise<MininetDriver> {
    let driver: MininetDriver | undefined;
    const pendingEvents: AgentEvent[] = [];
    const channel = await AgentChannel.open(
      (event) => (driver ? driver.onEvent(event) : pendingEvents.push(event)),
      options.log,
    );
    try {
      const topology = await channel.request<Topology>('start', startParams(options), options.startTimeoutMs ?? 60_000);
      driver = new MininetDriver(channel, topology);
      for (const event of pendingEvents) driver.onEvent(event);
      return driver;
    } catch (error) {
      await channel.terminate();
      throw error;
    }
  }

  /** Bridge name of a logical switch (s1 -> <prefix>s1), for ovs-ofctl and ovs-vsctl. */
  bridge(switchName: string): string {
    const entry = this.topology.switches[switchName];
    if (!entry) throw new AgentError(`unknown switch ${switchName} (known: ${Object.keys(this.topology.switches).join(', ')})`);
    return entry.bridge;
  }

  /** Run a shell command in a host and return its output and exit code (a non-zero code is not an error). */
  async cmd(host: string, command: string, options: CmdOptions = {}): Promise<CmdResult> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const result = await this.channel.request<CmdResult & { timedOut: boolean }>(
      'cmd',
      { host, command, timeoutMs },
      timeoutMs + CMD_MARGIN_MS,
    );
    if (result.timedOut) {
      throw new AgentError(`${host}: "${command}" timed out after ${timeoutMs} ms (output so far: ${result.stdout.slice(-500)})`);
    }
    return { stdout: result.stdout, stderr: result.stderr, code: result.code };
  }

  /** Like cmd, but reject unless the command exits 0. */
  async check(host: string, command: string, options: CmdOptions = {}): Promise<string> {
    const result = await this.cmd(host, command, options);
    if (result.code !== 0) {
      throw new AgentError(`${host}: "${command}" exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
    }
    return result.stdout;
  }

  /** Start a long-running command in a host; its output streams into the returned object. */
  spawn(host: string, command: string): HostProcess {
    const started = this.channel.request<{ handle: number; pid: number }>('popen', { host, command }, 10_000);
    const proc = new HostProcess(host, command, started, {
      kill: (handle, signal) => this.channel.request('kill', { handle, signal }, 10_000),
    });
    started.then(
      ({ handle }) => this.adopt(handle, proc),
      () => undefined, // reported through the HostProcess
    );
    return proc;
  }

  /**
   * The destination hypervisor adds its port for a coming migration (as libvirt's incoming QEMU adds
   * its tap, before the memory copy). `migrate` does it itself when nothing was prepared.
   */
  prepare(vm: string, options: Destination): Promise<{ addedAt: number }> {
    return this.channel.request<{ addedAt: number }>('prepare', { vm, ...options }, 20_000);
  }

  /** Live-migrate a VM: prepare, stop, resume at the destination's port, announce. Resolves after the last announcement. */
  migrate(vm: string, options: MigrateOptions): Promise<MigrationTimes> {
    const { timeoutMs = 30_000, onPhase, ...plan } = options;
    if (onPhase === undefined) return this.channel.request<MigrationTimes>('migrate', { vm, ...plan }, timeoutMs);
    this.phaseListeners.set(vm, onPhase);
    return this.channel.request<MigrationTimes>('migrate', { vm, ...plan }, timeoutMs).finally(() => {
      if (this.phaseListeners.get(vm) === onPhase) this.phaseListeners.delete(vm);
    });
  }

  /** Where a VM's link is attached now, read from Open vSwitch. */
  attachment(vm: string): Promise<Attachment> {
    return this.channel.request<Attachment>('attachment', { host: vm }, 10_000);
  }

  /** Set the switch-side link of a port up or down (a cable pulled; the host sees carrier loss). */
  async setPort(switchName: string, port: number, up: boolean): Promise<void> {
    await this.channel.request('port', { switch: switchName, port, up }, 10_000);
  }

  portDown(switchName: string, port: number): Promise<void> {
    return this.setPort(switchName, port, false);
  }

  portUp(switchName: string, port: number): Promise<void> {
    return this.setPort(switchName, port, true);
  }

  /** Which switches have a connected controller, by logical name. */
  connected(): Promise<Record<string, boolean>> {
    return this.channel.request('connected', {}, 10_000);
  }

  /** ovs-ofctl on a switch, OpenFlow 1.3: ofctl('s1', 'dump-flows'), ofctl('s2', 'add-flow', 'priority=0,actions=NORMAL'). */
  async ofctl(switchName: string, subcommand: string, ...args: string[]): Promise<string> {
    const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', subcommand, this.bridge(switchName), ...args]);
    return stdout;
  }

  /** Stop the network and remove everything the run created. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    try {
      if (this.channel.alive) await this.channel.request('stop', {}, 60_000);
    } catch {
      // The agent also cleans up on SIGTERM; terminate() below covers a failed or lost stop.
    } finally {
      await this.channel.terminate();
      for (const proc of this.processes.values()) proc.exited({ code: null, signal: 'network stopped' });
      this.processes.clear();
    }
  }

  private onEvent(event: AgentEvent): void {
    if (event.event === 'migration') {
      this.phaseListeners.get(event.vm)?.(event.phase, event.at);
      return;
    }
    if (event.event !== 'line' && event.event !== 'exit') return;
    const proc = this.processes.get(event.handle);
    if (!proc) {
      const queue = this.early.get(event.handle) ?? [];
      queue.push(event);
      this.early.set(event.handle, queue);
      return;
    }
    deliver(proc, event);
    if (event.event === 'exit') this.processes.delete(event.handle);
  }

  private adopt(handle: number, proc: HostProcess): void {
    this.processes.set(handle, proc);
    for (const event of this.early.get(handle) ?? []) this.onEvent(event);
    this.early.delete(handle);
  }
}

function deliver(proc: HostProcess, event: AgentEvent): void {
  if (event.event === 'line') proc.deliver(event.stream, event.line);
  else if (event.event === 'exit') proc.exited(exitOf(event));
}

function exitOf(event: { code: number | null; signal?: string }): ProcessExit {
  return event.signal === undefined ? { code: event.code } : { code: event.code, signal: event.signal };
}

function startParams(options: StartOptions): Record<string, unknown> {
  return {
    prefix: options.prefix ?? randomPrefix(),
    subnets: options.subnets ?? 3,
    external: options.external ?? true,
    vm: options.vm ?? 'mininet',
    protocols: options.protocols ?? 'OpenFlow13',
    plainL2: options.plainL2 ?? false,
    controller: options.controller ?? null,
    controllers: options.controllers ?? null,
  };
}

/** 'm' and three base-36 characters: bridges m4k2s1, m4k2s2... */
function randomPrefix(): string {
  const value = randomBytes(4).readUInt32BE(0) % 36 ** 3;
  return `m${value.toString(36).padStart(3, '0')}`;
}

/** Debian's Python, for scripts run inside hosts (the first python3 on PATH may not be it). */
export const HOST_PYTHON = AGENT_PYTHON;
/** The paced, order-checking TCP stream (topologies/case-study/stream.py): `${HOST_PYTHON} ${TCP_STREAM} serve`. */
export const TCP_STREAM = topologyFile('case-study/stream.py');
