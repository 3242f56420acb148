/**
 * QMP, the QEMU Machine Protocol: JSON objects over a unix socket, one per line (docs/interop/qmp-spec).
 * The server greets ({"QMP": ...}), the client leaves capabilities negotiation with
 * `qmp_capabilities`, then sends {"execute", "arguments", "id"} and gets {"return", "id"} or
 * {"error": {"class", "desc"}, "id"}; events ({"event", "data", "timestamp"}) arrive at any time.
 *
 * The framing and message classification are pure (QmpFramer, classifyQmp); QmpClient is the thin
 * socket shell. No npm QMP client is maintained, and this one is small.
 */
import type { Socket } from 'node:net';
import { openUnix, sleep } from './unix-socket.js';

export interface QmpTimestamp {
  readonly seconds: number;
  readonly microseconds: number;
}

export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** When QEMU emitted the event, epoch milliseconds (QEMU's gettimeofday, comparable with Date.now()). */
  readonly at: number;
}

export type QmpMessage =
  | { kind: 'greeting'; version: unknown }
  | { kind: 'return'; id: unknown; value: unknown }
  | { kind: 'error'; id: unknown; errorClass: string; desc: string }
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'invalid'; reason: string };

/** Epoch milliseconds of a QMP timestamp. */
export function timestampMs(t: QmpTimestamp): number {
  return t.seconds * 1000 + t.microseconds / 1000;
}

/** What a parsed QMP object is. Never throws: anything unexpected is 'invalid' with a reason. */
export function classifyQmp(value: unknown): QmpMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'invalid', reason: 'not a JSON object' };
  const o = value as Record<string, unknown>;
  if ('QMP' in o) return { kind: 'greeting', version: (o.QMP as Record<string, unknown> | null)?.version };
  if ('return' in o) return { kind: 'return', id: o.id, value: o.return };
  if ('error' in o) {
    const e = (o.error ?? {}) as Record<string, unknown>;
    return { kind: 'error', id: o.id, errorClass: String(e.class ?? 'GenericError'), desc: String(e.desc ?? '') };
  }
  if (typeof o.event === 'string') {
    const t = o.timestamp as Partial<QmpTimestamp> | undefined;
    const at = typeof t?.seconds === 'number' && typeof t.microseconds === 'number' ? timestampMs(t as QmpTimestamp) : Date.now();
    const data = typeof o.data === 'object' && o.data !== null ? (o.data as Record<string, unknown>) : {};
    return { kind: 'event', event: { event: o.event, data, at } };
  }
  return { kind: 'invalid', reason: `unknown message with keys ${Object.keys(o).join(', ') || '(none)'}` };
}

/** Cuts a byte stream into QMP messages (one JSON object per line, CRLF or LF). */
export class QmpFramer {
  private pending = '';

  constructor(private readonly maxLineBytes = 16 << 20) {}

  /** Feed a chunk; returns the messages it completed. */
  push(chunk: string): QmpMessage[] {
    this.pending += chunk;
    const out: QmpMessage[] = [];
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline).trim();
      this.pending = this.pending.slice(newline + 1);
      if (line !== '') out.push(parseLine(line));
    }
    if (this.pending.length > this.maxLineBytes) {
      this.pending = '';
      out.push({ kind: 'invalid', reason: `line longer than ${this.maxLineBytes} bytes` });
    }
    return out;
  }
}

function parseLine(line: string): QmpMessage {
  try {
    return classifyQmp(JSON.parse(line));
  } catch {
    return { kind: 'invalid', reason: `not JSON: ${line.slice(0, 120)}` };
  }
}

/** The request line for a command. */
export function encodeQmpCommand(id: number, command: string, args?: Record<string, unknown>): string {
  return `${JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })}\n`;
}

export class QmpError extends Error {
  override name = 'QmpError';
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type EventListener = (event: QmpEvent) => void;

/** One QMP connection. Every event is kept (a migration's few dozen), so a wait never misses one that came early. */
export class QmpClient {
  readonly events: QmpEvent[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<EventListener>();
  private readonly framer = new QmpFramer();
  private nextId = 1;
  private closedReason: string | undefined;
  private greeted!: () => void;
  private readonly greeting = new Promise<void>((resolve) => (this.greeted = resolve));

  private constructor(
    private readonly socket: Socket,
    readonly label: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.framer.push(chunk).forEach((m) => this.receive(m)));
    socket.on('error', (error) => this.fail(`${label}: QMP socket error: ${error.message}`));
    socket.on('close', () => this.fail(`${label}: QMP connection closed`));
  }

  /** Connect to QEMU's QMP socket (retrying while QEMU creates it) and leave negotiation mode. */
  static async connect(path: string, label: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let client: QmpClient | undefined;
      try {
        client = new QmpClient(await openUnix(path), label);
        await withTimeout(client.greeting, Math.max(0, deadline - Date.now()), `${label}: no QMP greeting`);
        await client.execute('qmp_capabilities');
        return client;
      } catch (error) {
        client?.close();
        if (Date.now() > deadline) throw new Error(`${label}: cannot open QMP at ${path}: ${(error as Error).message}`);
        await sleep(50);
      }
    }
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closedReason) return Promise.reject(new Error(`${command}: ${this.closedReason}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: QMP ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(encodeQmpCommand(id, command, args));
    });
  }

  /** The first event (already received or to come) that matches; rejects on timeout or a closed connection. */
  waitForEvent(match: (event: QmpEvent) => boolean, timeoutMs: number, what: string): Promise<QmpEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (error?: Error, event?: QmpEvent) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        this.socket.off('close', onClose);
        if (error) reject(error);
        else resolve(event!);
      };
      const listener: EventListener = (event) => {
        if (match(event)) done(undefined, event);
      };
      const onClose = () => done(new Error(`${this.label}: QMP closed while waiting for ${what}`));
      const timer = setTimeout(() => done(new Error(`${this.label}: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      timer.unref(); // the open socket keeps the process alive while QEMU runs; a wait alone must not
      this.listeners.add(listener);
      this.socket.once('close', onClose);
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once when the connection ends (QEMU quit or restarted). */
  onClose(listener: () => void): void {
    if (this.closedReason !== undefined) listener();
    else this.socket.once('close', listener);
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(message: QmpMessage): void {
    switch (message.kind) {
      case 'greeting':
        this.greeted();
        return;
      case 'event':
        this.events.push(message.event);
        if (this.events.length > MAX_EVENTS_KEPT) this.events.splice(0, this.events.length - MAX_EVENTS_KEPT); // a long-lived client (the host agent)
        for (const listener of [...this.listeners]) listener(message.event);
        return;
      case 'return':
      case 'error': {
        const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
        if (!pending) return;
        this.pending.delete(message.id as number);
        clearTimeout(pending.timer);
        if (message.kind === 'return') pending.resolve(message.value);
        else pending.reject(new QmpError(pending.command, message.errorClass, message.desc));
        return;
      }
      case 'invalid':
        return; // QEMU never sends these; a garbled line must not take the driver down
    }
  }

  private fail(reason: string): void {
    this.closedReason ??= reason;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`${pending.command}: ${reason}`));
      this.pending.delete(id);
    }
  }
}

/** Events kept for waitForEvent() to find one that came before the wait. */
const MAX_EVENTS_KEPT = 1000;

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
