// The host agent's two connections to a libvirt daemon, through virsh (libvirt-clients; no libvirt
// binding for Node is maintained): its domain events (`virsh event --loop --all --timestamp`), and
// one virsh shell kept open for the questions asked while a migration runs (domjobinfo every few
// tens of ms: a virsh process per question costs 70-140 ms on a lab host, a line in an open shell
// 2-7 ms). What the text says is read by libvirt-events.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseVirshEvent, type LibvirtEvent } from './libvirt-events.js';

export class VirshError extends Error {
  override name = 'VirshError';
}

interface Pending {
  readonly marker: string;
  readonly resolve: (text: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * An open virsh shell on one libvirt URI: a command in, its output out, in order. virsh reads its
 * commands as an interactive shell does (it prints its prompt and each command back): after each
 * command comes `echo` of a marker, written so that only the echo's output spells it. A command
 * that takes longer than `timeoutMs` ends the shell (the next command opens another).
 */
export class VirshShell {
  private child: ChildProcess | undefined;
  private buffer = '';
  private readonly pending: Pending[] = [];
  private n = 0;
  private closed = false;
  /**
   * The last line virsh wrote to its stderr (an error message), for diagnostics. Its own pipe: it
   * may come a little after the answer of the command that caused it.
   */
  lastError = '';

  constructor(private readonly uri: string, private readonly timeoutMs = 3000) {}

  /** Runs one virsh command (its words quoted by the caller: virshWord) and resolves with what it printed. */
  run(command: string): Promise<string> {
    if (this.closed) return Promise.reject(new VirshError('virsh shell closed'));
    if (/[\n\r]/.test(command)) return Promise.reject(new VirshError(`one line per command: ${JSON.stringify(command)}`));
    const child = this.open();
    const n = ++this.n;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new VirshError(`virsh ${command.split(' ')[0]}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      this.pending.push({ marker: `__seamless_${n}__`, resolve, reject, timer });
      child.stdin!.write(`${command}\necho __seamless'_'${n}__\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.fail(new VirshError('virsh shell closed'));
  }

  private open(): ChildProcess {
    if (this.child !== undefined) return this.child;
    const child = spawn('virsh', ['-q', '-c', this.uri], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => this.read(text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      const line = text.trim().split('\n').pop();
      if (line) this.lastError = line;
    });
    child.stdin!.on('error', () => undefined); // a shell that exited: 'exit' says so
    child.on('error', (error) => { if (this.child === child) this.fail(new VirshError(`virsh: ${error.message}`)); });
    child.on('exit', (code) => { if (this.child === child) this.fail(new VirshError(`virsh exited (${code}): ${this.lastError}`)); });
    return child;
  }

  private read(text: string): void {
    this.buffer += text;
    for (;;) {
      const head = this.pending[0];
      const at = head === undefined ? -1 : this.buffer.indexOf(head.marker);
      if (head === undefined || at < 0) break;
      const answer = this.buffer.slice(0, at).replace(/virsh # [^\n]*(\n|$)/g, '');
      this.buffer = this.buffer.slice(at + head.marker.length);
      this.pending.shift();
      clearTimeout(head.timer);
      head.resolve(answer);
    }
    if (this.buffer.length > 1 << 20) this.fail(new VirshError('virsh said more than 1 MiB without its marker'));
  }

  /** Ends the shell and every command waiting on it. */
  private fail(error: Error): void {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }
}

export interface EventWatchOptions {
  /** virsh ended (libvirtd restarted or not up yet): it is started again after `retryMs`. */
  readonly onExit?: (message: string) => void;
  readonly retryMs?: number;
}

/** Calls onEvent with each domain event libvirt reports at `uri`, until the returned function is called. */
export function watchVirshEvents(uri: string, onEvent: (event: LibvirtEvent) => void, options: EventWatchOptions = {}): () => void {
  let child: ChildProcess | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const start = () => {
    retry = undefined;
    if (stopped) return;
    const c = spawn('virsh', ['-q', '-c', uri, 'event', '--loop', '--all', '--timestamp'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let lastError = '';
    c.stderr!.setEncoding('utf8').on('data', (text: string) => { lastError = text.trim().split('\n').pop() ?? lastError; });
    createInterface({ input: c.stdout! }).on('line', (line) => {
      const event = parseVirshEvent(line);
      if (event !== undefined) onEvent(event);
    });
    const ended = (why: string) => {
      if (child !== c) return;
      child = undefined;
      if (stopped) return;
      options.onExit?.(`${why}${lastError === '' ? '' : `: ${lastError}`}`);
      retry = setTimeout(start, options.retryMs ?? 2000);
    };
    c.on('error', (error) => ended(`virsh event: ${error.message}`));
    c.on('exit', (code) => ended(`virsh event exited (${code})`));
  };
  start();
  return () => {
    stopped = true;
    if (retry !== undefined) clearTimeout(retry);
    child?.kill();
    child = undefined;
  };
}
