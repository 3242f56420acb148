/**
 * A long-running command inside a Mininet host (a traffic generator, a server, tcpdump):
 * its output lines as they come, its exit, and a way to end it.
 */
import { EmptyError, ReplaySubject, TimeoutError, filter, firstValueFrom, map, timeout, type Observable } from 'rxjs';

export type OutputStream = 'stdout' | 'stderr';

export interface ProcessLine {
  readonly stream: OutputStream;
  readonly line: string;
  /** Epoch milliseconds when the driver received the line. */
  readonly at: number;
}

export interface ProcessExit {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null;
  readonly signal?: string;
}

type Listener = (line: string, stream: OutputStream) => void;

export interface HostProcessControl {
  kill(handle: number, signal: string): Promise<unknown>;
}

export class HostProcess {
  /** Every line, replayed to late subscribers; completes when the process exits. */
  readonly lines$: Observable<ProcessLine>;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly subject = new ReplaySubject<ProcessLine>();
  private readonly listeners = new Set<Listener>();
  /** pid of the command (in the host's namespace; the same number in the root namespace). */
  pid: number | undefined;
  private exitInfo: ProcessExit | undefined;
  private readonly exitWaiters: Array<(exit: ProcessExit) => void> = [];
  private readonly started: Promise<number>;

  constructor(
    readonly host: string,
    readonly command: string,
    started: Promise<{ handle: number; pid: number }>,
    private readonly control: HostProcessControl,
  ) {
    this.lines$ = this.subject.asObservable();
    this.started = started.then(({ handle, pid }) => {
      this.pid = pid;
      return handle;
    });
    // A failed start ends the process object; wait() and kill() report it.
    this.started.catch((error: Error) => this.exited({ code: null, signal: `not started: ${error.message}` }));
  }

  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** Resolves once the agent has started the command (rejects if it could not). */
  ready(): Promise<void> {
    return this.started.then(() => undefined);
  }

  onLine(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolve with the first line (past or future) that matches; reject on exit or timeout. */
  async waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const test = typeof match === 'function' ? match : (line: string) => match.test(line);
    const found = this.lines$.pipe(
      map(({ line }) => line),
      filter(test),
      timeout({ first: timeoutMs }),
    );
    try {
      return await firstValueFrom(found);
    } catch (error) {
      if (error instanceof EmptyError) {
        throw new Error(`${this.describe()} exited (${this.exitText()}) before a line matching ${match}`);
      }
      if (error instanceof TimeoutError) {
        throw new Error(`${this.describe()}: no line matching ${match} within ${timeoutMs} ms`);
      }
      throw error;
    }
  }

  /** Wait for the process to exit (reject after timeoutMs, if given). */
  wait(timeoutMs?: number): Promise<ProcessExit> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => reject(new Error(`${this.describe()} still running after ${timeoutMs} ms`)), timeoutMs);
      this.exitWaiters.push((exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
  }

  /** End the process group (SIGTERM, then SIGKILL after a second) and wait for the exit. */
  async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    const handle = await this.started.catch(() => undefined);
    if (handle !== undefined && !this.exitInfo) await this.control.kill(handle, signal);
    return this.wait(10_000);
  }

  /** Called by the driver for each event of this process. */
  deliver(stream: OutputStream, line: string): void {
    (stream === 'stdout' ? this.stdout : this.stderr).push(line);
    this.subject.next({ stream, line, at: Date.now() });
    for (const listener of this.listeners) listener(line, stream);
  }

  exited(exit: ProcessExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    this.subject.complete();
    for (const waiter of this.exitWaiters.splice(0)) waiter(exit);
  }

  private describe(): string {
    return `"${this.command}" on ${this.host}`;
  }

  private exitText(): string {
    return this.exitInfo?.signal ?? `code ${this.exitInfo?.code}`;
  }
}

/**
 * Waits for a lab tool to end (ends it after `timeoutMs`) and returns the last JSON line it
 * printed with event "done" (what stream.py and udp_stream.py print last); {} when there is none.
 */
export async function doneLine(proc: HostProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  await proc.wait(timeoutMs).catch(async () => { await proc.kill().catch(() => undefined); });
  for (const line of [...proc.stdout].reverse()) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.event === 'done') return parsed;
    } catch { /* not JSON */ }
  }
  return {};
}
