/**
 * The host's end of the guest agent (topologies/qemu/guest/agent.c) on the VM's virtio-serial port:
 * run commands in the guest, stream their output, read the guest's clock.
 *
 * Requests are lines `<op> <id> <rest>` (the shell command is the rest of the line); answers and
 * events are JSON lines shaped like the Mininet agent's, so a guest command is a HostProcess like a
 * Mininet host's. During a live migration the port moves from the source QEMU's socket to the
 * destination's: requests are held while the VM is in flight, what the source's socket still holds
 * is read, and only then is the destination's opened, so that the guest's output stays one ordered stream.
 */
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { HostProcess, type ProcessExit } from '../host-process.js';
import type { ClockSample } from './guest-clock.js';
import { openUnixWhenReady, sleep } from '../../controller/host-agent/unix-socket.js';

export type AgentOp = 'spawn' | 'kill' | 'clock';

export type AgentMessage =
  | { kind: 'answer'; id: number; ok: true; result: Record<string, unknown> }
  | { kind: 'answer'; id: number; ok: false; error: string }
  | { kind: 'ready' }
  | { kind: 'line'; handle: number; stream: 'stdout' | 'stderr'; line: string }
  | { kind: 'exit'; handle: number; exit: ProcessExit }
  | { kind: 'invalid'; reason: string };

export class GuestAgentError extends Error {
  override name = 'GuestAgentError';
}

/** A request line. The rest may not hold a line break (it would end the request early). */
export function encodeAgentRequest(op: AgentOp, id: number, rest = ''): string {
  if (/[\r\n\0]/.test(rest)) throw new GuestAgentError(`a guest command cannot contain line breaks or NUL: ${JSON.stringify(rest.slice(0, 80))}`);
  return rest === '' ? `${op} ${id}\n` : `${op} ${id} ${rest}\n`;
}

/** One line from the agent. Never throws. */
export function parseAgentLine(line: string): AgentMessage {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { kind: 'invalid', reason: `not JSON: ${line.slice(0, 120)}` };
  }
  if (typeof o !== 'object' || o === null) return { kind: 'invalid', reason: 'not an object' };
  if (typeof o.id === 'number') {
    if (o.ok === true) return { kind: 'answer', id: o.id, ok: true, result: o };
    return { kind: 'answer', id: o.id, ok: false, error: String(o.error ?? 'unknown error') };
  }
  if (o.event === 'ready') return { kind: 'ready' };
  if (o.event === 'line' && typeof o.handle === 'number' && typeof o.line === 'string') {
    return { kind: 'line', handle: o.handle, stream: o.stream === 'stderr' ? 'stderr' : 'stdout', line: o.line };
  }
  if (o.event === 'exit' && typeof o.handle === 'number') {
    const exit: ProcessExit = typeof o.signal === 'string' ? { code: null, signal: o.signal } : { code: typeof o.code === 'number' ? o.code : null };
    return { kind: 'exit', handle: o.handle, exit };
  }
  return { kind: 'invalid', reason: `unknown message ${line.slice(0, 120)}` };
}

/** Splits a text stream into lines, whatever the chunk boundaries. */
export class LineSplitter {
  private pending = '';

  push(chunk: string): string[] {
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines;
  }
}

export interface CmdResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; minus the signal number when a signal ended the command (as Python reports it). */
  readonly code: number;
}

interface Pending {
  op: AgentOp;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/** SIGTERM, then SIGKILL after this: a TCG guest may need seconds to write a large result (a stream's timeline). */
const KILL_GRACE_MS = 5000;
/** How long a clock sample may take: the guest answers in milliseconds, even just after a migration. */
const CLOCK_TIMEOUT_MS = 10_000;
/** How long the old socket must stay silent before the agent moves to the new one, and the most it waits. */
const SWITCH_QUIET_MS = 50;
const SWITCH_DRAIN_MAX_MS = 1000;

export class GuestAgent {
  private socket: Socket | undefined;
  private readonly lines = new LineSplitter();
  private readonly pending = new Map<number, Pending>();
  private readonly processes = new Map<number, HostProcess>();
  private readonly early = new Map<number, AgentMessage[]>();
  private readonly held: string[] = [];
  private holding = false;
  private switching = false;
  private nextId = 1;
  private lastDataAt = 0;
  private failure: string | undefined;
  private readyWaiter: (() => void) | undefined;

  private constructor(readonly label: string) {}

  /** Connect to the VM's control socket and wait until the agent in the guest says it is ready (the guest boots meanwhile). */
  static async connect(path: string, label: string, timeoutMs: number): Promise<GuestAgent> {
    const agent = new GuestAgent(label);
    const ready = new Promise<void>((resolve) => (agent.readyWaiter = resolve));
    await agent.attach(path, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([ready, new Promise((_, reject) => (timer = setTimeout(() => reject(new GuestAgentError(`${label}: the guest agent did not start within ${timeoutMs} ms`)), timeoutMs)))]);
    } catch (error) {
      agent.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return agent;
  }

  /** Run a shell command in the guest; its output streams into the returned object. */
  spawn(command: string): HostProcess {
    const started = this.request('spawn', command).then((r) => ({ handle: Number(r.handle), pid: Number(r.pid) }));
    const proc = new HostProcess(this.label, command, started, { kill: (handle, signal) => this.kill(handle, signal) });
    started.then(
      ({ handle }) => this.adopt(handle, proc),
      () => undefined, // reported through the HostProcess
    );
    return proc;
  }

  /** Run a command to its end; a non-zero exit is not an error, a timeout is (the command is killed). */
  async cmd(command: string, options: { timeoutMs?: number } = {}): Promise<CmdResult> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const proc = this.spawn(command);
    const exit = await proc.wait(timeoutMs).catch(() => undefined);
    if (!exit) {
      await proc.kill('SIGKILL').catch(() => undefined);
      throw new GuestAgentError(`${this.label}: "${command}" timed out after ${timeoutMs} ms (output so far: ${joinLines(proc.stdout).slice(-500)})`);
    }
    if (exit.code === null && exit.signal?.startsWith('not started')) throw new GuestAgentError(`${this.label}: "${command}" ${exit.signal}`);
    return { stdout: joinLines(proc.stdout), stderr: joinLines(proc.stderr), code: exit.code ?? -(signalNumber(exit.signal) ?? 1) };
  }

