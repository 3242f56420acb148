// A throwaway etcd cluster for tests: 1 or 3 members of Debian's /usr/bin/etcd (3.4) on free
// loopback ports, data in a temp dir. Members can be stopped, killed (-9), paused (SIGSTOP),
// resumed and restarted one by one, or all together (a full cluster restart keeps the data).
// Everything started here is tracked by PID and ended by destroy(), by a process 'exit' hook if
// a test run dies before that, and never by name: other etcds on this machine are not ours.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAtExit, removeAtExit, untrackDir, untrackPid } from './exit-cleanup.js';
import { waitUntil } from './wait.js';

export const ETCD_BINARY = process.env.SEAMLESS_ETCD_BINARY ?? '/usr/bin/etcd';
/** The machine's default etcd ports: never used here. */
const DEFAULT_PORTS = new Set([2379, 2380, 4001, 7001]);

export interface EtcdClusterOptions {
  readonly members?: 1 | 3;
  /** Raft heartbeat and election timeout: short ones make a lab fail over fast (and allow 1 s leases). */
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
  /** How long start() and restarts wait for health. */
  readonly startTimeoutMs?: number;
}

export type MemberState = 'running' | 'paused' | 'stopped';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  paused: boolean;
}

export class EtcdCluster {
  readonly members: readonly EtcdMember[];
  private readonly running = new Map<number, Running>();
  private readonly heartbeatMs: number;
  private readonly electionMs: number;
  private readonly startTimeoutMs: number;
  private destroyed = false;

  private constructor(readonly dir: string, members: EtcdMember[], options: EtcdClusterOptions) {
    this.members = members;
    this.heartbeatMs = options.heartbeatMs ?? 50;
    this.electionMs = options.electionMs ?? 500;
    this.startTimeoutMs = options.startTimeoutMs ?? 20_000;
  }

