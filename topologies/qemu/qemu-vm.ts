/**
 * A real QEMU VM on Open vSwitch bridges, live-migrated between two QEMU processes as a hypervisor
 * does it (docs/qemu-lab.md).
 *
 * A VM is one guest that lives in a succession of QEMU instances, each with its own tap on a bridge
 * port, QMP socket, agent socket and console log in a scratch directory. boot() starts the first;
 * migrate() adds the destination's port (with libvirt's external_ids) `leadMs` before the
 * migration, starts the destination QEMU, migrates over QMP, and leaves the source paused with its
 * port up for `lingerMs` after completion before quitting it and removing its tap.
 * Commands run in the guest through its agent (cmd, check, spawn: the Mininet driver's shapes).
 *
 * Everything a VM creates, stop() removes: QEMU processes (by PID), taps and their ports, sockets,
 * the scratch directory; also on failure half-way, and through labResources on process exit.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostProcess } from '../host-process.js';
import { validateIfname, validateNetwork, type Accel, type GuestNetwork, type QemuSpec } from './command-line.js';
import { GuestAgent, type CmdResult } from './guest-agent.js';
import { GuestClock, type ClockSample } from './guest-clock.js';
import { ensureGuestImage, type GuestImage } from './guest-image.js';
import { labResources } from './lab-resources.js';
import { listenForIncoming, migrate, type MigrationParameters, type QmpMigrationTimes } from './live-migration.js';
import { QemuProcess } from './qemu-process.js';
import type { QmpClient } from '../../controller/host-agent/qmp.js';
import { addTapPort, removeTapPort, type VifIds } from './tap-port.js';
import { consoleTail } from './console-tail.js';
import { sleep } from '../../controller/host-agent/unix-socket.js';

export interface QemuVmOptions {
  /** Shown in logs and errors; default 'vm'. */
  readonly name?: string;
  readonly network: GuestNetwork;
  /** Where the VM starts: an OVS bridge (userspace datapath) and the OpenFlow port number its tap gets. */
  readonly bridge: string;
  readonly port: number;
  /** Default 'tcg' (KVM's vCPUs fail or crawl on these nested machines). */
  readonly accel?: Accel;
  /** Default 128. */
  readonly memoryMb?: number;
  /** The guest image; default: built (if needed) into the default cache. */
  readonly image?: GuestImage;
  /** Tap names are <tapPrefix><n> (at most 15 characters in all); default 'sq' and 4 random characters. */
  readonly tapPrefix?: string;
  /** Until the guest agent answers; default 120 s (a TCG boot takes 5-10 s on an idle machine). */
  readonly bootTimeoutMs?: number;
  readonly kernelArgs?: readonly string[];
  /** QEMU's stderr and the driver's steps. */
  readonly log?: (line: string) => void;
}

export interface QemuMigrateOptions extends MigrationParameters {
  readonly toBridge: string;
  readonly toPort: number;
  /**
   * Time between the destination's port appearing on its bridge (with external_ids) and `migrate`:
   * libvirt adds it while it prepares the destination, seconds before the stop-and-copy. Default 1000 ms.
   */
  readonly leadMs?: number;
  /**
   * How long the paused source QEMU and its tap (so its switch port) stay after the migration
   * completed, before the source is quit and its tap removed (libvirt's confirm phase). Default 1000 ms.
   */
  readonly lingerMs?: number;
  /** Called once the destination's port is on its bridge, before `migrate` (e.g. to start a capture on its tap). */
  readonly onDestinationPort?: (destination: Attachment) => Promise<void> | void;
}

export interface QemuMigrationTimes extends QmpMigrationTimes {
  /** The destination's tap was on its bridge with the VIF's external_ids. */
  readonly destinationPortAddedAt: number;
  readonly from: { readonly bridge: string; readonly port: number; readonly tap: string };
  readonly to: { readonly bridge: string; readonly port: number; readonly tap: string };
  readonly lingerMs: number;
  /** A fresh clock sample after the resume against the mapping (ms): how exact guest times are. */
  readonly clockErrorMs: number;
}

