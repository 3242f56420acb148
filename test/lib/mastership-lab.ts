// Replicas running Mastership in child processes (test/lib/mastership-child.ts), for tests and
// the failover benchmark: start, send commands, read their role events, kill -9, SIGSTOP /
// SIGCONT. Every child is tracked by PID and killed by stopAll(), or by the exit hook.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { killAtExit, untrackPid } from './exit-cleanup.js';
import { waitFor, waitUntil } from './wait.js';

const CHILD = fileURLToPath(new URL('./mastership-child.ts', import.meta.url));

export interface RoleLine {
  readonly type: 'role';
  readonly dpid: string;
  readonly role: 'master' | 'slave';
  readonly generationId: string;
  readonly since: number;
  readonly t: number;
}

export interface ViewLine {
  readonly type: 'view';
  readonly replicas: string[];
  readonly masters: Record<string, string>;
  readonly roles: Record<string, 'master' | 'slave'>;
  readonly leaseAlive: boolean;
  readonly t: number;
}

export class ReplicaProcess {
  readonly roles: RoleLine[] = [];
  readonly views: ViewLine[] = [];
  readonly errors: string[] = [];
  ready = false;
  exited = false;
  paused = false;
  private readonly exit: Promise<void>;

  private constructor(readonly id: string, private readonly child: ChildProcess) {
    const pid = child.pid as number;
    killAtExit(pid);
    this.exit = new Promise((resolve) => child.once('exit', () => {
      untrackPid(pid);
      this.exited = true;
      resolve();
    }));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let o: { type?: string; message?: string };
      try { o = JSON.parse(line) as typeof o; } catch { return; }
      if (o.type === 'ready') this.ready = true;
      else if (o.type === 'role') this.roles.push(o as RoleLine);
      else if (o.type === 'view') this.views.push(o as ViewLine);
      else if (o.type === 'error') this.errors.push(o.message ?? '?');
    });
    child.stderr!.on('data', (d: Buffer) => { if (process.env.SEAMLESS_TEST_DEBUG) process.stderr.write(`[${id}] ${d}`); });
  }

  /** detector: how the others notice this one's death (liveness connections and the lease, as by default, or the lease alone). */
  static async start(endpoints: readonly string[], prefix: string, id: string, ttlMs: number, stepMs = 100, detector: 'liveness' | 'lease-only' = 'liveness'): Promise<ReplicaProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, endpoints.join(','), prefix, id, String(ttlMs), String(stepMs), detector], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('could not start a replica process');
    const r = new ReplicaProcess(id, child);
    await waitUntil(() => r.ready || r.exited, { timeoutMs: 20_000, what: `replica ${id} to start` });
    if (!r.ready) throw new Error(`replica ${id} failed to start: ${r.errors.join('; ')}`);
    return r;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  send(line: string): void {
    if (!this.exited) this.child.stdin!.write(`${line}\n`);
  }

  /** The latest role this replica reported for each switch. */
  latest(): Map<string, RoleLine> {
    const m = new Map<string, RoleLine>();
    for (const r of this.roles) m.set(r.dpid, r);
    return m;
  }

  mastered(): string[] {
    return [...this.latest().values()].filter((r) => r.role === 'master').map((r) => r.dpid);
  }

  /** Asks for a view and waits for it. */
  async view(): Promise<ViewLine> {
    const before = this.views.length;
    this.send('view');
    return waitFor(() => this.views[before], { timeoutMs: 5000, what: `a view from ${this.id}` });
  }

  async kill(): Promise<number> {
    const at = Date.now();
    this.child.kill('SIGKILL');
    await this.exit;
    return at;
  }

  pause(): number {
    this.child.kill('SIGSTOP');
    this.paused = true;
    return Date.now();
  }

  /**
   * When the child was resumed, read before the signal: the child runs as soon as it is sent,
   * on the other core, and can print a line stamped earlier than a clock read after kill().
   */
  resume(): number {
    const at = Date.now();
    this.child.kill('SIGCONT');
    this.paused = false;
    return at;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    if (this.paused) this.resume();
    this.send('stop');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exit;
    clearTimeout(timer);
  }
}

/** Every switch's master, from each replica's latest reports; throws if two replicas claim one. */
export function mastersOf(replicas: readonly ReplicaProcess[]): Map<string, { replica: string; generationId: bigint }> {
  const masters = new Map<string, { replica: string; generationId: bigint }>();
  for (const r of replicas) {
    if (r.exited) continue;
    for (const dpid of r.mastered()) {
      const other = masters.get(dpid);
      if (other !== undefined) throw new Error(`switch ${dpid} has two masters: ${other.replica} and ${r.id}`);
      masters.set(dpid, { replica: r.id, generationId: BigInt(r.latest().get(dpid)!.generationId) });
    }
  }
  return masters;
}

/**
 * Mastership intervals [since of master, since of the next report) per switch over all
 * replicas' reports; a replica that died ends its intervals at `endOf(replica)`.
 */
export function masterIntervals(replicas: readonly ReplicaProcess[], endOf: (r: ReplicaProcess) => number = () => Infinity):
  { dpid: string; replica: string; from: number; to: number; generationId: bigint }[] {
  const out: { dpid: string; replica: string; from: number; to: number; generationId: bigint }[] = [];
  for (const r of replicas) {
    const open = new Map<string, RoleLine>();
    for (const line of r.roles) {
      const started = open.get(line.dpid);
      if (started !== undefined) {
        out.push({ dpid: line.dpid, replica: r.id, from: started.since, to: line.since, generationId: BigInt(started.generationId) });
        open.delete(line.dpid);
      }
      if (line.role === 'master') open.set(line.dpid, line);
    }
    for (const [dpid, started] of open) out.push({ dpid, replica: r.id, from: started.since, to: endOf(r), generationId: BigInt(started.generationId) });
  }
  return out;
}

export const dpidHex = (n: number) => n.toString(16).padStart(16, '0');
