// One JSON-RPC session with ovsdb-server over a unix or TCP socket: the thin I/O shell around the
// pure splitter and message parser. It answers the server's echo requests (ovsdb-server drops a
// client that does not), probes a silent server with its own echo, matches replies to requests,
// and hands notifications to its owner. Any fault (framing lost, malformed message, socket error,
// silent server) closes it once, with the reason; reconnecting is the owner's business.

import { createConnection, type Socket } from 'node:net';
import { JsonMessageSplitter } from './json-splitter.js';
import { describeRpcError, encodeRequest, encodeResponse, parseRpcMessage, type RpcMessage } from './jsonrpc.js';
import { formatOvsdbTarget, type OvsdbTarget } from './target.js';

export interface OvsdbConnectionOptions {
  /** Largest accepted message (default 32 MiB). */
  readonly maxMessageBytes?: number;
  /** Reject a request without reply after this long (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Echo the server after this long without hearing from it; close after twice as long (default 5 s). */
  readonly probeIntervalMs?: number;
  /** Give up connecting after this long (default 5 s). */
  readonly connectTimeoutMs?: number;
}

export interface OvsdbConnectionHandlers {
  /** A notification (`update`, `locked`, ...) from the server, in arrival order. */
  onNotification(method: string, params: readonly unknown[]): void;
  /** The session ended: `reason` says why (undefined when we closed it on purpose). Called once. */
  onClose(reason: Error | undefined): void;
}

/** The server answered a request with an error. */
export class OvsdbRpcError extends Error {
  override readonly name = 'OvsdbRpcError';
  constructor(readonly method: string, readonly reply: unknown) {
    super(`${method}: ${describeRpcError(reply)}`);
  }
}

interface Pending {
  readonly method: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class OvsdbConnection {
  private readonly splitter: JsonMessageSplitter;
  private readonly pending = new Map<number, Pending>();
  private readonly requestTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly probeTimer: NodeJS.Timeout;
  private nextId = 1;
  private lastHeard = Date.now();
  private probing = false;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly target: OvsdbTarget,
    private readonly handlers: OvsdbConnectionHandlers,
    options: OvsdbConnectionOptions,
  ) {
    this.splitter = new JsonMessageSplitter({ maxMessageBytes: options.maxMessageBytes });
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.close(new Error(`${formatOvsdbTarget(target)}: ${error.message}`)));
    socket.on('close', () => this.close(new Error(`${formatOvsdbTarget(target)}: connection closed by ovsdb-server`)));
    this.probeTimer = setInterval(() => this.probe(), Math.max(10, this.probeIntervalMs / 2));
    this.probeTimer.unref();
  }

  /** Connects; rejects with the socket's error (ENOENT, ECONNREFUSED, ...) or on timeout. */
  static open(target: OvsdbTarget, handlers: OvsdbConnectionHandlers, options: OvsdbConnectionOptions = {}): Promise<OvsdbConnection> {
    const socket = target.kind === 'unix' ? createConnection(target.path) : createConnection(target.port, target.host);
    const where = formatOvsdbTarget(target);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${where}: no connection after ${options.connectTimeoutMs ?? 5000} ms`)), options.connectTimeoutMs ?? 5000);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error.message.startsWith(where) ? error : new Error(`${where}: ${error.message}`));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.setNoDelay?.(true);
        resolve(new OvsdbConnection(socket, target, handlers, options));
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends a request; resolves with its result, rejects with OvsdbRpcError, a timeout or the close reason. */
  request(method: string, params: readonly unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`${method}: connection to ${formatOvsdbTarget(this.target)} is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply from ${formatOvsdbTarget(this.target)} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      this.socket.write(encodeRequest(id, method, params));
    });
  }

  /** Closes the session (idempotent); pending requests are rejected with `reason`. */
  close(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    this.socket.destroy();
    const error = reason ?? new Error(`connection to ${formatOvsdbTarget(this.target)} closed`);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
    this.handlers.onClose(reason);
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = Date.now();
    const { messages, error } = this.splitter.push(chunk);
    for (const text of messages) {
      if (this.closed) return;
      const parsed = parseRpcMessage(text);
      if (!parsed.ok) return this.close(new Error(`${formatOvsdbTarget(this.target)}: ${parsed.error}`));
      this.dispatch(parsed.message);
    }
    if (error !== undefined) this.close(new Error(`${formatOvsdbTarget(this.target)}: ${error}`));
  }

  private dispatch(message: RpcMessage): void {
    switch (message.kind) {
      case 'request':
        // RFC 7047 4.1.11: either side may send echo; a server drops clients that do not answer.
        if (message.method === 'echo') this.socket.write(encodeResponse(message.id, message.params));
        else this.socket.write(encodeResponse(message.id, null, { error: 'not supported', details: `client does not serve ${message.method}` }));
        return;
      case 'notification':
        this.handlers.onNotification(message.method, message.params);
        return;
      case 'response': {
        const p = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
        if (p === undefined) return; // The reply to a request that timed out: nothing waits for it.
        this.pending.delete(message.id as number);
        clearTimeout(p.timer);
        if (message.error !== null) p.reject(new OvsdbRpcError(p.method, message.error));
        else p.resolve(message.result);
      }
    }
  }

  /** Liveness: a TCP peer can vanish without a FIN; echo it when quiet, close when it stays silent. */
  private probe(): void {
    const silentFor = Date.now() - this.lastHeard;
    if (silentFor >= 2 * this.probeIntervalMs) {
      this.close(new Error(`${formatOvsdbTarget(this.target)}: ovsdb-server silent for ${silentFor} ms`));
    } else if (silentFor >= this.probeIntervalMs && !this.probing) {
      this.probing = true;
      this.request('echo', []).catch(() => undefined).finally(() => { this.probing = false; });
    }
  }
}