/** When the paused source went away. */
export interface SourceRetirement {
  readonly tap: string;
  readonly bridge: string;
  readonly port: number;
  /** QEMU had exited (epoch ms). */
  readonly quitAt: number;
  /** The tap was off the bridge and deleted. */
  readonly removedAt: number;
}

export interface QemuMigration {
  readonly times: QemuMigrationTimes;
  /** Resolves when the source's linger has ended and it is gone. */
  readonly sourceRetired: Promise<SourceRetirement>;
}

export interface Attachment {
  readonly bridge: string;
  readonly port: number;
  readonly tap: string;
}

interface Instance {
  readonly label: string;
  readonly dir: string;
  readonly tap: string;
  readonly bridge: string;
  readonly port: number;
  readonly controlSocket: string;
  readonly consoleLog: string;
  readonly process: QemuProcess;
  readonly qmp: QmpClient;
}

interface Retiring {
  readonly instance: Instance;
  readonly done: Promise<SourceRetirement>;
  /** End the linger now (stop() or a migration back onto this port). */
  readonly hurry: () => void;
}

const CLOCK_SAMPLES = 5;

export class QemuVm {
  readonly name: string;
  readonly network: GuestNetwork;
  readonly vif: VifIds;
  /** From start to the guest agent's first answer (ms). */
  bootMs = 0;
  private current!: Instance;
  private agent!: GuestAgent;
  private clockMap!: GuestClock;
  private readonly retiring = new Set<Retiring>();
  private instances = 0;
  private migrating: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: QemuVmOptions,
    private readonly image: GuestImage,
    private readonly dir: string,
    private readonly tapPrefix: string,
  ) {
    this.name = options.name ?? 'vm';
    this.network = validateNetwork(options.network);
    this.vif = { attachedMac: this.network.mac, ifaceId: randomUUID(), vmUuid: randomUUID() };
  }

  /** Build the guest if needed, attach a tap to the bridge port, start QEMU, wait for the guest agent. */
  static async boot(options: QemuVmOptions): Promise<QemuVm> {
    const tapPrefix = options.tapPrefix ?? `sq${randomBytes(3).readUIntBE(0, 3).toString(36).slice(0, 4)}`;
    validateIfname(`${tapPrefix}99`);
    const image = options.image ?? (await ensureGuestImage());
    const dir = mkdtempSync(join(tmpdir(), 'seamless-qemu-'));
    labResources.addDir(dir);
    const vm = new QemuVm(options, image, dir, tapPrefix);
    try {
      const started = Date.now();
      vm.current = await vm.startInstance(options.bridge, options.port, false);
      vm.agent = await GuestAgent.connect(vm.current.controlSocket, vm.name, options.bootTimeoutMs ?? 120_000);
      vm.bootMs = Date.now() - started;
      vm.clockMap = GuestClock.fromSamples(await vm.clockSamples());
      vm.say(`booted in ${vm.bootMs} ms on ${options.bridge}:${options.port} (tap ${vm.current.tap}, pid ${vm.current.process.pid})`);
      return vm;
    } catch (error) {
      await vm.stop();
      throw error;
    }
  }

  /** The VM's address without its prefix length. */
  get ip(): string {
    return this.network.address.split('/')[0]!;
  }

  get mac(): string {
    return this.network.mac;
  }

  /** The guest clock's mapping onto the host's (guest CLOCK_MONOTONIC -> epoch ms). */
  get clock(): GuestClock {
    return this.clockMap;
  }

  attachment(): Attachment {
    return { bridge: this.current.bridge, port: this.current.port, tap: this.current.tap };
  }

  /** PIDs of every QEMU of this VM still running (the current one and lingering sources). */
  qemuPids(): number[] {
    return [this.current, ...[...this.retiring].map((r) => r.instance)].filter((i) => i?.process.running).map((i) => i.process.pid);
  }

  /** Taps of this VM that still exist or are about to be removed. */
  taps(): string[] {
    return [this.current.tap, ...[...this.retiring].map((r) => r.instance.tap)];
  }

  /** The guest's serial console log of the current QEMU (diagnostics). */
  get consoleLog(): string {
    return this.current.consoleLog;
  }

  cmd(command: string, options: { timeoutMs?: number } = {}): Promise<CmdResult> {
    return this.agent.cmd(command, options);
  }

  check(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    return this.agent.check(command, options);
  }

  spawn(command: string): HostProcess {
    return this.agent.spawn(command);
  }

  /** Live-migrate to another bridge port (another bridge, or another port of the same one). One at a time. */
  migrate(options: QemuMigrateOptions): Promise<QemuMigration> {
    const run = this.migrating.then(() => this.migrateNow(options));
    this.migrating = run.catch(() => undefined);
    return run;
  }

  /**
   * Stop the VM where it is for `pauseMs` and let it run on (QMP `stop`, `cont`): a pause with no
   * migration, so the same QEMU process (and, under TCG, its translated code) carries on. The host
   * instants of the STOP and RESUME events; the guest clock's mapping is told of the pause, and
   * `clockErrorMs` is how far a fresh sample disagrees with it afterwards.
   */
  pauseInPlace(pauseMs: number): Promise<{ stoppedAt: number; resumedAt: number; clockErrorMs: number }> {
    const run = this.migrating.then(async () => {
      if (this.stopping) throw new Error(`${this.name} is stopped`);
      const { qmp } = this.current;
      const since = Date.now();
      await qmp.execute('stop');
      const stopped = await qmp.waitForEvent((e) => e.event === 'STOP' && e.at >= since - 1, 5000, 'the STOP');
      await sleep(Math.max(0, stopped.at + pauseMs - Date.now()));
      await qmp.execute('cont');
      const resumed = await qmp.waitForEvent((e) => e.event === 'RESUME' && e.at >= stopped.at, 5000, 'the RESUME');
      this.clockMap.pause(stopped.at, resumed.at);
      return { stoppedAt: stopped.at, resumedAt: resumed.at, clockErrorMs: await this.clockError() };
    });
    this.migrating = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every lingering source is gone. */
  async settled(): Promise<SourceRetirement[]> {
    return Promise.all([...this.retiring].map((r) => r.done));
  }

  /** Quit every QEMU of this VM and remove its taps, sockets and scratch directory. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async migrateNow(options: QemuMigrateOptions): Promise<QemuMigration> {
    if (this.stopping) throw new Error(`${this.name} is stopped`);
    const source = this.current;
    if (options.toBridge === source.bridge && options.toPort === source.port) {
      throw new Error(`${this.name} is already on ${source.bridge}:${source.port}`);
    }
    // A source still lingering on the target port must leave first (a VM migrating back quickly).
    for (const r of this.retiring) {
      if (r.instance.bridge === options.toBridge && r.instance.port === options.toPort) {
        r.hurry();
        await r.done;
      }
    }
    const destination = await this.startInstance(options.toBridge, options.toPort, true);
    const destinationPortAddedAt = Date.now();
    let times: QmpMigrationTimes;
    try {
      const port = await listenForIncoming(destination.qmp);
      await options.onDestinationPort?.({ bridge: destination.bridge, port: destination.port, tap: destination.tap });
      await sleep(Math.max(0, destinationPortAddedAt + (options.leadMs ?? 1000) - Date.now()));
      this.agent.hold();
      times = await migrate(source.qmp, destination.qmp, port, options);
    } catch (error) {
      // The VM runs on at the source: QEMU resumes it after a failed migration, and when the source
      // had finished but the destination never ran, it is resumed here (as libvirt does); the destination goes.
      await this.removeInstance(destination);
      await resumeIfPaused(source.qmp).catch(() => undefined);
      this.agent.release();
      throw new Error(`${this.name}: migration ${source.bridge}:${source.port} -> ${options.toBridge}:${options.toPort} failed: ${(error as Error).message}; destination: ${destination.process.stderr()}`);
    }
    this.clockMap.pause(times.stoppedAt, times.resumedAt);
    await this.agent.switchTo(destination.controlSocket);
    this.current = destination;
    const lingerMs = options.lingerMs ?? 1000;
    const sourceRetired = this.retireLater(source, times.completedAt + lingerMs);
    const clockErrorMs = await this.clockError();
    const where = (i: Instance) => ({ bridge: i.bridge, port: i.port, tap: i.tap });
    this.say(`migrated ${source.bridge}:${source.port} -> ${destination.bridge}:${destination.port}: downtime ${times.downtimeMs} ms, total ${times.totalTimeMs} ms`);
    return {
      times: { ...times, destinationPortAddedAt, from: where(source), to: where(destination), lingerMs, clockErrorMs },
      sourceRetired,
    };
  }

  private async startInstance(bridge: string, port: number, incoming: boolean): Promise<Instance> {
    const index = ++this.instances;
    const label = `${this.name}#${index}`;
    const dir = join(this.dir, String(index));
    mkdirSync(dir);
    const tap = `${this.tapPrefix}${index}`;
    const spec: QemuSpec = {
      name: label,
      accel: this.options.accel ?? 'tcg',
      memoryMb: this.options.memoryMb ?? 128,
      kernel: this.image.kernel,
      initrd: this.image.initrd,
      network: this.network,
      tap,
      qmpSocket: join(dir, 'qmp.sock'),
      controlSocket: join(dir, 'control.sock'),
      consoleLog: join(dir, 'console.log'),
      incoming,
      ...(this.options.kernelArgs ? { kernelArgs: this.options.kernelArgs } : {}),
    };
    try {
      await addTapPort(bridge, tap, port, this.vif);
      const { process, qmp } = await QemuProcess.start(spec, (line) => this.say(line));
      return { label, dir, tap, bridge, port, controlSocket: spec.controlSocket, consoleLog: spec.consoleLog, process, qmp };
    } catch (error) {
      await removeTapPort(tap);
      throw error;
    }
  }

  /** Keep a paused source (and its port) until `until` (epoch ms), then quit it and remove its tap. */
  private retireLater(instance: Instance, until: number): Promise<SourceRetirement> {
    let hurry!: () => void;
    const lingered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
      hurry = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const done = lingered.then(() => this.removeInstance(instance));
    const entry: Retiring = { instance, done, hurry };
    this.retiring.add(entry);
    done.finally(() => this.retiring.delete(entry)).catch(() => undefined);
    return done;
  }

  private async removeInstance(instance: Instance): Promise<SourceRetirement> {
    await instance.process.quit(instance.qmp);
    instance.qmp.close();
    const quitAt = Date.now();
    await removeTapPort(instance.tap);
    rmSync(instance.dir, { recursive: true, force: true });
    return { tap: instance.tap, bridge: instance.bridge, port: instance.port, quitAt, removedAt: Date.now() };
  }

  private async shutdown(): Promise<void> {
    for (const r of this.retiring) r.hurry();
    await Promise.allSettled([...this.retiring].map((r) => r.done));
    this.agent?.close();
    if (this.current) await this.removeInstance(this.current).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
    labResources.forgetDir(this.dir);
  }

  /** How far the best of 3 fresh clock samples disagrees with the mapping (ms). */
  private async clockError(): Promise<number> {
    const check = await this.clockSamples(3);
    return this.clockMap.errorOf(check.reduce((a, b) => (b.receivedAt - b.sentAt < a.receivedAt - a.sentAt ? b : a)));
  }

  /** Clock samples; a guest that does not answer fails with the end of its console (a kernel's BUG, say). */
  private async clockSamples(count = CLOCK_SAMPLES): Promise<ClockSample[]> {
    const samples: ClockSample[] = [];
    try {
      for (let i = 0; i < count; i++) samples.push(await this.agent.clock());
    } catch (error) {
      throw new Error(`${(error as Error).message}; the guest's console ends: ${consoleTail(this.current.consoleLog)}`);
    }
    return samples;
  }

  private say(line: string): void {
    this.options.log?.(`${this.name}: ${line}`);
  }
}

/**
 * After a failed migration: let the source's migration end (it fails once the destination is gone;
 * cancelled if it lingers), then `cont` the VM if it was left paused (postmigrate: the source had
 * finished but the destination never ran).
 */
async function resumeIfPaused(qmp: QmpClient): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { status } = await qmp.execute<{ status?: string }>('query-migrate');
    if (status === undefined || ['none', 'completed', 'failed', 'cancelled'].includes(status)) break;
    if (Date.now() > deadline) await qmp.execute('migrate_cancel');
    await sleep(50);
  }
  const { status } = await qmp.execute<{ status: string }>('query-status');
  if (status !== 'running') await qmp.execute('cont');
}
