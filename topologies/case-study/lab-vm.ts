// The VM of a case-study run, whichever it is: the emulated Mininet host `vm`, or a real QEMU guest
// on the same switch port (s1 port 10) live-migrated over QMP (topologies/qemu/). The experiment
// runs its tools in the VM, migrates it and reads its stream results through this one shape.

import { readFileSync } from 'node:fs';
import { topologyFile } from '../agent-channel.js';
import type { CmdOptions, CmdResult, HostProcess, MigrationTimes, MininetDriver, VifIds } from '../mininet-driver.js';
import { onHostClock, probeClientCommand, probeServerCommand, streamServeCommand, udpServeCommand } from '../qemu/guest-tools.js';
import { QemuVm, type QemuMigrationTimes } from '../qemu/qemu-vm.js';
import { DEFAULT_COPY_LEAD_MS, type MigrationSignal } from '../../controller/host-agent/migration-signals.js';

const STREAM = topologyFile('case-study/stream.py');
const UDP_STREAM = topologyFile('case-study/udp_stream.py');
/** The emulated migration's memory copy before its stop, when a host agent follows it (the QEMU lab's 64 MB guest: about 300-400 ms). */
const EMULATED_PRECOPY_MS = 300;
const PROBE = topologyFile('case-study/probe.py');
const PY = '/usr/bin/python3';

export type VmKind = 'mininet' | 'qemu';
export const VM_KINDS: readonly VmKind[] = ['mininet', 'qemu'];

/** One live migration of the lab's VM. */
export interface LabMove {
  readonly toSwitch: string;
  readonly toPort: number;
  /** The emulation's stop-and-copy (a real QEMU decides its own). */
  readonly pauseMs: number;
  /** How long the paused source keeps its port up after the move; default each VM's own (1000 ms). */
  readonly lingerMs?: number;
  /**
   * Loss-free migration: told what a host agent would tell the controller (controller/host-agent):
   * QEMU from the source's QMP events; the emulated VM around its pause.
   */
  readonly onSignal?: (signal: MigrationSignal) => void;
  /**
   * The destination hypervisor writes libvirt's external_ids on its port (attached-mac...), which the
   * controller's OVSDB watcher reads as the move ahead: for the emulated VM (MigrateOptions.vif); the
   * QEMU lab's destination tap always carries them.
   */
  readonly vif?: VifIds;
  /** The emulation's memory copy before the stop, when a host agent follows it (a real QEMU decides its own); default 300 ms. */
  readonly precopyMs?: number;
  /** How long before the stop the emulated host agent says 'converging' (its --copy-lead-ms); default the agent's. */
  readonly copyLeadMs?: number;
}

/** A lab migration's instants and places; `port` (the emulated VM's hypervisor port) is the Mininet driver's only. */
export type LabMigrationTimes = Omit<MigrationTimes, 'port'> & { readonly port?: string; readonly qemu?: QemuMigrationTimes };