  async check(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const result = await this.cmd(command, options);
    if (result.code !== 0) throw new GuestAgentError(`${this.label}: "${command}" exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
    return result.stdout;
  }

  /**
   * One round trip to read the guest's CLOCK_MONOTONIC. A guest that does not answer within
   * `timeoutMs` (its kernel died, say, and QEMU runs on) fails it, not hangs it.
   */
  async clock(timeoutMs = CLOCK_TIMEOUT_MS): Promise<ClockSample> {
    const sentAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new GuestAgentError(`${this.label}: clock: no answer within ${timeoutMs} ms (the guest hung?)`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.request('clock'), late]);
      return { sentAt, receivedAt: Date.now(), guestMs: Number(r.monotonicUs) / 1000 };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The VM is about to be in flight: keep requests until it lands (switchTo) or stays (release). */
  hold(): void {
    this.holding = true;
  }

  /** The migration failed: the VM runs where it was, send what was held. */
  release(): void {
    this.holding = false;
    for (const line of this.held.splice(0)) this.socket?.write(line);
  }

  /**
   * The VM now runs behind `path`: read what the old socket still holds, then open the new one and
   * send what was held. The source QEMU is stopped, so it writes nothing new; but a paused QEMU
   * does not read its chardev either and never notices a close, so "read to the end" is "until the
   * old socket has been quiet for a moment".
   */
  async switchTo(path: string, timeoutMs = 10_000): Promise<void> {
    const old = this.socket;
    this.switching = true;
    try {
      if (old && !old.destroyed) {
        const deadline = Date.now() + SWITCH_DRAIN_MAX_MS;
        while (Date.now() - this.lastDataAt < SWITCH_QUIET_MS && Date.now() < deadline) await sleep(10);
        old.destroy();
      }
      await this.attach(path, timeoutMs);
    } finally {
      this.switching = false;
    }
    this.release();
  }

  close(): void {
    this.switching = true;
    this.socket?.destroy();
    this.fail(`${this.label}: guest agent closed`);
  }

  private async attach(path: string, timeoutMs: number): Promise<void> {
    const socket = await openUnixWhenReady(path, timeoutMs, `${this.label}'s control socket`).catch((error: Error) => {
      throw new GuestAgentError(`${this.label}: ${error.message}`);
    });
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.lastDataAt = Date.now();
      this.lines.push(chunk).forEach((line) => this.receive(line));
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      if (!this.switching && this.socket === socket) this.fail(`${this.label}: the control socket closed (QEMU gone?)`);
    });
  }

  private request(op: AgentOp, rest = ''): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(new GuestAgentError(this.failure));
    const id = this.nextId++;
    let line: string;
    try {
      line = encodeAgentRequest(op, id, rest);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op, resolve, reject });
      if (this.holding || this.switching) this.held.push(line);
      else this.socket?.write(line);
    });
  }

  private async kill(handle: number, signal: string): Promise<void> {
    const number = signalNumber(signal);
    if (number === undefined) throw new GuestAgentError(`unknown signal ${signal}`);
    await this.request('kill', `${handle} ${number}`);
    if (signal === 'SIGKILL') return;
    // Like the Mininet agent: a command that ignores SIGTERM is killed after a grace period (longer here).
    const timer = setTimeout(() => {
      if (this.processes.has(handle)) this.request('kill', `${handle} ${constants.signals.SIGKILL}`).catch(() => undefined);
    }, KILL_GRACE_MS);
    timer.unref();
  }

  private receive(line: string): void {
    if (line.trim() === '') return;
    const message = parseAgentLine(line);
    switch (message.kind) {
      case 'ready':
        this.readyWaiter?.();
        return;
      case 'answer': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.ok) pending.resolve(message.result);
        else pending.reject(new GuestAgentError(`${this.label}: ${pending.op} failed: ${message.error}`));
        return;
      }
      case 'line':
      case 'exit':
        return this.deliver(message);
      case 'invalid':
        return; // the guest program never sends these; a garbled line must not stop the others
    }
  }

  private deliver(message: Extract<AgentMessage, { kind: 'line' | 'exit' }>): void {
    const proc = this.processes.get(message.handle);
    if (!proc) {
      const queue = this.early.get(message.handle) ?? [];
      queue.push(message);
      this.early.set(message.handle, queue);
      return;
    }
    if (message.kind === 'line') proc.deliver(message.stream, message.line);
    else {
      this.processes.delete(message.handle);
      proc.exited(message.exit);
    }
  }

  private adopt(handle: number, proc: HostProcess): void {
    this.processes.set(handle, proc);
    const early = this.early.get(handle) ?? [];
    this.early.delete(handle);
    for (const message of early) this.deliver(message as Extract<AgentMessage, { kind: 'line' | 'exit' }>);
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    for (const [id, pending] of this.pending) {
      pending.reject(new GuestAgentError(`${pending.op}: ${reason}`));
      this.pending.delete(id);
    }
    for (const proc of this.processes.values()) proc.exited({ code: null, signal: 'guest agent lost' });
    this.processes.clear();
  }
}

function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function signalNumber(name: string | undefined): number | undefined {
  return name ? (constants.signals as Record<string, number>)[name] : undefined;
}