  /** Starts the members and waits until every one of them reports healthy. */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const count = options.members ?? 3;
    const dir = mkdtempSync(join(tmpdir(), 'seamless-etcd-'));
    removeAtExit(dir);
    const ports = await freePorts(count * 2);
    const members = Array.from({ length: count }, (_, i): EtcdMember => ({
      name: `m${i}`,
      clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
      peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
      dataDir: join(dir, `m${i}`),
      logFile: join(dir, `m${i}.log`),
    }));
    const cluster = new EtcdCluster(dir, members, options);
    try {
      for (let i = 0; i < count; i++) cluster.spawnMember(i);
      await cluster.waitHealthy();
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  state(i: number): MemberState {
    const r = this.running.get(i);
    return r === undefined ? 'stopped' : r.paused ? 'paused' : 'running';
  }

  pid(i: number): number | undefined {
    return this.running.get(i)?.child.pid;
  }

  /** SIGTERM, and waits for the exit. */
  async stop(i: number): Promise<void> {
    await this.end(i, 'SIGTERM');
  }

  /** kill -9, and waits for the exit. */
  async kill(i: number): Promise<void> {
    await this.end(i, 'SIGKILL');
  }

  /**
   * SIGSTOP: the member stays up but answers nothing (a hung host). Resolves once every thread of
   * it has stopped: the kernel stops a process's threads only as each is next scheduled, and on a
   * busy machine one of etcd's can still answer a request sent right after kill() returned.
   */
  async pause(i: number): Promise<void> {
    const r = this.mustRun(i);
    r.child.kill('SIGSTOP');
    r.paused = true;
    const pid = r.child.pid!;
    await waitUntil(() => everyThreadStopped(pid), { timeoutMs: 5000, intervalMs: 2, what: `etcd member ${i} (pid ${pid}) to stop` });
  }

  resume(i: number): void {
    const r = this.mustRun(i);
    r.child.kill('SIGCONT');
    r.paused = false;
  }

  /** Starts a stopped member again on its data dir; waits for it to be healthy unless told not to. */
  async restart(i: number, options: { wait?: boolean } = {}): Promise<void> {
    if (this.running.has(i)) throw new Error(`etcd member ${i} is still running`);
    this.spawnMember(i);
    if (options.wait !== false) await this.waitHealthy([i]);
  }

  /**
   * Every member down, then up again on the same data: the cluster's history survives. By default
   * a power cut (SIGKILL: etcd fsyncs its WAL before it answers); SIGTERM takes seconds when all
   * members stop at once (each waits for the others).
   */
  async restartAll(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.end(i, signal)));
    for (let i = 0; i < this.members.length; i++) this.spawnMember(i);
    await this.waitHealthy();
  }

  /** Waits until the given members (default: all running ones) answer /health with true. */
  async waitHealthy(which?: readonly number[], timeoutMs = this.startTimeoutMs): Promise<void> {
    const indexes = which ?? [...this.running.keys()];
    await waitUntil(async () => {
      const answers = await Promise.all(indexes.map((i) => this.healthy(i)));
      return answers.every(Boolean);
    }, { timeoutMs, intervalMs: 50, what: `etcd members ${indexes.join(',')} healthy (logs in ${this.dir})` });
  }

  async healthy(i: number): Promise<boolean> {
    const member = this.members[i];
    if (member === undefined || this.state(i) !== 'running') return false;
    try {
      const res = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: unknown };
      return body.health === 'true' || body.health === true;
    } catch {
      return false;
    }
  }

  /** The tail of a member's log, for failure messages. */
  logTail(i: number, lines = 20): string {
    const member = this.members[i];
    if (member === undefined) return '';
    try {
      return readFileSync(member.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Kills every member it started (by PID, paused ones too) and removes the temp dir. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.running.keys()].map((i) => this.end(i, 'SIGKILL')));
    rmSync(this.dir, { recursive: true, force: true });
    untrackDir(this.dir);
  }

  private spawnMember(i: number): void {
    if (this.destroyed) throw new Error('etcd cluster already destroyed');
    const m = this.members[i];
    if (m === undefined) throw new Error(`no etcd member ${i}`);
    const initialCluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const args = [
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
      '--initial-cluster-token', `seamless-${process.pid}-${this.dir.slice(-6)}`,
      '--heartbeat-interval', String(this.heartbeatMs), '--election-timeout', String(this.electionMs),
      '--logger', 'zap', '--log-level', 'warn', '--enable-v2=false',
    ];
    const log = openSync(m.logFile, 'a');
    // Only what etcd needs from the environment: an ETCD_* variable would override the flags.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
    // At the replicas' priority (their process.nice, -10 by default: docs/cluster.md), as a member
    // beside them on one host should run; without root, at its own.
    const [bin, argv] = process.getuid?.() === 0 ? ['nice', ['-n', '-10', ETCD_BINARY, ...args]] : [ETCD_BINARY, args];
    const child = spawn(bin, argv, { stdio: ['ignore', log, log], env });
    closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${ETCD_BINARY}`);
    const pid = child.pid;
    killAtExit(pid);
    const exited = new Promise<void>((resolve) => child.once('exit', () => {
      untrackPid(pid);
      if (this.running.get(i)?.child === child) this.running.delete(i);
      resolve();
    }));
    child.once('error', () => undefined); // reported through 'exit' and health
    this.running.set(i, { child, exited, paused: false });
  }

  private async end(i: number, signal: NodeJS.Signals): Promise<void> {
    const r = this.running.get(i);
    if (r === undefined) return;
    r.child.kill(signal);
    if (r.paused && signal !== 'SIGKILL') r.child.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
    await r.exited;
    clearTimeout(timer);
  }

  private mustRun(i: number): Running {
    const r = this.running.get(i);
    if (r === undefined) throw new Error(`etcd member ${i} is not running`);
    return r;
  }
}

/** `count` distinct free loopback ports, none of etcd's defaults. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const p = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (!DEFAULT_PORTS.has(port)) ports.add(port);
  }
  return [...ports];
}

/** Every thread of the process is stopped by a signal (state T in /proc/PID/task/TID/stat). */
function everyThreadStopped(pid: number): boolean {
  const tids = readdirSync(`/proc/${pid}/task`);
  return tids.length > 0 && tids.every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
  });
}
