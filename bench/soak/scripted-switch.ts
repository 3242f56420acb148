// A switch over raw TCP whose answers the soak benchmark scripts: it handshakes as the bench
// emulator's switches do (replyTo), except for the requests a script answers itself (an endless
// multipart reply, silence), and can write any bytes, valid or not. `main` resolves when the
// controller sends its first message past the handshake (the resync's flow-stats request or a
// flow table write): the switch is in MAIN from the controller's side then.

import { connect, type Socket } from 'node:net';
import { decodeMessage, encodeMessage, Framer, type OfpMessage, type Port } from '../../controller/openflow/index.js';
import { emulatedPort, replyTo } from '../switch-emulator.js';

const HANDSHAKE_TYPES = new Set(['HELLO', 'FEATURES_REQUEST', 'SET_CONFIG', 'ECHO_REQUEST', 'GET_CONFIG_REQUEST']);
const isHandshake = (m: OfpMessage) => HANDSHAKE_TYPES.has(m.type) || (m.type === 'MULTIPART_REQUEST' && (m.body.kind === 'PORT_DESC' || m.body.kind === 'DESC'));

export const HELLO_13 = encodeMessage({ type: 'HELLO', xid: 1, version: 4, elements: [{ type: 'VERSIONBITMAP', versions: [4] }] });

export interface ScriptedSwitchOptions {
  readonly port: number;
  readonly dpid: bigint;
  /** Answers a request instead of the emulator: true = handled (or deliberately ignored). */
  readonly script?: (m: OfpMessage, sw: ScriptedSwitch) => boolean;
}

export class ScriptedSwitch {
  readonly socket: Socket;
  /** Resolves when the controller talked past the handshake; never rejects. */
  readonly main: Promise<boolean>;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  isClosed = false;
  private reachedMain = false;
  private readonly framer = new Framer();
  private onMain!: (ok: boolean) => void;
  private readonly ports: Port[];

  constructor(private readonly options: ScriptedSwitchOptions) {
    this.ports = [1, 2, 3, 4].map((n) => emulatedPort(options.dpid, n));
    this.main = new Promise((resolve) => { this.onMain = resolve; });
    this.socket = connect({ host: '127.0.0.1', port: options.port });
    this.socket.setNoDelay(true);
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => {
      this.isClosed = true;
      this.onMain(false);
      resolve();
    }));
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.write(HELLO_13);
  }

  get inMain(): boolean {
    return this.reachedMain && !this.isClosed;
  }

  write(bytes: Buffer | OfpMessage): boolean {
    if (this.isClosed) return false;
    return this.socket.write(Buffer.isBuffer(bytes) ? bytes : encodeMessage(bytes));
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.framer.push(chunk);
    for (const frame of frames) {
      const decoded = decodeMessage(frame);
      if (!decoded.ok) continue;
      const m = decoded.message;
      if (!this.reachedMain && !isHandshake(m)) {
        this.reachedMain = true;
        this.onMain(true);
      }
      if (this.options.script?.(m, this) === true) continue;
      const reply = replyTo(m, this.options.dpid, this.ports);
      if (reply !== undefined) this.write(reply);
    }
    if (error !== undefined) this.socket.destroy();
  }
}

/** What `p` resolves to, or `fallback` when it has not within `ms`. */
export function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms); })]).finally(() => clearTimeout(timer));
}