export interface LabVm {
  readonly kind: VmKind;
  cmd(command: string, options?: CmdOptions): Promise<CmdResult>;
  spawn(command: string): HostProcess;
  /** A TCP stream receiver (stream.py serve) on `port`; `out` is a scratch file it may write its result to. */
  streamServeCommand(port: number, out: string): string;
  /** The receiver's "done" result as stream.py writes it (epoch-second times), once it has exited; {} when there is none. */
  streamResult(receiver: HostProcess, out: string): Record<string, unknown>;
  /**
   * A numbered-datagram receiver (udp_stream.py serve, or the QEMU guest's own) that on SIGTERM writes
   * what it counted to `out`, or prints it as its "done" line where the VM cannot write the host's files.
   */
  udpServeCommand(port: number, out: string): string;
  probeServerCommand(kind: 'tcp' | 'udp', port: number): string;
  probeClientCommand(kind: 'tcp' | 'udp', host: string, port: number): string;
  migrate(move: LabMove): Promise<LabMigrationTimes>;
  /** The bridge and OpenFlow port the VM is attached to now. */
  attachment(): Promise<{ readonly bridge: string | null; readonly port: number | null }>;
  /** Resolves when no paused source lingers any more (every old port is gone). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** The emulated VM: the Mininet host `vm` with Python's stream.py and probe.py. */
export function mininetVm(net: MininetDriver, name = 'vm'): LabVm {
  let lastSourceQuitAt = 0;
  return {
    kind: 'mininet',
    cmd: (command, options) => net.cmd(name, command, options),
    spawn: (command) => net.spawn(name, command),
    streamServeCommand: (port, out) => `${PY} ${STREAM} serve --port ${port} --out ${out}`,
    streamResult: (_receiver, out) => readJson(out),
    udpServeCommand: (port, out) => `${PY} ${UDP_STREAM} serve --port ${port} --out ${out}`,
    probeServerCommand: (kind, port) => `${PY} ${PROBE} ${kind}-server --port ${port}`,
    probeClientCommand: (kind, host, port) => `${PY} ${PROBE} ${kind} --host ${host} --port ${port}`,
    migrate: async ({ toSwitch, toPort, pauseMs, lingerMs, onSignal, vif, precopyMs = EMULATED_PRECOPY_MS, copyLeadMs = DEFAULT_COPY_LEAD_MS }) => {
      // What a host agent hears from QEMU: the migration starts (setup), the stop-and-copy is
      // near (the agent's copy lead before it), the VM stops for the stop-and-copy (the cut), the
      // migration completes (the VM runs at its destination). QEMU copies the guest's memory
      // first while it runs (about 300 ms for the 64 MB guest of the QEMU lab); a host agent's
      // 'migrating' comes that much before the stop.
      // The destination hypervisor's port comes first, as libvirt's incoming QEMU adds its tap.
      const destination = { toSwitch, toPort, ...(vif === undefined ? {} : { vif }) };
      await net.prepare(name, destination);
      onSignal?.({ kind: 'migrating', at: Date.now() });
      if (onSignal !== undefined) {
        await sleepMs(Math.max(0, precopyMs - copyLeadMs));
        onSignal({ kind: 'converging', at: Date.now() });
        await sleepMs(Math.min(precopyMs, copyLeadMs));
      }
      const onPhase = onSignal === undefined ? undefined
        : (phase: 'stopped' | 'resumed', at: number) => onSignal({ kind: phase === 'stopped' ? 'stopping' : 'resumed', at });
      const times = await net.migrate(name, { ...destination, pauseMs, ...(lingerMs !== undefined ? { lingerMs } : {}), ...(onPhase === undefined ? {} : { onPhase }) });
      lastSourceQuitAt = Math.max(lastSourceQuitAt, times.sourceQuitAt ?? 0);
      return times;
    },
    attachment: () => net.attachment(name),
    settled: () => sleepMs(lastSourceQuitAt - Date.now()),
    stop: async () => undefined, // the network's stop ends it
  };
}

export interface QemuLabVmOptions {
  /** The VM's EID, MAC and gateway; default the reference lab's (10.0.1.10, 02:00:00:00:01:0a, 10.0.1.1). */
  readonly address?: string;
  readonly mac?: string;
  readonly gateway?: string;
  /** Where it boots; default s1 port 10. */
  readonly homeSwitch?: string;
  readonly homePort?: number;
  /** Passed to every migration (QemuMigrateOptions). */
  readonly leadMs?: number;
  /** Hold each stop-and-copy for the move's pauseMs (QEMU's pause-before-switchover), instead of QEMU's own few ms. */
  readonly holdStop?: boolean;
  readonly lingerMs?: number;
  readonly downtimeLimitMs?: number;
  readonly log?: (line: string) => void;
}

/** A real QEMU guest on the running Mininet lab's bridges (start the lab with `vm: 'none'`). */
export async function qemuLabVm(net: MininetDriver, options: QemuLabVmOptions = {}): Promise<LabVm> {
  const homeSwitch = options.homeSwitch ?? 's1';
  const vm = await QemuVm.boot({
    network: { mac: options.mac ?? '02:00:00:00:01:0a', address: options.address ?? '10.0.1.10/24', gateway: options.gateway ?? '10.0.1.1' },
    bridge: net.bridge(homeSwitch),
    port: options.homePort ?? 10,
    ...(options.log ? { log: options.log } : {}),
  });
  const logical = (bridge: string) => Object.entries(net.topology.switches).find(([, s]) => s.bridge === bridge)?.[0] ?? bridge;
  return {
    kind: 'qemu',
    cmd: (command, cmdOptions) => vm.cmd(command, cmdOptions),
    spawn: (command) => vm.spawn(command),
    streamServeCommand: (port) => streamServeCommand(port),
    streamResult: (receiver) => {
      const done = [...receiver.stdout].reverse().find((line) => line.includes('"done"'));
      return done ? (onHostClock(JSON.parse(done) as Record<string, unknown>, vm.clock) as unknown as Record<string, unknown>) : {};
    },
    probeServerCommand: (kind, port) => probeServerCommand(kind, port),
    probeClientCommand: (kind, host, port) => probeClientCommand(kind, host, port),
    udpServeCommand: (port) => udpServeCommand(port), // its result is its "done" line, not a file
    migrate: async ({ toSwitch, toPort, pauseMs, lingerMs = options.lingerMs, onSignal }) => {
      const { times } = await vm.migrate({
        toBridge: net.bridge(toSwitch), toPort,
        ...(options.holdStop === true ? { stopMs: pauseMs } : {}),
        ...(onSignal === undefined ? {} : { onSignal }),
        ...(options.leadMs !== undefined ? { leadMs: options.leadMs } : {}),
        ...(lingerMs !== undefined ? { lingerMs } : {}),
        ...(options.downtimeLimitMs !== undefined ? { downtimeLimitMs: options.downtimeLimitMs } : {}),
      });
      return {
        pauseRequestedAt: times.migrateRequestedAt,
        pausedAt: times.stoppedAt,
        movedAt: times.destinationPortAddedAt,
        resumedAt: times.resumedAt,
        pauseMs: times.resumedAt - times.stoppedAt,
        requestedPauseMs: options.holdStop === true ? pauseMs : options.downtimeLimitMs ?? 300, // the held stop, or QEMU's downtime-limit
        announcedAt: null, // QEMU announces by itself at the resume; not observed here
        announcements: [],
        fromSwitch: logical(times.from.bridge), fromBridge: times.from.bridge, fromPort: times.from.port,
        toSwitch, toBridge: times.to.bridge, toPort: times.to.port,
        qemu: times,
      };
    },
    attachment: async () => vm.attachment(),
    settled: async () => { await vm.settled(); },
    stop: () => vm.stop(),
  };
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}
