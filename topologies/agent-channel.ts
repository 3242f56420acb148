/**
 * JSON-lines RPC with the Mininet agent (topologies/mininet_agent.py) over its stdin/stdout.
 * Requests carry an id and get exactly one response; lines without an id are events.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A Python file of topologies/, found next to this module when run from source (tsx) and in the
 * source tree when run compiled from dist/topologies/ (tsc does not copy .py files).
 */
export function topologyFile(name: string): string {
  const candidates = [new URL(`./${name}`, import.meta.url), new URL(`../../topologies/${name}`, import.meta.url)];
  const found = candidates.map((url) => url.pathname).find((path) => existsSync(path));
  if (!found) throw new Error(`topologies/${name} not found (looked in ${candidates.map((u) => u.pathname).join(', ')})`);
  return found;
}

/** Debian's Python: it has Mininet (the first python3 on PATH may not). */
export const AGENT_PYTHON = '/usr/bin/python3';
export const AGENT_SCRIPT = topologyFile('mininet_agent.py');
const STDERR_KEPT = 40;

export type AgentEvent =
  | { event: 'ready'; pid: number }
  | { event: 'line'; handle: number; stream: 'stdout' | 'stderr'; line: string }
  | { event: 'exit'; handle: number; code: number | null; signal?: string }
  | { event: 'error'; error: string }
  | { event: 'migration'; vm: string; phase: MigrationPhase; at: number };

/** What a migration in the agent has reached: the VM stopped (tap cut) or resumed (tap up, at its destination). */
export type MigrationPhase = 'stopped' | 'resumed';

interface Pending {
  op: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class AgentError extends Error {
  override name = 'AgentError';
}

/** Live agents, so that an exiting Node process can still end them (they clean up on SIGTERM). */
const liveAgents = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveAgents) child.kill('SIGTERM');
  });
}

export class AgentChannel {
  private readonly pending = new Map<number, Pending>();
  private readonly stderrTail: string[] = [];
  private nextId = 1;
  private exitReason: string | undefined;
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly onEvent: (event: AgentEvent) => void,
    private readonly log?: (line: string) => void,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.receive(line));
    createInterface({ input: child.stderr }).on('line', (line) => this.keepStderr(line));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        liveAgents.delete(child);
        this.exitReason = `mininet agent exited (${signal ?? `code ${code}`})`;
        this.failAll();
        resolve();
      });
    });
    child.once('error', (error) => {
      this.exitReason = `mininet agent could not run: ${error.message}`;
      this.failAll();
    });
  }

  /** Start the agent and wait for its ready event. */
  static async open(onEvent: (event: AgentEvent) => void, log?: (line: string) => void): Promise<AgentChannel> {
    installExitHook();
    const child = spawn(AGENT_PYTHON, [AGENT_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    liveAgents.add(child);
    let ready!: () => void;
    const readyEvent = new Promise<void>((resolve) => (ready = resolve));
    const channel = new AgentChannel(
      child,
      (event) => (event.event === 'ready' ? ready() : onEvent(event)),
      log,
    );
    await Promise.race([
      readyEvent,
      channel.exited.then(() => Promise.reject(new AgentError(channel.failure()))),
    ]);
    return channel;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitReason === undefined;
  }

  /** Send one request; reject with a clear error on failure, timeout or agent death. */
  request<T>(op: string, params: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (!this.alive) return Promise.reject(new AgentError(`${op}: ${this.failure()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentError(`mininet agent: ${op} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { op, resolve: resolve as (r: unknown) => void, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...params })}\n`);
    });
  }

  /** Ask the agent to end (it cleans up on SIGTERM) and wait until it has. */
  async terminate(graceMs = 30_000): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Close stdin: the agent cleans up on EOF and exits. */
  endInput(): void {
    this.child.stdin.end();
  }

  failure(): string {
    const tail = this.stderrTail.length ? `; its last stderr lines:\n${this.stderrTail.join('\n')}` : '';
    return `${this.exitReason ?? 'mininet agent failed'}${tail}`;
  }

  private receive(line: string): void {
    let message: { id?: number; ok?: boolean; result?: unknown; error?: string } & Partial<AgentEvent>;
    try {
      message = JSON.parse(line);
    } catch {
      this.keepStderr(`(stdout) ${line}`);
      return;
    }
    if (message.id === undefined) {
      this.onEvent(message as AgentEvent);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return; // answered after its timeout
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new AgentError(`mininet agent: ${pending.op} failed: ${message.error}`));
  }

  private keepStderr(line: string): void {
    this.log?.(line);
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_KEPT) this.stderrTail.shift();
  }

  private failAll(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new AgentError(`${pending.op}: ${this.failure()}`));
      this.pending.delete(id);
    }
  }
}
