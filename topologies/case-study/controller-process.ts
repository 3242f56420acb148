// The Seamless controller as a child process, the way a user runs it: JSON log lines on stdout
// are the interface (switch up, migration completed, conflicts). Used by the case study and the
// end-to-end tests; stop() always ends the process it started, by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { topologyFile } from '../agent-channel.js';
import { CONTROLLER_NODE_FLAGS } from '../../controller/node-flags.js';

export interface LogLine {
  readonly time: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface ControllerProcessOptions {
  readonly stateDir: string;
  /** Extra command-line flags, e.g. ['--rewrite', 'false']. */
  readonly args?: readonly string[];
  readonly openflowPort?: number;
  readonly httpPort?: number;
  /** Receives every log line (for a verbose run). */
  readonly onLine?: (line: LogLine) => void;
}

/** The repository root, from the source tree or from dist/. */
const REPO = dirname(dirname(topologyFile('seamless_topo.py')));

/** node + the compiled controller when built, else tsx on the sources. */
function command(): { bin: string; args: string[] } {
  const built = join(REPO, 'dist', 'controller', 'main.js');
  const compiledHere = import.meta.url.includes('/dist/');
  // Node's own flags for the lab's controller, e.g. SEAMLESS_LAB_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
  // (a profile of a lab run; NODE_OPTIONS refuses --cpu-prof).
  const node = [...CONTROLLER_NODE_FLAGS, ...(process.env.SEAMLESS_LAB_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '')];
  if (compiledHere && existsSync(built)) return { bin: process.execPath, args: [...node, built] };
  return { bin: process.execPath, args: [...node, '--import', 'tsx', join(REPO, 'controller', 'main.ts')] };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class ControllerProcess {
  readonly lines: LogLine[] = [];
  private readonly waiters = new Set<() => void>();
  private exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly openflowPort: number, readonly httpPort: number) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(options: ControllerProcessOptions): Promise<ControllerProcess> {
    const openflowPort = options.openflowPort ?? await freePort();
    const httpPort = options.httpPort ?? await freePort();
    const { bin, args } = command();
    const child = spawn(bin, [
      ...args, '--openflow-host', '127.0.0.1', '--openflow-port', String(openflowPort), '--http-port', String(httpPort),
      '--state-dir', options.stateDir, '--log-format', 'json', ...(options.args ?? []),
    ], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new ControllerProcess(child, openflowPort, httpPort);
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { time: new Date().toISOString(), level: 'raw', msg: text };
      }
      proc.lines.push(line);
      options.onLine?.(line);
      for (const wake of proc.waiters) wake();
    });
    try {
      await proc.waitFor((l) => l.msg === 'controller listening', 30_000, 'the controller to listen');
    } catch (error) {
      await proc.stop();
      throw new Error(`${(error as Error).message}\n${stderr.join('')}`);
    }
    return proc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit code once the process ended (null: still running, or ended by a signal). */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** Resolves with the first log line (from the start) that satisfies `predicate`. */
  waitFor(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string, from = 0): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.slice(from).find(predicate);
        if (hit === undefined) return false;
        cleanup();
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)); }, timeoutMs);
      const wake = (): void => void check();
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(wake); };
      this.waiters.add(wake);
      this.exited.then((code) => { if (this.waiters.has(wake)) { cleanup(); reject(new Error(`controller exited (${code}) while waiting for ${what}`)); } }, () => undefined);
      check();
    });
  }

  /** Every line with this message, in order. */
  find(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /** Sends a signal to this child (by its PID): SIGKILL, SIGSTOP, SIGCONT... */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Resolves with the exit code once the process has ended (null: by a signal). */
  waitExit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after 5 s; only this child, by its PID. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }
}
