/**
 * One QEMU process: started from a spec, reached through QMP, ended by PID.
 *
 * QEMU runs under `setpriv --pdeathsig SIGKILL` (util-linux, in every Debian), so it dies with the
 * Node process that started it even when that one is killed outright; it is also registered with
 * labResources for the exit hook.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { qemuArgs, type QemuSpec } from './command-line.js';
import { labResources } from './lab-resources.js';
import { QmpClient } from '../../controller/host-agent/qmp.js';

export const QEMU_BINARY = 'qemu-system-x86_64';
const SETPRIV = '/usr/bin/setpriv';
const STDERR_KEPT = 20;

export interface QemuExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export class QemuProcessError extends Error {
  override name = 'QemuProcessError';
}

export class QemuProcess {
  readonly exited: Promise<QemuExit>;
  private exitInfo: QemuExit | undefined;
  private readonly stderrTail: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly spec: QemuSpec,
    private readonly log: (line: string) => void,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        labResources.forgetPid(pid);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.log(`[${spec.name}] ${line}`);
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_KEPT) this.stderrTail.shift();
    });
  }

  /** Start QEMU and open its QMP socket. On failure nothing is left running. */
  static async start(spec: QemuSpec, log: (line: string) => void = () => undefined): Promise<{ process: QemuProcess; qmp: QmpClient }> {
    const args = qemuArgs(spec);
    const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', QEMU_BINARY, ...args]] : [QEMU_BINARY, args];
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (error) => reject(new QemuProcessError(`cannot run ${QEMU_BINARY}: ${error.message} (install qemu-system-x86)`)));
    });
    labResources.addPid(spawned);
    const qemu = new QemuProcess(child, spawned, spec, log);
    try {
      const qmp = await Promise.race([
        QmpClient.connect(spec.qmpSocket, spec.name, 20_000),
        qemu.exited.then((exit) => Promise.reject(new QemuProcessError(`${spec.name}: QEMU exited (${describe(exit)}) at start: ${qemu.stderr()}`))),
      ]);
      return { process: qemu, qmp };
    } catch (error) {
      await qemu.kill();
      throw error;
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** 'running', or how it ended (a signal, or `code N`): for failure stories. */
  get state(): string {
    return this.exitInfo === undefined ? 'running' : `exited (${describe(this.exitInfo)})`;
  }

  /** QEMU's last stderr lines, for error messages. */
  stderr(): string {
    return this.stderrTail.join('\n');
  }

  /** Ask QEMU to quit over QMP; kill it if it has not within `graceMs`. */
  async quit(qmp: QmpClient, graceMs = 5000): Promise<QemuExit> {
    if (!this.running) return this.exitInfo!;
    await qmp.execute('quit', undefined, graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL by PID and wait for the exit. */
  async kill(): Promise<QemuExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

function describe(exit: QemuExit): string {
  return exit.signal ?? `code ${exit.code}`;
}
