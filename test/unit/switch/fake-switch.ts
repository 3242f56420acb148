// A scripted OpenFlow 1.3 switch over real TCP, for the connection tests: it answers the
// handshake like Open vSwitch, records what it receives, and can misbehave on request.

import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions as TlsConnectOptions } from 'node:tls';
import {
  decodeMessage, encodeMessage, Framer, OFPMPF_REPLY_MORE,
  type Desc, type MultipartReplyBody, type OfpMessage, type Port,
} from '../../../controller/openflow/index.js';
import { waitUntil } from '../../lib/wait.js';

export interface FakeSwitchOptions {
  readonly dpid?: bigint;
  readonly ports?: readonly Port[];
  /** Split the PORT_DESC reply into one part per port (exercises reassembly). */
  readonly splitPortDesc?: boolean;
  /** Our HELLO; default OF1.3 with a bitmap. */
  readonly hello?: OfpMessage | Buffer;
  /** Answer ECHO_REQUEST (default true). */
  readonly answerEcho?: boolean;
  /** Never answer anything at all, not even HELLO. */
  readonly mute?: boolean;
  /** Custom answer to a request; return undefined to use the default, [] for no answer. */
  readonly answer?: (message: OfpMessage) => (OfpMessage | Buffer)[] | undefined;
  /** Our DESC reply. */
  readonly desc?: Desc;
  /** Source address to connect from (127.0.0.2 is another loopback address). */
  readonly localAddress?: string;
  /** Connect over TLS with these options (key, cert, ca, ...). */
  readonly tls?: TlsConnectOptions;
  /** Destroy the socket right after receiving this many messages. */
  readonly dieAfter?: number;
}

export const DESC: Desc = { mfrDesc: 'Fake', hwDesc: 'fake switch', swDesc: '0.1', serialNum: 'none', dpDesc: 'fake' };

export function port(portNo: number, name = `p${portNo}`): Port {
  return {
    portNo, hwAddr: `02:00:00:00:00:${portNo.toString(16).padStart(2, '0')}`, name, config: 0, state: 0,
    curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
  };
}

export class FakeSwitch {
  readonly received: OfpMessage[] = [];
  /** Header version of each received message, in order. */
  readonly versions: number[] = [];
  readonly socket: Socket;
  closed = false;
  private readonly framer = new Framer();

  private constructor(socket: Socket, private readonly options: FakeSwitchOptions) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { this.closed = true; });
  }

  static async connect(port: number, options: FakeSwitchOptions = {}): Promise<FakeSwitch> {
    const socket = options.tls !== undefined
      // tls.connect hands net options such as localAddress on to the TCP socket.
      ? connectTls({ port, host: '127.0.0.1', ...options.tls, ...({ localAddress: options.localAddress } as TlsConnectOptions) })
      : connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    const ready = options.tls !== undefined ? 'secureConnect' : 'connect';
    await new Promise<void>((resolve, reject) => { socket.once(ready, resolve); socket.once('error', reject); });
    const fake = new FakeSwitch(socket, options);
    if (!options.mute) fake.send(options.hello ?? { type: 'HELLO', xid: 1, version: 4, elements: [{ type: 'VERSIONBITMAP', versions: [4] }] });
    return fake;
  }

  send(message: OfpMessage | Buffer): void {
    this.socket.write(Buffer.isBuffer(message) ? message : encodeMessage(message));
  }

  /** Received messages of one type. */
  of<T extends OfpMessage['type']>(type: T): Extract<OfpMessage, { type: T }>[] {
    return this.received.filter((m): m is Extract<OfpMessage, { type: T }> => m.type === type);
  }

  async waitFor<T extends OfpMessage['type']>(type: T, what = type): Promise<Extract<OfpMessage, { type: T }>> {
    await waitUntil(() => this.of(type).length > 0, { what: `the fake switch to receive ${what}`, timeoutMs: 3000 });
    return this.of(type)[0]!;
  }

  async waitClosed(): Promise<void> {
    await waitUntil(() => this.closed, { what: 'the controller to close the fake switch', timeoutMs: 3000 });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const { frames } = this.framer.push(chunk);
    for (const frame of frames) {
      this.versions.push(frame[0]!);
      // An old peer reads our ERROR in its own version: the body is the same, so decode it as 1.3.
      const asOf13 = Buffer.from(frame);
      asOf13[0] = 4;
      const result = decodeMessage(asOf13);
      if (!result.ok) throw new Error(`fake switch got an undecodable frame: ${result.error.reason}`);
      this.received.push(result.message);
      if (this.options.dieAfter !== undefined && this.received.length >= this.options.dieAfter) {
        this.destroy();
        return;
      }
      if (!this.options.mute) this.reply(result.message);
    }
  }

  private reply(message: OfpMessage): void {
    const custom = this.options.answer?.(message);
    const answers = custom ?? this.defaultAnswer(message);
    for (const answer of answers) this.send(answer);
  }

  private defaultAnswer(m: OfpMessage): (OfpMessage | Buffer)[] {
    const { xid } = m;
    switch (m.type) {
      case 'FEATURES_REQUEST':
        return [{ type: 'FEATURES_REPLY', xid, datapathId: this.options.dpid ?? 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 }];
      case 'BARRIER_REQUEST':
        return [{ type: 'BARRIER_REPLY', xid }];
      case 'ECHO_REQUEST':
        return this.options.answerEcho === false ? [] : [{ type: 'ECHO_REPLY', xid, data: m.data }];
      case 'MULTIPART_REQUEST':
        return this.multipartReply(m.xid, m.body.kind);
      default:
        return [];
    }
  }

  private multipartReply(xid: number, kind: string): OfpMessage[] {
    const part = (body: MultipartReplyBody, more = false): OfpMessage => ({ type: 'MULTIPART_REPLY', xid, flags: more ? OFPMPF_REPLY_MORE : 0, body });
    const ports = this.options.ports ?? [port(1), port(2)];
    switch (kind) {
      case 'PORT_DESC':
        if (!this.options.splitPortDesc) return [part({ kind: 'PORT_DESC', ports })];
        return ports.map((p, i) => part({ kind: 'PORT_DESC', ports: [p] }, i < ports.length - 1));
      case 'DESC':
        return [part({ kind: 'DESC', desc: this.options.desc ?? DESC })];
      case 'FLOW':
        return [part({ kind: 'FLOW', flows: [] })];
      case 'TABLE':
        return [part({ kind: 'TABLE', tables: [] })];
      default:
        return [];
    }
  }
}
